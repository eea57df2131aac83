"""The OSC port bases: a source of datagrams the engine's loop waits on, and a destination.

The server (:mod:`engine.io.osc`) parses, routes and applies; it reads datagrams from an
:class:`OscIn` and sends feedback to an :class:`OscOut`. The UDP backends are in
:mod:`engine.io.osc_udp`; fakes for tests in ``tests/engine/fakes.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from pythonosc.osc_message_builder import OscMessageBuilder

__all__ = ["Datagram", "OscIn", "OscOut"]


class Datagram(NamedTuple):
    """One OSC packet as received: its bytes, the sender's IP, and when it arrived."""

    data: bytes
    sender: str
    arrival: float  # a perf_counter reading


class OscIn:
    """A source of OSC datagrams. The loop waits on :meth:`fileno` and then calls
    :meth:`receive` until it returns None (or the server's time slice is over)."""

    host = ""
    port = 0

    def fileno(self) -> int:
        """A file descriptor that is readable while datagrams are pending."""
        raise NotImplementedError

    def receive(self) -> Datagram | None:
        """The next pending datagram, or None when none is left; never blocks."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop receiving."""


class OscOut:
    """A destination for OSC messages; best effort, never blocking the loop.

    :meth:`send` encodes and counts; backends override only :meth:`_send`, which sends
    one encoded packet and raises ``OSError`` when it cannot (counted, never raised).
    """

    target: tuple[str, int] = ("", 0)

    def __init__(self) -> None:
        self.sent = 0
        self.errors = 0

    def send(self, address: str, args: Iterable[Any] = ()) -> None:
        builder = OscMessageBuilder(address)
        for a in args:
            builder.add_arg(a)
        try:
            self._send(builder.build().dgram)
            self.sent += 1
        except OSError:
            self.errors += 1  # full buffer or nobody there: feedback is best effort

    def _send(self, dgram: bytes) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Stop sending."""
