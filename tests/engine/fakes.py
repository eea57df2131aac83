"""Fakes of the engine's I/O families, for tests: each subclasses its family's base."""

from __future__ import annotations

import time

import mido

from engine.io.midi_base import MidiInPort, MidiOut

__all__ = ["RecordingOut", "FakeIn"]


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

    def send(self, data: list[int] | bytes) -> None:
        self.sink(self.index, data)
