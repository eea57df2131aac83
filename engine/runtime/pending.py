"""Batches waiting for their time: on the logical clock, or on the monotonic clock.

An OSC bundle's timetag is a moment on the monotonic clock; where logical time follows
another clock (JACK's frames, a sound device's samples) its logical time is only known
approximately until it comes close, so it is asked of the engine's clock again at every
look (see :mod:`engine.runtime.clocks`).
"""

from __future__ import annotations

import heapq
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.protocol import Batch
    from engine.runtime.clock import Clock

__all__ = ["Pending"]


class Pending:
    """Two heaps of batches: by logical time, and by monotonic reading."""

    def __init__(self) -> None:
        self._logical: list[tuple[float, int, Batch]] = []
        self._mono: list[tuple[float, int, Batch]] = []
        self._seq = 0  # ties keep their order

    def at_logical(self, batch: Batch, t: float) -> None:
        self._seq += 1
        heapq.heappush(self._logical, (t, self._seq, batch))

    def at_mono(self, batch: Batch, mono: float) -> None:
        self._seq += 1
        heapq.heappush(self._mono, (mono, self._seq, batch))

    def next(self, clock: Clock) -> tuple[float, bool | None]:
        """The logical time of the next batch (inf: none) and whether it waits on the
        monotonic clock (None: nothing waits)."""
        best, mono = math.inf, None
        if self._logical:
            best, mono = self._logical[0][0], False
        if self._mono:
            t = clock.ahead(self._mono[0][0])
            if t < best:
                best, mono = t, True
        return best, mono

    def first_mono(self) -> float:
        """The monotonic reading the next monotonic batch waits for."""
        return self._mono[0][0]

    def pop(self, mono: bool) -> Batch:
        """Take the next batch of one heap."""
        return heapq.heappop(self._mono if mono else self._logical)[2]
