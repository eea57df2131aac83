"""The JSON-lines event log of DESIGN §5, one object per MIDI message."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterable
from typing import IO

from engine.protocol import Event

__all__ = ["EventLog", "write_jsonl", "read_jsonl", "format_event"]


class EventLog:
    """Append events to a file; lines are formatted at once and written off the hot path.

    With ``background=True`` (the real-time engine) a thread does the writing: a write()
    to a busy disk can block for milliseconds, and the loop must never wait on one.
    """

    def __init__(self, path: str, append: bool = False, background: bool = False) -> None:
        self._file: IO[str] = open(path, "a" if append else "w", encoding="utf-8")  # noqa: SIM115
        self._pending: deque[str] = deque()  # append and popleft are safe across threads
        self._wake: threading.Event | None = None
        self._closed = False
        if background:
            self._wake = threading.Event()
            self._thread = threading.Thread(target=self._writer, name="event-log", daemon=True)
            self._thread.start()

    def add(self, event: Event, sent: float | None) -> None:
        self._pending.append(format_event(event, sent))

    def flush(self) -> None:
        """Write what was added (in the background thread when there is one)."""
        if self._wake is not None:
            self._wake.set()
        else:
            self._write()

    def _write(self) -> None:
        pending = self._pending
        lines = [pending.popleft() for _ in range(len(pending))]
        if lines:
            self._file.write("\n".join(lines) + "\n")
            self._file.flush()

    def _writer(self) -> None:
        assert self._wake is not None
        while not self._closed:
            self._wake.wait()
            self._wake.clear()
            self._write()

    def close(self) -> None:
        if self._wake is not None:
            self._closed = True
            self._wake.set()
            self._thread.join()
        self._write()
        self._file.close()


_names: dict[str, str] = {}


def format_event(ev: Event, sent: float | None) -> str:
    """One JSON line, as ``json.dumps(ev.as_dict(sent))`` gives, about four times faster."""
    name = _names.get(ev.neuron)
    if name is None:
        name = _names[ev.neuron] = json.dumps(ev.neuron)
    sent_text = "null" if sent is None else repr(round(sent, 9))
    return (
        f'{{"t": {round(ev.t, 9)!r}, "sent": {sent_text}, "type": "{ev.type}", '
        f'"neuron": {name}, "ch": {ev.ch}, "note": {ev.note}, "vel": {ev.vel}}}'
    )


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
