"""Offline audio: the network's MIDI messages at their logical times, through a synth, into
a 16-bit stereo WAV file, each message on its exact frame.

Deterministic (the same events and synth give the same bytes) and as fast as the synth
goes. :func:`frame_of` is the one conversion from logical seconds to frames.
"""

from __future__ import annotations

import math
import wave
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from engine.audio.synth import Synth, TimedMessage
from engine.model.events import Event, midi_bytes

__all__ = ["frame_of", "AudioStats", "render_blocks", "write_wav", "BLOCK"]

BLOCK = 8192  # frames per render call offline: fewer calls, same samples (blocks split at events)


def frame_of(t: float, rate: int) -> int:
    """The frame at logical time ``t`` seconds, frame 0 being ``t = 0`` (rounded to nearest)."""
    return math.floor(t * rate + 0.5)


@dataclass(frozen=True)
class AudioStats:
    """What a render wrote: its length, loudest sample, samples clipped, and RMS (0..1)."""

    frames: int
    rate: int
    peak: float
    clipped: int
    rms: float
    messages: int

    @property
    def seconds(self) -> float:
        return self.frames / self.rate


def render_blocks(
    synth: Synth, events: Iterable[Event], frames: int, start: float = 0.0, block: int = BLOCK
) -> Iterator[np.ndarray]:
    """``frames`` frames of ``synth`` playing ``events`` (in time order; ``start`` seconds is
    frame 0), as ``(n, 2)`` float32 blocks. Messages at or after the end are left out."""
    timed = sorted(
        ((frame_of(ev.t - start, synth.rate), midi_bytes(ev)) for ev in events),
        key=lambda fm: fm[0],  # stable: messages at one frame keep their order
    )
    i = 0
    for pos in range(0, frames, block):
        n = min(block, frames - pos)
        todo: list[TimedMessage] = []
        while i < len(timed) and timed[i][0] < pos + n:
            todo.append((timed[i][0] - pos, timed[i][1]))
            i += 1
        yield synth.render_timed(n, todo)


def write_wav(path: str, blocks: Iterable[np.ndarray], rate: int, messages: int = 0) -> AudioStats:
    """Write float blocks (-1..1) as a 16-bit stereo WAV; samples beyond full scale are
    clipped and counted."""
    frames = clipped = 0
    peak = 0.0
    power = 0.0
    with wave.open(path, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        for b in blocks:
            if not len(b):
                continue
            flat = np.ascontiguousarray(b, dtype=np.float32).ravel()
            frames += len(b)
            mag = np.abs(flat)
            peak = max(peak, float(mag.max()))
            power += float(np.dot(flat, flat))
            clipped += int(np.count_nonzero(mag > 1.0))
            pcm = np.clip(flat, -1.0, 1.0)
            pcm *= 32767.0
            w.writeframes(np.rint(pcm).astype("<i2").tobytes())
    rms = math.sqrt(power / (2 * frames)) if frames else 0.0
    return AudioStats(frames, rate, peak, clipped, rms, messages)
