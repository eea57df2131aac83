"""A device clock mapped onto the engine's logical seconds, re-anchored on every read.

Link's clock is ``CLOCK_MONOTONIC_RAW`` (microseconds), ~0.1 s away from
``time.perf_counter`` here and drifting against it as NTP slews the latter; the engine's
clock may itself be JACK's frame clock. :class:`ClockMap` keeps ``offset = device -
logical`` from paired readings: of three reads of the engine clock bracketing a device
read, the tightest pair wins (a preempted read is thrown away), and the offset follows
drift through a small exponential filter; a step over ``STEP`` seconds (a suspended
machine, a changed clock) is taken at once. Re-anchored on every read, drift never
accumulates.

Not :class:`engine.runtime.clocks.ClockMap`: that one is given a pair of readings by
a callback (a JACK cycle) and extrapolates at the measured ratio; Link's clock is read on
demand, so this one takes its own bracketed readings and filters their offset. Both are
kept as the conversions of the two clocks they serve (``to_device``/``to_logical`` here).
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Callable

__all__ = ["ClockMap"]

STEP = 1.0  # seconds: a larger jump of the offset is a new anchor, not jitter
MEDIAN = 9  # readings the offset's target is the median of
SLEW = 0.002  # seconds: the most the offset moves in one reading (20 % at one a 10 ms)


class ClockMap:
    """``device()`` (seconds on the device's clock) against ``logical()`` (engine seconds)."""

    def __init__(self, device: Callable[[], float], logical: Callable[[], float]) -> None:
        self.device = device
        self.logical = logical
        self.offset: float | None = None
        self.reads = 0
        self.spread = 0.0  # the bracket of the last accepted read: its uncertainty
        self._recent: deque[float] = deque(maxlen=MEDIAN)

    def reanchor(self) -> float:
        """Take a paired reading and update the offset; return it."""
        best: tuple[float, float] | None = None
        for _ in range(3):
            a = self.logical()
            d = self.device()
            b = self.logical()
            if best is None or b - a < best[0]:
                best = (b - a, d - (a + b) / 2)
        assert best is not None
        self.spread, fresh = best
        self.reads += 1
        self._recent.append(fresh)
        target = statistics.median(self._recent)
        if self.offset is None or abs(target - self.offset) > STEP:
            self._recent.clear()
            self._recent.append(fresh)
            self.offset = fresh
        else:
            self.offset += max(-SLEW, min(SLEW, target - self.offset))
        return self.offset

    def to_device(self, t: float) -> float:
        """Logical seconds ``t`` on the device's clock (seconds)."""
        if self.offset is None:
            self.reanchor()
        assert self.offset is not None
        return t + self.offset

    def to_logical(self, d: float) -> float:
        if self.offset is None:
            self.reanchor()
        assert self.offset is not None
        return d - self.offset
