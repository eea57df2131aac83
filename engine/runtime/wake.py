"""Waking the engine's loop from another thread (a MIDI port's): a socket pair the loop's
selector watches. One byte is enough; a full socket means the loop is awake already."""

from __future__ import annotations

import socket

__all__ = ["Wake"]


class Wake:
    """``ring()`` from any thread; the loop waits on :meth:`fileno` and calls :meth:`clear`."""

    def __init__(self) -> None:
        self._r, self._w = socket.socketpair()
        self._r.setblocking(False)
        self._w.setblocking(False)

    def fileno(self) -> int:
        return self._r.fileno()

    def ring(self) -> None:
        try:
            self._w.send(b"!")
        except OSError:
            pass  # the socket is full: the loop is already awake

    def clear(self) -> None:
        try:
            while self._r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError, OSError):
            pass

    def close(self) -> None:
        self._r.close()
        self._w.close()
