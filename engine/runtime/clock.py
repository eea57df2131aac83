"""The engine's clock: logical seconds since an epoch, and waiting precisely for a deadline.

``time.perf_counter`` is CLOCK_MONOTONIC on Linux, shared by every process, so a parent
can hand its epoch to a new engine and logical time carries on across a restart.
"""

from __future__ import annotations

import ctypes
import os
import sys
import time

__all__ = ["Clock", "ask_for_realtime"]


class Clock:
    """Logical time in seconds since ``epoch`` (a ``perf_counter`` reading)."""

    # Sleep until this close to a deadline, then spin. With a 1 ns timer slack a sleep
    # overshoots by ~50 µs; spinning longer bought little and cost 3 % CPU per 100 µs
    # on bench64 (livecode bench).
    SPIN_SECONDS = 0.00005

    def __init__(self, epoch: float | None = None) -> None:
        self.epoch = time.perf_counter() if epoch is None else epoch

    def now(self) -> float:
        return time.perf_counter() - self.epoch

    def wall(self, t: float) -> float:
        """The ``perf_counter`` reading at logical time ``t``."""
        return self.epoch + t

    def wait_until(self, t: float) -> None:
        """Return at logical time ``t``, as close as the OS allows and never early."""
        deadline = self.epoch + t
        remaining = deadline - time.perf_counter()
        if remaining > self.SPIN_SECONDS:
            time.sleep(remaining - self.SPIN_SECONDS)
        while time.perf_counter() < deadline:
            pass


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
