"""The audio output base every backend builds on: MIDI in at logical times, a synth's blocks out.

An audio output owns one :class:`engine.audio.synth.Synth`, driven only from the output's
own audio thread (JACK's process callback, PortAudio's callback, a WAV pacer). The engine
loop hands each message over with :meth:`AudioOut.send_at`: an append to a deque, which
the audio thread pops; neither side ever waits for the other (CPython's deque append and
popleft are atomic). The audio thread turns each message's logical time into a frame of
the block it renders and lets :meth:`Synth.render_timed` start it on that exact sample.

Two ways to put a logical time on a frame, one per kind of backend:

- frame-clocked (JACK): logical time *is* the server's frame clock, ``frame0 +
  round(t * rate)``, with ``frame0`` fixed by the engine's :class:`JackClock`;
- paced (a sound device, a WAV file): :class:`FrameMap` anchors the output's frame counter
  to the engine's clock at the first block, runs ``lag`` behind it so every message of a
  block has arrived before the block is rendered, and follows the device's own sample
  clock with a slew-limited correction, so drift never accumulates and intervals between
  notes stay exact to the frame.

Backends live one per module (:mod:`engine.io.jack_audio`, :mod:`engine.io.device_audio`,
:mod:`engine.io.wav_audio`), the factory in :mod:`engine.io.audio_out`; the fake in
``tests/engine/fakes.py``.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.audio.synth import Synth, TimedMessage
from engine.errors import AudioUnavailable
from engine.runtime.clock import Clock

__all__ = ["AudioOut", "AudioUnavailable", "FrameMap", "SynthFactory", "RELEASE_WAIT"]

# How long an output keeps rendering after the last note-off before it closes: the
# synth's release tail (a SoundFont's release is rarely longer), so a quit never clicks.
RELEASE_WAIT = 0.3

SynthFactory = Callable[[int], Synth]  # rate -> a synth rendering at that rate


@dataclass
class FrameMap:
    """Logical time of a paced output's frames: ``t(f) = base + f / rate``.

    ``place(frame, now)`` is called by the audio thread at each block: the first call
    anchors ``base`` so the block's first frame sits ``lag`` seconds behind ``now`` (every
    message of the block was handed over by then); later calls nudge ``base`` towards that
    target by at most ``slew`` frames per block (the device's sample clock against the
    system's drifts ~0.01 %: 0.03 frames in a 256-frame block), and jump only after a
    stall longer than ``jump`` seconds (an xrun, a suspended laptop).
    """

    rate: int
    lag: float
    slew: float = 0.05  # frames per block
    gain: float = 0.05  # of the error corrected per block: 100 ppm drift leaves 0.5 frame
    jump: float = 0.05  # seconds
    base: float = math.nan
    corrections: int = 0  # hard re-anchors after a stall

    def place(self, frame: int, now: float) -> None:
        target = now - self.lag - frame / self.rate
        if math.isnan(self.base) or abs(target - self.base) > self.jump:
            self.corrections += not math.isnan(self.base)
            self.base = target
            return
        limit = self.slew / self.rate
        self.base += max(-limit, min(limit, self.gain * (target - self.base)))

    def frame_of(self, t: float) -> int:
        return round((t - self.base) * self.rate)


class AudioOut:
    """A live audio output playing the network through its synth.

    ``send_at`` and ``send_now`` are called from the engine loop, in time order (as the
    loop plays); everything else that
    renders runs on the output's audio thread. Counters: ``late`` messages rendered after
    their frame (they arrived after their block), ``xruns`` blocks the device or server
    reported missed, ``errors`` blocks the synth failed (rendered as silence).
    """

    kind = "none"  # "jack", "device", "wav": what --audio names it
    name = "none"  # where the sound goes, for the status and ``livecode ports``
    rate = 48000
    period = 256  # frames per block
    latency = 0.0  # how far ahead of its frame a message must be handed over (frame-clocked)

    def __init__(self, synth: Synth) -> None:
        self.synth = synth
        self.late = 0
        self.xruns = 0
        self.errors = 0
        self.last_error = ""
        self.peak = 0.0  # loudest sample so far (status: is anything sounding at all)
        self.blocks = 0
        self._queue: deque[tuple[float, bytes]] = deque()
        self._clock: Clock | None = None
        self._frames_from: object = self  # who holds ``frame0`` (frame-clocked outputs)
        self.frame0: int | None = None

    # --- the engine's side -------------------------------------------------------------

    def send_at(self, data: list[int] | bytes, t: float) -> None:
        """Hand over a message meant for logical time ``t`` (never blocks)."""
        self._queue.append((t, bytes(data)))

    def send_now(self, data: list[int] | bytes) -> None:
        """Hand over a message to play at the next block (a dead engine's note-offs)."""
        self._queue.append((-math.inf, bytes(data)))

    def clock(self, epoch: float | None = None) -> Clock | None:
        """The frame clock this output plays on, if it has one (JACK), else None."""
        return None

    def attach(self, clock: Clock, frames_from: object | None = None) -> None:
        """Play on ``clock``; a frame-clocked output reads ``frame0`` off ``frames_from``
        (the MIDI port whose clock the engine uses, on the same JACK server)."""
        self._clock = clock
        if frames_from is not None:
            self._frames_from = frames_from

    def status(self) -> dict:
        """What the engine's status shows of this output (plain builtins)."""
        return {
            "audio": f"{self.kind}:{self.name}",
            "synth": self.synth.name,
            "rate": self.rate,
            "period": self.period,
            "late": self.late,
            "xruns": self.xruns,
            "errors": self.errors,
            "peak": round(self.peak, 4),
            "frame0": getattr(self._frames_from, "frame0", None),  # JACK: frame of logical 0
        }

    def close(self) -> None:
        """Play what is queued and the release tails, then stop and free the synth."""
        self.synth.close()

    # --- the audio thread's side -------------------------------------------------------

    def render_block(self, start: int, frames: int, frame_of: Callable[[float], int]) -> np.ndarray:
        """The next block, ``frames`` frames from frame ``start``: every message whose
        frame falls before the block's end is applied at its offset. Never raises: a
        failing synth gives silence and a count."""
        queue = self._queue
        end = start + frames
        timed: list[TimedMessage] = []
        while queue:
            t, data = queue[0]
            frame = start if t == -math.inf else frame_of(t)
            if frame >= end:
                break
            queue.popleft()
            if frame < start:
                self.late += t != -math.inf
                frame = start
            timed.append((frame - start, data))
        self.blocks += 1
        try:
            block = self.synth.render_timed(frames, timed)
            np.clip(block, -1.0, 1.0, out=block)
        except Exception as exc:  # noqa: BLE001 - the audio thread must survive any synth
            self.errors += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            return np.zeros((frames, 2), dtype=np.float32)
        if frames:
            loud = float(np.max(np.abs(block)))
            if loud > self.peak:
                self.peak = loud
        return block

    def pending(self) -> int:
        """Messages handed over and not yet rendered."""
        return len(self._queue)
