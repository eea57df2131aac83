"""Helpers for the sound tests: the real SoundFont (Debian's timgm6mb-soundfont, installed by
.ci/run), reading WAV files, and an onset detector written for a percussive test sound."""

from __future__ import annotations

import os
import wave
from pathlib import Path

import numpy as np
import pytest

#: .ci/run sets it: tests that need the real SoundFont fail instead of skipping
REQUIRE_SOUND = os.environ.get("LIVECODE_REQUIRE_SOUND") == "1"
TIMGM6MB = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")


def need_soundfont() -> str:
    """The real GM SoundFont's path, with tinysoundfont importable; else skip (or fail)."""
    problem = ""
    if not TIMGM6MB.is_file():
        problem = f"{TIMGM6MB} is missing (apt install timgm6mb-soundfont)"
    else:
        try:
            import tinysoundfont._tinysoundfont  # noqa: F401
        except ImportError as exc:
            problem = f"tinysoundfont is missing (pip install --no-deps tinysoundfont): {exc}"
    if problem:
        if REQUIRE_SOUND:
            pytest.fail(f"{problem} but LIVECODE_REQUIRE_SOUND=1")
        pytest.skip(problem)
    return str(TIMGM6MB)


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """``(samples, rate)``: int16 samples as float -1..1, shape (frames, channels)."""
    with wave.open(str(path), "rb") as w:
        assert w.getsampwidth() == 2
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        return data.reshape(-1, w.getnchannels()).astype(np.float64) / 32767.0, w.getframerate()


def onsets(samples: np.ndarray, threshold: float, quiet: int) -> list[int]:
    """Frames where the sound rises above ``threshold`` after at least ``quiet`` frames
    below it: the starts of well separated percussive hits."""
    loud = np.abs(samples).max(axis=1) > threshold
    found = []
    last_loud = -quiet - 1
    for i in np.flatnonzero(loud):
        if i - last_loud > quiet:
            found.append(int(i))
        last_loud = i
    return found


def centroid(samples: np.ndarray, rate: int) -> float:
    """The spectral centroid (Hz) of the mono mix: where the sound's energy sits."""
    mono = samples.mean(axis=1)
    power = np.abs(np.fft.rfft(mono)) ** 2
    freqs = np.fft.rfftfreq(len(mono), 1 / rate)
    return float((freqs * power).sum() / power.sum())
