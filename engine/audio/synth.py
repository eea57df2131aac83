"""The synthesizer contract: raw MIDI channel messages in, stereo float32 blocks out.

A synth is driven from one thread (the audio callback, or an offline render); it is never
shared. :meth:`Synth.render_timed` is the one place a block is split at message frames, so
every note starts on its exact sample whichever synth plays it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

__all__ = ["Synth", "TimedMessage"]

# (frame offset within the block, raw MIDI bytes): a message to apply at that sample
TimedMessage = tuple[int, Sequence[int]]


class Synth:
    """A General MIDI synthesizer (channel 10 is the drum kit).

    Backends override :meth:`message` and :meth:`render`; the block splitting lives here.
    """

    name = "none"  # what the status and ``livecode ports`` show (a SoundFont's file name...)
    rate = 48000  # frames per second

    def message(self, data: Sequence[int]) -> None:
        """Apply one raw channel message now: note on/off, control change (CC 120/123: all
        sound/notes off), program change."""
        raise NotImplementedError

    def render(self, frames: int) -> np.ndarray:
        """The next ``frames`` frames as a ``(frames, 2)`` float32 array in -1..1."""
        raise NotImplementedError

    def render_timed(self, frames: int, timed: Iterable[TimedMessage]) -> np.ndarray:
        """Render ``frames`` frames, applying each message at its frame offset (0..frames-1,
        in order; earlier offsets are clamped to the block's start)."""
        out = np.zeros((frames, 2), dtype=np.float32)
        pos = 0
        for frame, data in timed:
            at = min(max(frame, pos), frames)
            if at > pos:
                out[pos:at] = self.render(at - pos)
                pos = at
            self.message(data)
        if pos < frames:
            out[pos:] = self.render(frames - pos)
        return out

    def close(self) -> None:
        """Free what the synth holds."""
