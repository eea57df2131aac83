"""Clock domains, and the one mapping between two of them.

The engine meets several clocks; each reading names its domain:

- **monotonic**: ``time.perf_counter()`` seconds (CLOCK_MONOTONIC on Linux, shared by
  every process). Arrivals are stamped in it: OSC datagrams (the kernel's stamp),
  MIDI input, the parent's patches, acks and status times.
- **unix**: ``time.time()`` seconds; only OSC bundle timetags are in it.
- **logical**: the network's seconds since its epoch; every event, patch and bundle is
  applied at a logical time. On ports that send at once it *is* monotonic minus the
  epoch; on a port with its own sample clock it follows that clock.
- **a sample clock**: JACK's frame counter, a sound device's sample clock, later Link's
  beat clock, as seconds of that clock (frames / rate).

:class:`ClockMap` turns readings of one clock (``a``, monotonic) into another (``b``, a
sample clock) and back. The clock's owner calls :meth:`ClockMap.anchor` with a pair of
simultaneous readings whenever it has one (JACK: at every process cycle; a sound
device: at every callback). A conversion starts from the latest anchor at or before the
reading and extends it at the measured ratio of the two clocks, so an error never
outlives the next anchor and drift never accumulates, whatever the clocks do. ``hold``
says how far past its latest anchor the ``b`` clock may be assumed to run: a JACK
server that stalls stops its frames, so the present is never put beyond one period
after the last cycle.

Thread use: one thread (an audio callback) calls :meth:`ClockMap.anchor` while others
convert; both only append to and index a ``deque``, which the GIL keeps whole.
"""

from __future__ import annotations

import math
from collections import deque
from typing import NamedTuple

__all__ = ["Anchor", "ClockMap"]


class Anchor(NamedTuple):
    """Readings of the two clocks at one instant."""

    a: float  # the source clock (monotonic seconds)
    b: float  # the target clock (its own seconds, e.g. frames / rate)


class ClockMap:
    """Readings of clock ``a`` as readings of clock ``b`` (and back), re-anchored continuously.

    ``hold``: how far (in ``b`` seconds) past its latest anchor the ``b`` clock may have
    run by the present (None: no limit); readings of the future are extrapolated at the
    measured ratio without it. ``window``: how many recent anchors give the error figures;
    ``ratio_span`` how many give the ratio (a short span follows a changing clock soon;
    the wake-up jitter of the stamps over it stays small). ``ratio_bounds`` keep a glitch (a stall of minutes) from making the
    ratio absurd.
    """

    def __init__(
        self,
        hold: float | None = None,
        window: int = 512,
        ratio_span: int = 64,
        ratio_bounds: tuple[float, float] = (0.5, 2.0),
    ) -> None:
        self.hold = hold
        self.ratio_span = ratio_span
        self.ratio_bounds = ratio_bounds
        self._anchors: deque[Anchor] = deque(maxlen=window)
        self._errors: deque[float] = deque(maxlen=window)
        self.count = 0  # anchors ever given

    def __len__(self) -> int:
        return len(self._anchors)

    def anchor(self, a: float, b: float) -> None:
        """Record that clock ``a`` read ``a`` when clock ``b`` read ``b``."""
        if self._anchors:
            self._errors.append(b - self.to_b(a))  # how far off the map was until now
        self._anchors.append(Anchor(a, b))
        self.count += 1

    def latest(self) -> Anchor | None:
        try:
            return self._anchors[-1]
        except IndexError:
            return None

    def ratio(self) -> float:
        """Seconds of ``b`` per second of ``a``, measured over the recent anchors (1.0 until
        there are two)."""
        anchors = self._anchors
        try:
            first, last = anchors[-min(len(anchors), self.ratio_span)], anchors[-1]
        except IndexError:
            return 1.0
        span = last.a - first.a
        if span <= 0.0:
            return 1.0
        lo, hi = self.ratio_bounds
        return min(max((last.b - first.b) / span, lo), hi)

    def to_b(self, a: float, future: bool = False) -> float:
        """Clock ``b``'s reading when clock ``a`` reads ``a`` (``a`` itself while there is no
        anchor). ``future``: ``a`` lies ahead, extrapolate without ``hold``."""
        anchor = self._before(a)
        if anchor is None:
            return a
        step = (a - anchor.a) * self.ratio()
        if not future and self.hold is not None and step > self.hold:
            step = self.hold  # the b clock stalled there: it has not run on
        return anchor.b + step

    def to_a(self, b: float) -> float:
        """Clock ``a``'s reading when clock ``b`` reads ``b`` (the inverse of :meth:`to_b`)."""
        found = self._latest(1, b)
        if found is None:
            return b
        return found.a + (b - found.b) / self.ratio()

    def _before(self, a: float) -> Anchor | None:
        """The latest anchor at or before ``a`` (the earliest if all are later)."""
        return self._latest(0, a)

    def _latest(self, field: int, reading: float) -> Anchor | None:
        """The latest anchor whose clock ``field`` (0: a, 1: b) read at most ``reading``
        (the earliest if all read more; None without anchors)."""
        anchors = self._anchors
        found = None
        # From the newest back: readings are mostly recent. An append by the callback
        # during the walk shifts indices by one, so an anchor is seen twice, never skipped.
        for k in range(1, len(anchors) + 1):
            try:
                x = anchors[-k]
            except IndexError:
                break
            found = x
            if x[field] <= reading:
                break
        return found

    def error(self) -> dict[str, float]:
        """How far each anchor was from where the map put it (b seconds, absolute):
        median, p99 and max over the window; 0 with fewer than two anchors."""
        errors = sorted(abs(e) for e in list(self._errors))
        if not errors:
            return {"p50": 0.0, "p99": 0.0, "max": 0.0}
        n = len(errors)
        return {
            "p50": errors[n // 2],
            "p99": errors[min(n - 1, math.ceil(0.99 * n) - 1)],
            "max": errors[-1],
        }
