"""The language's requests to the host: ``save``, ``record``, ``load`` and ``quit``.

They do no I/O here: ``save``/``record``/``quit`` append a host action, ``load`` asks the
``read_file`` callable the host gave the interpreter.

A session file is text from anyone: it may change the network and load the session files
beside it, nothing else. ``save``, ``record`` and ``quit`` are the performer's alone and
are refused in a file (loaded, watched or started from); a file's ``load`` takes only a
relative ``.neu`` path without ``..`` (read from the session's folder), and ``load``
anywhere runs only ``.neu`` files.
"""

from __future__ import annotations

import os

from livecode.language.builtins import REQUIRED, bind_args, fn, with_arg
from livecode.language.errors import BadType, HostError, LimitExceeded, LivecodeError
from livecode.language.values import type_name

__all__ = ["HOST_COMMANDS", "path_arg"]


def _performer_only(ctx, name: str, what: str) -> None:
    """Refuse ``name()`` unless the performer typed it at the prompt."""
    source = ctx.in_file()
    if source is not None:
        raise HostError(
            f"{name}() is refused in a session file ({source}): only the performer, at the "
            f"prompt, may {what}"
        )


def _confined(path: str) -> bool:
    """A path a session file may load: relative, ``.neu``, never above its own folder."""
    parts = path.replace("\\", "/").split("/")
    return (
        path.lower().endswith(".neu")
        and not os.path.isabs(path)
        and not path.startswith("~")
        and ".." not in parts
        and ":" not in path  # a Windows drive
    )


def path_arg(name: str, args, kwargs) -> str:
    """The one ``path`` argument of ``name()``: a non-empty str."""
    (path,) = bind_args(name, [("path", REQUIRED)], args, kwargs)
    if not isinstance(path, str) or not path.strip():
        raise with_arg(BadType(f"{name}() needs a file name as a str, got {type_name(path)}"), 0)
    return path


@fn("save", "save(path)", "write the network as a session file the host can load again")
def _save(ctx, args, kwargs):
    _performer_only(ctx, "save", "write files")
    ctx.actions.append(("save", path_arg("save", args, kwargs)))
    return None


@fn(
    "record",
    "record(path)",
    "record the performance (code, controllers, every note) into a "
    'SQLite file: record("gig.sqlite"); record(False) stops',
)
def _record(ctx, args, kwargs):
    (path,) = bind_args("record", [("path", REQUIRED)], args, kwargs)
    _performer_only(ctx, "record", "start or stop a recording")
    if path is False:
        ctx.actions.append(("record", None))
        return None
    ctx.actions.append(("record", path_arg("record", [path], {})))
    return None


@fn("load", "load(path)", "run a session file as part of this block")
def _load(ctx, args, kwargs):
    path = path_arg("load", args, kwargs)
    if ctx.read_file is None:
        raise with_arg(HostError("load() is not available here: this host reads no files"), 0)
    source = ctx.in_file()
    if source is not None and not _confined(path):
        raise with_arg(
            HostError(
                f"a session file may load only .neu files by a relative path that stays "
                f"inside the session's folder; {source} asked for {path!r}"
            ),
            0,
        )
    if ctx.load_depth >= ctx.budget.limits.load_depth:
        raise LimitExceeded(f"load() may nest at most {ctx.budget.limits.load_depth} deep")
    try:
        text = ctx.read_file(path)
    except LivecodeError:
        raise
    except (OSError, UnicodeError) as e:
        raise with_arg(
            HostError(
                f"cannot read {path!r}: {e.strerror or e}"
                if isinstance(e, OSError)
                else f"cannot read {path!r}: {e}"
            ),
            0,
        ) from None
    if not isinstance(text, str):
        raise HostError(f"the host gave {type_name(text)} for {path!r}, not text")
    if not path.lower().endswith(".neu"):
        # checked after reading, so a FIFO is still named as one; never parsed, so no line
        # of /etc/passwd ends up in an error message (or in a recording of the refusal)
        raise with_arg(HostError(f"load() runs session files (*.neu); {path!r} is not one"), 0)
    ctx.load_depth += 1
    try:
        ctx.run_source(text, path)
    finally:
        ctx.load_depth -= 1
    return None


@fn("quit", "quit()", "leave the REPL")
def _quit(ctx, args, kwargs):
    bind_args("quit", [], args, kwargs)
    _performer_only(ctx, "quit", "end the performance")
    ctx.actions.append(("quit",))
    return None


HOST_COMMANDS = (_save, _load, _record, _quit)
