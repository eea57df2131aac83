"""One way to report a bug caught at a fault barrier: once per kind, every one counted.

A fault barrier (the engine loop's input handlers and batches, the supervisor's callbacks,
the REPL) catches what escapes a piece of code by mistake, so a bug in one part never stops
the sound. The line names the place, the exception and where it was raised; a fault that
repeats (a status callback four times a second) is said once and counted.
"""

from __future__ import annotations

import os
import traceback

__all__ = ["FaultLog"]


class FaultLog:
    """Counts faults and words the first of each kind."""

    def __init__(self) -> None:
        self.count = 0
        self._seen: set[tuple[str, str, str]] = set()

    def report(self, what: str, exc: BaseException, consequence: str) -> str | None:
        """Count a fault in ``what``; return the line to show, or None if said already."""
        self.count += 1
        frame = traceback.extract_tb(exc.__traceback__)[-1:]
        where = f" at {os.path.basename(frame[0].filename)}:{frame[0].lineno}" if frame else ""
        key = (what, type(exc).__name__, where)
        if key in self._seen:
            return None
        self._seen.add(key)
        return (
            f"internal error in {what}: {type(exc).__name__}: {exc}{where}; {consequence} "
            "(this error is not shown again)"
        )
