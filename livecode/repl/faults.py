"""Saying the bugs that the REPL's fault barriers catch in callbacks that repeat.

A toolbar redraws four times a second, statuses arrive ten times a second and the
completer runs on every key: a bug there would say the same thing forever. Each
distinct fault is said once, in full; the barriers that hold blocks say every fault.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from livecode.language.errors import internal_message

__all__ = ["Faults"]


class Faults:
    """``faults(where, exc, outcome)`` says an internal error through ``say``, once each."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self._seen: set[tuple[str, str, str]] = set()
        self._lock = threading.Lock()  # the reader thread and the prompt both report

    def __call__(self, where: str, exc: BaseException, outcome: str) -> None:
        key = (where, type(exc).__name__, str(exc))
        with self._lock:
            if key in self._seen:
                return
            self._seen.add(key)
        self.say(internal_message(where, exc, f"{outcome} (said once, though it may recur)"))
