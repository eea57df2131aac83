"""Reading session files (``*.neu``): language text turned into one batch."""

from __future__ import annotations

import os

from engine.protocol import Batch
from livecode.language.errors import LivecodeError
from livecode.language.interpreter import Interpreter

__all__ = ["FileReader", "file_reader", "load_session", "SessionFileError"]

MAX_SESSION_BYTES = 4 * 1024 * 1024


class SessionFileError(LivecodeError, OSError):
    """A session file could not be read."""

    def headline(self) -> str:
        # the message names the file already; "<repl>: cannot read x.neu" would name two
        return super().headline() if self.line else self.message


class FileReader:
    """The interpreter's ``read_file``: paths relative to ``base_dir``, size-limited.

    Calling it reads a session file's text; :meth:`read_bytes` reads a MIDI file (markov).
    """

    def __init__(self, base_dir: str) -> None:
        self.base_dir = base_dir

    def _open(self, path: str):
        full = path if os.path.isabs(path) else os.path.join(self.base_dir, path)
        if not os.path.exists(full):
            where = "" if os.path.isabs(path) else f" in {self.base_dir}"
            raise SessionFileError(f"cannot read {path}: no such file{where}")
        if not os.path.isfile(full):  # a FIFO or /dev/zero would block or never end
            raise SessionFileError(f"cannot read {path}: not a regular file")
        return full

    def __call__(self, path: str) -> str:
        full = self._open(path)
        try:
            with open(full, encoding="utf-8") as f:
                text = f.read(MAX_SESSION_BYTES + 1)  # bounded even if the file grows
        except OSError as exc:
            raise SessionFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise SessionFileError(f"cannot read {path}: not UTF-8 text ({exc.reason})") from exc
        if len(text) > MAX_SESSION_BYTES:
            raise SessionFileError(f"{path}: session files are at most 4 MiB")
        return text

    def read_bytes(self, path: str) -> bytes:
        full = self._open(path)
        try:
            with open(full, "rb") as f:
                data = f.read(MAX_SESSION_BYTES + 1)
        except OSError as exc:
            raise SessionFileError(f"cannot read {path}: {exc}") from exc
        if len(data) > MAX_SESSION_BYTES:
            raise SessionFileError(f"{path}: files are read up to 4 MiB")
        return data


def file_reader(base_dir: str) -> FileReader:
    """A ``read_file`` for the interpreter: paths relative to ``base_dir``, size-limited."""
    return FileReader(base_dir)


def load_session(
    path: str, interpreter: Interpreter | None = None, source: str = "file"
) -> tuple[Interpreter, Batch]:
    """Interpret the session at ``path``; return the interpreter and the batch it made.

    Raises :class:`LivecodeError` (with position) if the file has any error.
    """
    base = os.path.dirname(os.path.abspath(path))
    interp = interpreter or Interpreter(read_file=file_reader(base))
    text = file_reader(os.getcwd())(path)
    result = interp.run(text, filename=path)
    return interp, Batch(tuple(result.ops), source=source, text=text)
