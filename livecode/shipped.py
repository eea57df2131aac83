"""The example sessions shipped inside the package: ``livecode/sessions/*.neu``.

They are package data, found through :mod:`importlib.resources`, so ``livecode bench``
and ``livecode demo`` work from an installed wheel as from a checkout (where
``sessions/`` at the root is a link to the same folder, for the README's commands).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

__all__ = ["shipped_sessions", "session_path", "resolve_session"]


def _folder() -> Path:
    # pip installs a package as plain files, never zipped: the resource is a real directory,
    # and the engine and --watch need a path, not a stream.
    return Path(str(resources.files("livecode").joinpath("sessions")))


def shipped_sessions() -> dict[str, Path]:
    """Each shipped session's name (``"demo"``) and file, sorted by name."""
    return {p.stem: p for p in sorted(_folder().glob("*.neu"))}


def session_path(name: str) -> Path:
    """The shipped session called ``name`` (``"demo"`` or ``"demo.neu"``).

    Raises :class:`FileNotFoundError` naming the shipped sessions if there is none.
    """
    stem = name[: -len(".neu")] if name.endswith(".neu") else name
    found = shipped_sessions()
    if stem not in found:
        raise FileNotFoundError(
            f"no shipped session is called {name!r}; there are: {', '.join(found) or 'none'}"
        )
    return found[stem]


def resolve_session(arg: str) -> str:
    """What a command should open for ``arg``: the file ``arg`` if it exists or is a path,
    else the shipped session of that name, else ``arg`` unchanged (so the usual "cannot
    read" message names what the performer typed)."""
    if os.path.exists(arg) or os.sep in arg or "/" in arg:
        return arg
    try:
        return str(session_path(arg))
    except FileNotFoundError:
        return arg
