"""Built-in voices: a small General MIDI stand-in computed with numpy, so a bare install is
never silent.

Three families: a drum kit on channel 10 (kick, snare, clap, hats, toms, cymbals by the GM
drum map), a bass for the GM bass programs (33..40) and a lead for everything else.
Drums are one-shots rendered once per note and kept; bass and lead are a few harmonics
under an attack/decay/release envelope, so a note-off fades instead of clicking. Every
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
_MAX_VOICES = 64  # the oldest voice goes when a 65th starts
_BASS_PROGRAMS = range(33, 41)  # GM 1-based: acoustic bass .. synth bass 2
_RELEASE = 0.04  # seconds: a note-off fades this fast (no click)
_CC_ALL_SOUND_OFF, _CC_ALL_NOTES_OFF, _CC_VOLUME, _CC_PAN = 120, 123, 7, 10


@dataclass
class _Voice:
    ch: int
    note: int
    amp: float
    left: float
    right: float
    table: np.ndarray | None = None  # drums: the one-shot, played from pos
    pos: int = 0
    freq: float = 0.0  # tonal: Hz
    harmonics: tuple[float, ...] = ()
    decay: float = 0.0  # seconds to fall to the sustain level
    sustain: float = 1.0
    age: int = 0  # frames since note-on
    released: int = -1  # age at note-off, -1 while held
    done: bool = False


class BuiltinVoices(Synth):
    """The fallback synth: drums, bass, lead; GM program changes pick bass or lead."""

    name = "built-in voices"

    def __init__(self, rate: int = 48000) -> None:
        self.rate = rate
        self._voices: list[_Voice] = []
        self._programs = [1] * 16  # 1-based GM programs per channel
        self._volume = [100] * 16
        self._pan = [64] * 16
        self._drums: dict[int, np.ndarray] = {}

    # --- messages ----------------------------------------------------------------------------
    def message(self, data: Sequence[int]) -> None:
        if not data:
            return
        kind, ch = data[0] & 0xF0, data[0] & 0x0F
        if kind == 0x90 and len(data) >= 3 and data[2] > 0:
            self._note_on(ch, data[1], data[2])
        elif kind in (0x80, 0x90) and len(data) >= 2:
            self._note_off(ch, data[1])
        elif kind == 0xC0 and len(data) >= 2:
            self._programs[ch] = data[1] + 1
        elif kind == 0xB0 and len(data) >= 3:
            cc, value = data[1], data[2]
            if cc == _CC_ALL_SOUND_OFF:
                self._voices = [v for v in self._voices if v.ch != ch]
            elif cc == _CC_ALL_NOTES_OFF:
                for v in self._voices:
                    if v.ch == ch:
                        self._release(v)
            elif cc == _CC_VOLUME:
                self._volume[ch] = value
            elif cc == _CC_PAN:
                self._pan[ch] = value

    def _note_on(self, ch: int, note: int, vel: int) -> None:
        amp = _GAIN * (vel / 127.0) ** 1.5 * (self._volume[ch] / 100.0) ** 2
        pan = self._pan[ch] / 127.0
        left, right = np.cos(pan * np.pi / 2) * 1.414, np.sin(pan * np.pi / 2) * 1.414
        if ch == DRUM_CH - 1:
            v = _Voice(ch, note, amp, left, right, table=self._drum(note))
        else:
            freq = 440.0 * 2.0 ** ((note - 69) / 12.0)
            if self._programs[ch] in _BASS_PROGRAMS:  # round, plucked
                v = _Voice(ch, note, amp * 1.3, left, right, freq=freq,
                           harmonics=(1.0, 0.5, 0.25, 0.12), decay=0.35, sustain=0.35)  # fmt: skip
            else:  # bright, sustained (a band-limited saw)
                n = max(1, min(8, int(self.rate / 2.5 / freq)))
                v = _Voice(ch, note, amp * 0.8, left, right, freq=freq,
                           harmonics=tuple(1.0 / k for k in range(1, n + 1)),
                           decay=0.25, sustain=0.6)  # fmt: skip
        self._voices.append(v)
        if len(self._voices) > _MAX_VOICES:
            del self._voices[0]

    def _note_off(self, ch: int, note: int) -> None:
        for v in self._voices:
            if v.ch == ch and v.note == note and v.table is None:
                self._release(v)

    @staticmethod
    def _release(v: _Voice) -> None:
        if v.table is not None:  # a drum hit fades fast on all-notes-off
            v.table = v.table[: v.pos + 64] * np.linspace(1, 0, len(v.table[: v.pos + 64]))
        elif v.released < 0:
            v.released = v.age

    # --- rendering ---------------------------------------------------------------------------
    def render(self, frames: int) -> np.ndarray:
        mono_l = np.zeros(frames, dtype=np.float64)
        mono_r = np.zeros(frames, dtype=np.float64)
        rate = self.rate
        for v in self._voices:
            if v.table is not None:
                chunk = v.table[v.pos : v.pos + frames]
                v.pos += frames
                v.done = v.pos >= len(v.table)
                sig = np.zeros(frames)
                sig[: len(chunk)] = chunk
            else:
                sig = self._tonal(v, frames, rate)
            mono_l += sig * (v.amp * v.left)
            mono_r += sig * (v.amp * v.right)
        if any(v.done for v in self._voices):
            self._voices = [v for v in self._voices if not v.done]
        return np.stack([mono_l, mono_r], axis=1).astype(np.float32)

    @staticmethod
    def _tonal(v: _Voice, frames: int, rate: int) -> np.ndarray:
        t = (v.age + np.arange(frames)) / rate
        x = 2 * np.pi * v.freq * t
        sig = np.zeros(frames)
        for k, h in enumerate(v.harmonics, start=1):
            sig += h * np.sin(k * x)
        env = np.minimum(1.0, t / 0.003) * (v.sustain + (1 - v.sustain) * np.exp(-t / v.decay))
        if v.released >= 0:
            since = np.maximum(0.0, t - v.released / rate)
            env *= np.exp(-since / (_RELEASE / 4))
            v.done = since[-1] > _RELEASE * 2
        v.age += frames
        return sig * env

    def _drum(self, note: int) -> np.ndarray:
        table = self._drums.get(note)
        if table is None:
            table = self._drums[note] = _drum_sound(note, self.rate)
        return table


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
