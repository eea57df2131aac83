"""Fakes of the engine's I/O families, for tests: each subclasses its family's base."""

from __future__ import annotations

import time
from collections import deque

import mido
import numpy as np
from pythonosc.osc_message import OscMessage

from engine.audio.synth import Synth
from engine.io.audio_base import AudioOut
from engine.io.link import LinkPeer, SessionView
from engine.io.midi_base import MidiInPort, MidiOut
from engine.io.osc_base import Datagram, OscIn, OscOut
from engine.runtime.wake import Wake

__all__ = [
    "RecordingOut",
    "FakeIn",
    "FakeOscIn",
    "RecordingOscOut",
    "ClickSynth",
    "HoldSynth",
    "PulledAudioOut",
    "FakeSession",
    "FakeLink",
]


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
        self._wake = Wake()

    def push(self, data: bytes, sender: str = "127.0.0.1", arrival: float | None = None) -> None:
        """Deliver ``data``, arrived at monotonic ``arrival`` (None: now)."""
        stamp = time.perf_counter() if arrival is None else arrival
        self._queue.append(Datagram(data, sender, stamp))
        self._wake.ring()

    def fileno(self) -> int:
        return self._wake.fileno()

    def receive(self) -> Datagram | None:
        if not self._queue:
            self._wake.clear()
            return None
        return self._queue.popleft()

    def close(self) -> None:
        self._wake.close()


class RecordingOscOut(OscOut):
    """Keeps every OSC packet sent, decoded as ``(address, args)``."""

    target = ("fake", 0)

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[tuple[str, list]] = []

    def _send(self, dgram: bytes) -> None:
        msg = OscMessage(dgram)
        self.messages.append((msg.address, list(msg.params)))


class ClickSynth(Synth):
    """One sample at ``vel / 127`` on the frame of each note-on, silence elsewhere: the
    onsets in a recording are exactly the frames the synth applied its note-ons at."""

    name = "click (test)"

    def __init__(self, rate: int = 48000) -> None:
        self.rate = rate
        self._click = 0.0

    def message(self, data) -> None:
        if len(data) == 3 and data[0] & 0xF0 == 0x90 and data[2] > 0:
            self._click += data[2] / 127

    def render(self, frames: int) -> np.ndarray:
        out = np.zeros((frames, 2), dtype=np.float32)
        if frames and self._click:
            out[0] = min(self._click, 1.0)
            self._click = 0.0
        return out


class HoldSynth(Synth):
    """A constant level while any note is held (no release): silence in a recording means
    every note was released, nothing else."""

    name = "hold (test)"

    def __init__(self, rate: int = 48000) -> None:
        self.rate = rate
        self.held: set[tuple[int, int]] = set()

    def message(self, data) -> None:
        if len(data) != 3:
            return
        kind, ch = data[0] & 0xF0, data[0] & 0x0F
        if kind == 0x90 and data[2] > 0:
            self.held.add((ch, data[1]))
        elif kind in (0x80, 0x90):
            self.held.discard((ch, data[1]))
        elif kind == 0xB0 and data[1] in (120, 123):
            self.held = {key for key in self.held if key[0] != ch}

    def render(self, frames: int) -> np.ndarray:
        return np.full((frames, 2), 0.25 if self.held else 0.0, dtype=np.float32)


class PulledAudioOut(AudioOut):
    """An audio output a test pulls blocks from, frame-clocked at ``frame0 = 0``."""

    kind = "fake"
    name = "pulled"

    def __init__(self, synth: Synth) -> None:
        super().__init__(synth)
        self.frame0 = 0
        self.position = 0

    def pull(self, frames: int) -> np.ndarray:
        block = self.render_block(self.position, frames, lambda t: round(t * self.rate))
        self.position += frames
        return block


class FakeSession:
    """A Link session's shared timeline: ``beat = beat0 + (us - us0) * tempo / 60e6``,
    on a clock the test moves (``now`` seconds; Link's microseconds are ``now + offset``)."""

    def __init__(self, tempo: float = 120.0, offset: float = 0.145) -> None:
        self.now = 0.0
        self.offset = offset  # Link's clock against the engine's logical seconds
        self.tempo, self.us0, self.beat0 = tempo, 0, 0.0
        self.playing = False
        self.peers: list[FakeLink] = []

    def beat_at(self, us: int) -> float:
        return self.beat0 + (us - self.us0) * self.tempo / 60e6

    def set_tempo(self, bpm: float, us: int) -> None:
        """A change that keeps the beat at ``us`` (as Link's does)."""
        self.beat0, self.us0, self.tempo = self.beat_at(us), us, bpm


class FakeLink(LinkPeer):
    """A peer of a :class:`FakeSession`; keeps what it was asked to do."""

    name = "fake-link"

    def __init__(self, session: FakeSession) -> None:
        self.session = session
        self.on = self.startstop = False
        self.tempos: list[float] = []
        self.playing_sent: list[bool] = []

    def enable(self, on: bool, startstop: bool) -> None:
        self.on, self.startstop = on, startstop
        if on and self not in self.session.peers:
            self.session.peers.append(self)

    def micros(self) -> int:
        return round((self.session.now + self.session.offset) * 1e6)

    def view(self, micros: int, quantum: float) -> SessionView:
        s = self.session
        return SessionView(micros, s.beat_at(micros), s.tempo, s.playing, len(s.peers) - 1)

    def set_tempo(self, bpm: float, micros: int) -> None:
        self.tempos.append(bpm)
        self.session.set_tempo(bpm, micros)

    def set_playing(self, playing: bool, micros: int) -> None:
        self.playing_sent.append(playing)
        self.session.playing = playing

    def close(self) -> None:
        self.on = False
        if self in self.session.peers:
            self.session.peers.remove(self)
