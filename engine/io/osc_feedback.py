"""OSC out: the feedback target (``--osc-feedback HOST:PORT``) and address helpers.

:class:`Feedback` sends without ever blocking the engine's loop; a full buffer or a
target that is not listening only counts an error (feedback is best effort).
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from typing import Any

from pythonosc.osc_message_builder import OscMessageBuilder

from engine import protocol as P
from engine.errors import OscError

__all__ = ["Feedback", "OscError", "parse_hostport", "resolve"]


def parse_hostport(text: str, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """``"HOST:PORT"`` (or ``"PORT"``) as ``(host, port)``; OscError if it is not one."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = default_host, text
    try:
        number = int(port)
    except ValueError:
        raise OscError(f"an OSC target is HOST:PORT, e.g. 127.0.0.1:9000, got {text!r}") from None
    if not 1 <= number <= 65535:
        raise OscError(f"a UDP port must be in range 1..65535, got {number}")
    return host.strip("[]") or default_host, number


def resolve(host: str, port: int) -> tuple[int, tuple]:
    try:
        info = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except (OSError, UnicodeError) as exc:
        raise OscError(f"cannot resolve OSC host {host!r}: {exc}") from None
    family, _, _, _, sockaddr = info[0]
    return family, sockaddr


class Feedback:
    """Sends OSC to one target (TouchOSC listens on 9000) without ever blocking the loop."""

    def __init__(self, host: str, port: int) -> None:
        family, self.target = resolve(host, port)
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.sent = 0
        self.errors = 0

    def send(self, address: str, args: Iterable[Any] = ()) -> None:
        builder = OscMessageBuilder(address)
        for a in args:
            builder.add_arg(a)
        try:
            self.sock.sendto(builder.build().dgram, self.target)
            self.sent += 1
        except OSError:
            self.errors += 1  # full buffer or nobody there: feedback is best effort

    def fired(self, events: list[P.Event]) -> None:
        """An engine tap: ``/fired name note vel`` for each note-on."""
        for ev in events:
            if ev.type == "note_on":
                self.send("/fired", (ev.neuron, ev.note, ev.vel))

    def close(self) -> None:
        self.sock.close()
