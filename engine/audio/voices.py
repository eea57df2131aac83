"""Built-in voices: a small General MIDI stand-in computed with numpy, so a bare install is
never silent.

Three families: a drum kit on channel 10 (kick, snare, clap, hats, toms, cymbals by the GM
drum map), a bass for the GM bass programs (33..40) and a lead for everything else.
Drums are one-shots rendered once per note and kept; bass and lead are wavetables (a few
harmonics) under an attack/decay/release envelope, so a note-off fades instead of clicking. Every
voice is deterministic (the drums' noise has a fixed seed): an offline render is the same
bytes every time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.audio.synth import Synth
from engine.model.gm import DRUM_CH

__all__ = ["BuiltinVoices"]

_GAIN = 0.22  # one voice at full velocity; many voices together stay under 1 mostly
_MAX_TONAL = 64  # held notes; the oldest goes when a 65th starts
_MAX_DRUMS = 32  # drum hits sounding at once
_BASS_PROGRAMS = range(33, 41)  # GM 1-based: acoustic bass .. synth bass 2
_RELEASE = 0.04  # seconds: a note-off fades this fast (no click)
_ATTACK = 0.003
_SUB = 256  # frames per envelope step: the envelope is linear within one
_TABLE = 4096  # samples in one cycle of a wavetable
_CC_ALL_SOUND_OFF, _CC_ALL_NOTES_OFF, _CC_VOLUME, _CC_PAN = 120, 123, 7, 10

# one cycle of each tonal timbre: bass (round), lead (a band-limited saw), and a sine for
# lead notes so high that the saw's harmonics would alias
_CYCLE = np.arange(_TABLE) / _TABLE
_TABLES = np.stack(
    [
        sum(h * np.sin(2 * np.pi * k * _CYCLE) for k, h in enumerate((1.0, 0.5, 0.25, 0.12), 1)),
        sum(np.sin(2 * np.pi * k * _CYCLE) / k for k in range(1, 9)),
        np.sin(2 * np.pi * _CYCLE),
    ]
).astype(np.float64)
_BASS, _LEAD, _SINE = 0, 1, 2
# per timbre: gain, decay (s) to the sustain level, sustain level
_SHAPE = {_BASS: (1.3, 0.35, 0.35), _LEAD: (0.55, 0.25, 0.6), _SINE: (0.55, 0.25, 0.6)}


@dataclass
class _Hit:
    """A drum one-shot playing from ``pos``."""

    ch: int
    table: np.ndarray
    left: float
    right: float
    pos: int = 0


class BuiltinVoices(Synth):
    """The fallback synth: drums, bass, lead; GM program changes pick bass or lead.

    Tonal notes are kept as arrays (one slot per note) and rendered together from
    wavetables, so the cost grows little with the number of notes.
    """

    name = "built-in voices"

    def __init__(self, rate: int = 48000) -> None:
        self.rate = rate
        self._programs = [1] * 16  # 1-based GM programs per channel
        self._volume = [100] * 16
        self._pan = [64] * 16
        self._drums: dict[int, np.ndarray] = {}
        self._hits: list[_Hit] = []
        n = _MAX_TONAL
        self._on = np.zeros(n, dtype=bool)
        self._ch = np.zeros(n, dtype=np.int64)
        self._note = np.zeros(n, dtype=np.int64)
        self._kind = np.zeros(n, dtype=np.int64)
        self._inc = np.zeros(n)  # cycles per frame
        self._phase = np.zeros(n)  # cycles
        self._age = np.zeros(n, dtype=np.int64)  # frames since note-on
        self._released = np.full(n, -1, dtype=np.int64)  # age at note-off, -1 while held
        self._left = np.zeros(n)
        self._right = np.zeros(n)
        self._decay = np.ones(n)
        self._sustain = np.ones(n)

    # --- messages ----------------------------------------------------------------------------
    def message(self, data: Sequence[int]) -> None:
        if not data:
            return
        kind, ch = data[0] & 0xF0, data[0] & 0x0F
        if len(data) >= 3 and kind == 0x90 and 0 < data[2] < 128 and data[1] < 128:
            self._note_on(ch, data[1], data[2])
        elif kind in (0x80, 0x90) and len(data) >= 2:
            self._note_off(ch, data[1])
        elif kind == 0xC0 and len(data) >= 2:
            self._programs[ch] = (data[1] & 0x7F) + 1
        elif kind == 0xB0 and len(data) >= 3:
            cc, value = data[1], data[2] & 0x7F
            if cc == _CC_ALL_SOUND_OFF:
                self._hits = [h for h in self._hits if h.ch != ch]
                self._on &= self._ch != ch
            elif cc == _CC_ALL_NOTES_OFF:
                for h in self._hits:
                    if h.ch == ch:
                        _fade_out(h)
                held = self._on & (self._ch == ch) & (self._released < 0)
                self._released[held] = self._age[held]
            elif cc == _CC_VOLUME:
                self._volume[ch] = value
            elif cc == _CC_PAN:
                self._pan[ch] = value

    def _gains(self, ch: int, vel: int) -> tuple[float, float]:
        amp = _GAIN * (vel / 127.0) ** 1.5 * (self._volume[ch] / 100.0) ** 2
        pan = self._pan[ch] / 127.0
        return amp * np.cos(pan * np.pi / 2) * 1.414, amp * np.sin(pan * np.pi / 2) * 1.414

    def _note_on(self, ch: int, note: int, vel: int) -> None:
        left, right = self._gains(ch, vel)
        if ch == DRUM_CH - 1:
            self._hits.append(_Hit(ch, self._drum(note), left, right))
            if len(self._hits) > _MAX_DRUMS:
                del self._hits[0]
            return
        freq = 440.0 * 2.0 ** ((note - 69) / 12.0)
        if self._programs[ch] in _BASS_PROGRAMS:
            kind = _BASS
        else:
            kind = _LEAD if freq * 8 < self.rate / 2.2 else _SINE
        free = np.flatnonzero(~self._on)
        slot = int(free[0]) if len(free) else int(np.argmax(self._age))  # the oldest goes
        gain, decay, sustain = _SHAPE[kind]
        self._on[slot] = True
        self._ch[slot], self._note[slot], self._kind[slot] = ch, note, kind
        self._inc[slot] = freq / self.rate
        self._phase[slot] = 0.0
        self._age[slot] = 0
        self._released[slot] = -1
        self._left[slot], self._right[slot] = left * gain, right * gain
        self._decay[slot], self._sustain[slot] = decay, sustain

    def _note_off(self, ch: int, note: int) -> None:
        held = self._on & (self._ch == ch) & (self._note == note) & (self._released < 0)
        self._released[held] = self._age[held]

    # --- rendering ---------------------------------------------------------------------------
    def render(self, frames: int) -> np.ndarray:
        out = np.zeros((frames, 2), dtype=np.float64)
        for pos in range(0, frames, _SUB):
            n = min(_SUB, frames - pos)
            self._render_tonal(out[pos : pos + n], n)
        self._render_hits(out, frames)
        return out.astype(np.float32)

    def _render_tonal(self, out: np.ndarray, n: int) -> None:
        slots = np.flatnonzero(self._on)
        if not len(slots):
            return
        ramp = np.arange(n)
        phase = self._phase[slots]
        inc = self._inc[slots]
        cycles = phase[:, None] + inc[:, None] * ramp
        index = (cycles * _TABLE).astype(np.int64) & (_TABLE - 1)
        wave = _TABLES[self._kind[slots][:, None], index]
        self._phase[slots] = (phase + inc * n) % 1.0
        age = self._age[slots]
        start, end = self._envelope(slots, age), self._envelope(slots, age + n)
        wave *= start[:, None] + (end - start)[:, None] * (ramp / n)
        out[:, 0] += self._left[slots] @ wave
        out[:, 1] += self._right[slots] @ wave
        self._age[slots] = age + n
        released = self._released[slots]
        gone = (released >= 0) & (age + n - released > 2 * _RELEASE * self.rate)
        self._on[slots[gone]] = False

    def _envelope(self, slots: np.ndarray, age: np.ndarray) -> np.ndarray:
        t = age / self.rate
        sustain = self._sustain[slots]
        env = np.minimum(1.0, t / _ATTACK) * (
            sustain + (1 - sustain) * np.exp(-t / self._decay[slots])
        )
        released = self._released[slots]
        since = np.where(released >= 0, np.maximum(0, age - released) / self.rate, 0.0)
        return env * np.exp(-since / (_RELEASE / 4))

    def _render_hits(self, out: np.ndarray, frames: int) -> None:
        for h in self._hits:
            chunk = h.table[h.pos : h.pos + frames]
            out[: len(chunk), 0] += chunk * h.left
            out[: len(chunk), 1] += chunk * h.right
            h.pos += frames
        if any(h.pos >= len(h.table) for h in self._hits):
            self._hits = [h for h in self._hits if h.pos < len(h.table)]

    def _drum(self, note: int) -> np.ndarray:
        table = self._drums.get(note)
        if table is None:
            table = self._drums[note] = _drum_sound(note, self.rate)
        return table


def _fade_out(h: _Hit) -> None:
    """A drum hit ends within 64 frames (all notes off), fading so it does not click."""
    rest = h.table[h.pos : h.pos + 64]
    h.table = np.concatenate([h.table[: h.pos], rest * np.linspace(1.0, 0.0, len(rest))])


def _drum_sound(note: int, rate: int) -> np.ndarray:
    """A one-shot for a GM drum note: a sharp attack at sample 0 (onsets are exact)."""
    rng = np.random.default_rng(note)  # fixed per note: renders are byte-identical
    if note in (35, 36):  # kick: a falling sine
        t = np.arange(int(0.35 * rate)) / rate
        freq = 50 + 110 * np.exp(-t / 0.03)
        return np.sin(2 * np.pi * np.cumsum(freq) / rate) * np.exp(-t / 0.12) * 1.6
    if note in (37, 75, 76, 77):  # side stick, claves, wood blocks: a click that starts at its
        t = np.arange(int(0.06 * rate)) / rate  # peak (the test sound for exact onsets)
        pitch = {37: 1700.0, 75: 2500.0, 76: 1200.0, 77: 900.0}[note]
        return np.cos(2 * np.pi * pitch * t) * np.exp(-t / 0.008) * 1.2
    if note in (41, 43, 45, 47, 48, 50):  # toms
        t = np.arange(int(0.4 * rate)) / rate
        base = 80 + (note - 41) * 12
        freq = base * (1 + 0.5 * np.exp(-t / 0.04))
        return np.sin(2 * np.pi * np.cumsum(freq) / rate) * np.exp(-t / 0.15) * 1.3
    if note in (42, 44, 46, 49, 51, 52, 53, 55, 57, 59):  # hats and cymbals: high noise
        length = {42: 0.06, 44: 0.08, 46: 0.35}.get(note, 0.9)
        t = np.arange(int(length * rate)) / rate
        noise = rng.uniform(-1, 1, len(t))
        noise = np.diff(noise, prepend=0.0)  # brighter: high-passed
        return noise * np.exp(-t / (length / 4)) * 0.6
    # snares, claps, rims and the rest: a tone and noise
    t = np.arange(int(0.25 * rate)) / rate
    tone = np.sin(2 * np.pi * 190 * t) * np.exp(-t / 0.04)
    noise = rng.uniform(-1, 1, len(t)) * np.exp(-t / 0.06)
    return (0.6 * tone + 0.8 * noise) * 1.1
