"""Fakes of the engine's I/O families, for tests: each subclasses its family's base."""

from __future__ import annotations

import socket
import time
from collections import deque

import mido
from pythonosc.osc_message import OscMessage

from engine.io.midi_base import MidiInPort, MidiOut
from engine.io.osc_base import Datagram, OscIn, OscOut

__all__ = ["RecordingOut", "FakeIn", "FakeOscIn", "RecordingOscOut"]


class RecordingOut(MidiOut):
    """Keeps every message with the wall time it was sent."""

    name = "recording"
    api = "fake"

    def __init__(self) -> None:
        self.messages: list[tuple[float, mido.Message]] = []
        self.closed = False

    def send(self, msg: mido.Message) -> None:
        self.messages.append((time.perf_counter(), msg))

    def close(self) -> None:
        self.closed = True


class FakeIn(MidiInPort):
    """A port a test pushes bytes into (from any thread, as rtmidi would)."""

    name = "fake"

    def send(self, data: list[int] | bytes, arrival: float | None = None) -> None:
        """Deliver ``data``, arrived at monotonic ``arrival`` (None: now)."""
        self.sink(self.index, data, time.perf_counter() if arrival is None else arrival)


class FakeOscIn(OscIn):
    """An OSC source a test pushes datagrams into; it wakes the loop as a socket would."""

    host, port = "fake", 0

    def __init__(self) -> None:
        self._queue: deque[Datagram] = deque()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)

    def push(self, data: bytes, sender: str = "127.0.0.1", arrival: float | None = None) -> None:
        """Deliver ``data``, arrived at monotonic ``arrival`` (None: now)."""
        stamp = time.perf_counter() if arrival is None else arrival
        self._queue.append(Datagram(data, sender, stamp))
        self._wake_w.send(b"!")

    def fileno(self) -> int:
        return self._wake_r.fileno()

    def receive(self) -> Datagram | None:
        if not self._queue:
            try:
                while self._wake_r.recv(4096):
                    pass
            except BlockingIOError:
                pass
            return None
        return self._queue.popleft()

    def close(self) -> None:
        self._wake_r.close()
        self._wake_w.close()


class RecordingOscOut(OscOut):
    """Keeps every OSC packet sent, decoded as ``(address, args)``."""

    target = ("fake", 0)

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[tuple[str, list]] = []

    def _send(self, dgram: bytes) -> None:
        msg = OscMessage(dgram)
        self.messages.append((msg.address, list(msg.params)))
