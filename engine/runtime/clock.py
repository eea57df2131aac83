"""The engine's clock: logical seconds since an epoch, and waiting precisely for a deadline.

``time.perf_counter`` is CLOCK_MONOTONIC on Linux, shared by every process, so a parent
can hand its epoch to a new engine and logical time carries on across a restart.
"""

from __future__ import annotations

import ctypes
import os
import sys
import time
from collections.abc import Callable

from engine.runtime.clocks import ClockMap

__all__ = ["Clock", "MappedClock", "ask_for_realtime"]


class Clock:
    """Logical time in seconds since ``epoch`` (a monotonic reading), and the conversions
    from the other clock domains (:mod:`engine.runtime.clocks`) into it.

    This clock's logical time *is* the monotonic clock minus the epoch. ``source`` and
    ``unix`` read the monotonic and Unix clocks (a simulation in tests hands its own).
    """

    # Sleep until this close to a deadline, then spin. With a 1 ns timer slack a sleep
    # overshoots by ~50 µs; spinning longer bought little and cost 3 % CPU per 100 µs
    # on bench64 (livecode bench).
    SPIN_SECONDS = 0.00005
    domain = "monotonic"

    def __init__(
        self,
        epoch: float | None = None,
        source: Callable[[], float] = time.perf_counter,
        unix: Callable[[], float] = time.time,
    ) -> None:
        self.source = source
        self.unix = unix
        self.epoch = source() if epoch is None else epoch

    def now(self) -> float:
        return self.source() - self.epoch

    def mono(self) -> float:
        """The monotonic clock's reading now (arrivals and acks are stamped in it)."""
        return self.source()

    def at(self, mono: float) -> float:
        """Logical time at monotonic reading ``mono`` (an arrival: past or present)."""
        return mono - self.epoch

    def ahead(self, mono: float) -> float:
        """Logical time expected at monotonic reading ``mono`` in the future (a bundle's
        timetag); re-ask as it comes closer, the estimate improves."""
        return mono - self.epoch

    def wall(self, t: float) -> float:
        """The monotonic reading at logical time ``t``."""
        return self.epoch + t

    def from_unix(self, unix: float) -> float:
        """The monotonic reading at Unix time ``unix`` (an OSC timetag)."""
        return unix - (self.unix() - self.source())

    def info(self) -> dict:
        """The clock for the status: its domain, its ratio to the monotonic clock and
        the mapping's error (plain builtins)."""
        return {
            "domain": self.domain,
            "ratio": 1.0,
            "error_us": {"p50": 0.0, "p99": 0.0, "max": 0.0},
        }

    def wait_until(self, t: float) -> None:
        """Return at logical time ``t``, as close as the OS allows and never early."""
        source = self.source
        deadline = self.epoch + t
        remaining = deadline - source()
        if remaining > self.SPIN_SECONDS:
            time.sleep(remaining - self.SPIN_SECONDS)
        while source() < deadline:
            pass


class MappedClock(Clock):
    """Logical time that follows another clock (a sample clock), through a :class:`ClockMap`
    from the monotonic clock to it.

    Logical ``t`` is that clock's reading ``origin + t``; ``origin`` is set so that
    logical time carries on from ``epoch`` (a monotonic reading, as for :class:`Clock`):
    a restarted engine continues the logical time of the one before.
    """

    domain = "mapped"

    def __init__(
        self,
        clock_map: ClockMap,
        epoch: float | None = None,
        source: Callable[[], float] = time.perf_counter,
        unix: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(epoch, source, unix)
        self.map = clock_map
        self.origin = clock_map.to_b(source()) - (source() - self.epoch)

    def now(self) -> float:
        return self.map.to_b(self.source()) - self.origin

    def at(self, mono: float) -> float:
        return self.map.to_b(mono) - self.origin

    def ahead(self, mono: float) -> float:
        return self.map.to_b(mono, future=True) - self.origin

    def wall(self, t: float) -> float:
        return self.map.to_a(self.origin + t)

    def info(self) -> dict:
        err = self.map.error()
        return {
            "domain": self.domain,
            "ratio": self.map.ratio(),
            "error_us": {k: v * 1e6 for k, v in err.items()},
            "anchors": self.map.count,
        }

    def wait_until(self, t: float) -> None:
        # Plain short sleeps: the other clock may stall or run slow; a spin would hold the
        # GIL that a JACK or audio callback needs.
        while True:
            remaining = t - self.now()
            if remaining <= 0:
                return
            time.sleep(min(remaining, 0.0005))


def ask_for_realtime() -> str:
    """Ask for SCHED_FIFO and a 1 ns timer slack where the OS allows; say what we got."""
    got = []
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            PR_SET_TIMERSLACK = 29
            if libc.prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0) == 0:
                got.append("timer slack 1 ns")
        except (OSError, AttributeError):
            pass  # prctl missing: keep the default 50 µs slack
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(20))  # type: ignore[attr-defined]
        got.append("SCHED_FIFO 20")
    except (AttributeError, OSError):
        pass  # not allowed here (no rtprio limit, or not Linux): run at normal priority
    return ", ".join(got) or "normal priority"
