"""The JSON-lines event log of DESIGN §5, one object per MIDI message."""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO

from engine.protocol import Event

__all__ = ["EventLog", "write_jsonl", "read_jsonl"]


class EventLog:
    """Append events to a file; lines are buffered and flushed off the hot path."""

    def __init__(self, path: str, append: bool = False) -> None:
        self._file: IO[str] = open(path, "a" if append else "w", encoding="utf-8")  # noqa: SIM115
        self._pending: list[str] = []

    def add(self, event: Event, sent: float | None) -> None:
        self._pending.append(json.dumps(event.as_dict(None if sent is None else round(sent, 9))))

    def flush(self) -> None:
        if self._pending:
            self._file.write("\n".join(self._pending) + "\n")
            self._pending.clear()
        self._file.flush()

    def close(self) -> None:
        self.flush()
        self._file.close()


def write_jsonl(events: Iterable[Event], path: str) -> int:
    """Write ``events`` (with ``sent`` null, as render does); return how many."""
    log = EventLog(path)
    count = 0
    for event in events:
        log.add(event, None)
        count += 1
    log.close()
    return count


def read_jsonl(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
