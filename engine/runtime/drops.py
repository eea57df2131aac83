"""Counting what an input refused, by reason, and saying so without flooding the performer;
and how long what it accepted waited."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable

from engine.protocol import Notice

__all__ = ["DropLog", "Latencies"]


class DropLog:
    """Counts dropped input by reason; :meth:`flush` sends one notice every few seconds at most.

    ``label`` and ``unit`` make the line ("OSC", "datagram(s)"); ``tell`` sends a
    :class:`Notice` to the performer.
    """

    def __init__(
        self,
        reasons: Iterable[str],
        tell: Callable[[Notice], None],
        label: str,
        unit: str,
        every: float = 5.0,
    ) -> None:
        self.counts = dict.fromkeys(reasons, 0)
        self.last = ""  # what the most recent drop was, for the notice
        self._tell = tell
        self._label = label
        self._unit = unit
        self._every = every
        self._told = 0
        self._next = 0.0

    def add(self, reason: str, detail: str = "") -> None:
        self.counts[reason] += 1
        if detail:
            self.last = detail

    def total(self) -> int:
        return sum(self.counts.values())

    def flush(self) -> None:
        """Tell what was dropped since the last notice, unless one went out recently."""
        total = self.total()
        now = time.monotonic()
        if total == self._told or now < self._next:
            return
        so_far = ", ".join(f"{k} {v}" for k, v in self.counts.items() if v)
        self._tell(
            Notice(
                f"{self._label}: dropped {total - self._told} {self._unit} "
                f"(so far: {so_far}); last: {self.last}",
                "warning",
            )
        )
        self._told = total
        self._next = now + self._every


class Latencies:
    """The recent delays of an input, from when each message was due (its arrival, or its
    timetag less the port's latency) to when the engine applied it: every message counts,
    scheduled ones too, so a clock that drifts away shows here."""

    def __init__(self, size: int = 4096) -> None:
        self._values: deque[float] = deque(maxlen=size)

    def add(self, seconds: float) -> None:
        self._values.append(seconds)

    def status(self) -> dict[str, float]:
        """``latency_ms_p50``, ``_p99``, ``_max`` and ``latency_n`` (plain builtins)."""
        lat = sorted(self._values)

        def pct(q: float) -> float:
            return lat[int(q * (len(lat) - 1))] * 1e3 if lat else 0.0

        return {
            "latency_ms_p50": pct(0.5),
            "latency_ms_p99": pct(0.99),
            "latency_ms_max": pct(1.0),
            "latency_n": len(lat),
        }
