"""PLACEHOLDER (branch wt-s2 only): the synth factory, replaced at merge by the real one.

The real factory (tinysoundfont, SoundFont finding, built-in numpy voices) comes from the
synthesizer work of issue 12; this one keeps its signature and gives a small sine voice
per note, with a short attack and release so a note never clicks, so the live audio
outputs can be built and tested before it lands.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.audio.synth import Synth

__all__ = ["open_synth", "SineSynth"]

RELEASE_SECONDS = 0.02  # a note fades out over this much after its note-off
ATTACK_SECONDS = 0.002


class SineSynth(Synth):
    """One sine per sounding (channel, note); CC 120/123 release every voice."""

    name = "sine (placeholder)"

    def __init__(self, rate: int = 48000) -> None:
        self.rate = rate
        # (ch, note) -> [phase (cycles), gain now, gain target, frequency]
        self._voices: dict[tuple[int, int], list[float]] = {}
        self._step = 1.0 / (RELEASE_SECONDS * rate)

    def message(self, data: Sequence[int]) -> None:
        if len(data) < 3:
            return
        kind, ch = data[0] & 0xF0, data[0] & 0x0F
        if kind == 0x90 and data[2] > 0:
            voice = self._voices.get((ch, data[1]))
            freq = 440.0 * 2 ** ((data[1] - 69) / 12)
            gain = 0.15 * data[2] / 127
            if voice is None:
                self._voices[(ch, data[1])] = [0.0, 0.0, gain, freq]
            else:
                voice[2] = gain
        elif kind == 0x80 or kind == 0x90:
            voice = self._voices.get((ch, data[1]))
            if voice is not None:
                voice[2] = 0.0
        elif kind == 0xB0 and data[1] in (120, 123):
            for key, voice in self._voices.items():
                if key[0] == ch:
                    voice[2] = 0.0

    def render(self, frames: int) -> np.ndarray:
        out = np.zeros(frames, dtype=np.float64)
        n = np.arange(frames, dtype=np.float64)
        gone = []
        for key, voice in self._voices.items():
            phase, gain, target, freq = voice
            # a linear ramp towards the target: ATTACK up, RELEASE down (no click)
            step = self._step if target < gain else 1.0 / (ATTACK_SECONDS * self.rate)
            lo, hi = min(gain, target), max(gain, target)
            ramp = np.clip(gain + np.sign(target - gain) * step * (n + 1), lo, hi)
            out += ramp * np.sin(2 * np.pi * (phase + freq * n / self.rate))
            voice[0] = (phase + freq * frames / self.rate) % 1.0
            voice[1] = float(ramp[-1]) if frames else gain
            if voice[1] == 0.0 and target == 0.0:
                gone.append(key)
        for key in gone:
            del self._voices[key]
        stereo = np.empty((frames, 2), dtype=np.float32)
        stereo[:, 0] = stereo[:, 1] = out
        return stereo


def open_synth(soundfont: str | None = None, rate: int = 48000) -> tuple[Synth, str]:
    """A synth and the one line that says what it is (placeholder: always the sine)."""
    return SineSynth(rate), f"synth: {SineSynth.name} at {rate} Hz"
