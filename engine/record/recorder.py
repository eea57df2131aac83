"""Recording a performance to SQLite, from inside the engine process.

The engine is where operations from every source (REPL, file watch, OSC, MIDI input)
and every MIDI message sent meet, so the recorder hangs on its hooks: a tap on the
events of each play and a watcher of every batch applied or refused. On that hot path
it only appends to a deque; a writer thread turns the items into rows and commits them
every :data:`COMMIT_SECONDS` (SQLite in WAL mode, ``synchronous=NORMAL``): a crash, even
SIGKILL, loses at most the items of the last interval. SQLite is never touched on the
engine's loop thread.

A recording is a series of *segments*: one per engine that recorded into the file (a
new engine after a crash appends a ``restart`` segment to the same file; ``record()``
after ``record(False)`` a ``resume`` one). Each segment starts from a network snapshot
at logical time ``t0``, so replay (:mod:`engine.record.recording`) rebuilds exactly what the
engine had. The schema is :data:`SCHEMA`; ops are stored as JSON (never pickles: a
recording from a stranger cannot run code).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from engine import protocol as P
from engine.errors import RecordError
from engine.protocol import Ack, Batch, Event
from engine.runtime.hooks import EngineHooks

__all__ = [
    "Recorder",
    "RecordSwitch",
    "RecordError",
    "SCHEMA",
    "FORMAT",
    "COMMIT_SECONDS",
    "connect",
    "prepare",
    "ops_to_json",
    "ops_from_json",
]

FORMAT = "livecode-recording 1"
# Commit at least this often; the bound is 250 ms lost at most.
COMMIT_SECONDS = 0.1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS segments (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,          -- start | resume | restart
    t0 REAL NOT NULL,            -- logical seconds the segment starts at
    epoch REAL NOT NULL,         -- perf_counter (CLOCK_MONOTONIC) at logical 0
    unix0 REAL NOT NULL,         -- time.time() at logical 0
    seed INTEGER NOT NULL,
    tempo REAL NOT NULL,
    snapshot TEXT NOT NULL,      -- engine.model.network Network.snapshot() as JSON
    pid INTEGER NOT NULL,
    t_end REAL,                  -- logical seconds of a clean end (NULL: crashed or running)
    ending TEXT                  -- quit (the engine stopped, notes silenced) | stop (record(False))
);
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY,
    segment INTEGER NOT NULL,
    t REAL NOT NULL,             -- logical seconds it was applied (or refused) at
    wall REAL NOT NULL,          -- wall seconds since logical 0 when the engine handled it
    source TEXT NOT NULL,        -- repl | file | osc | midi | restore | ...
    ok INTEGER NOT NULL,
    error TEXT NOT NULL,         -- why it was refused ('' when applied)
    text TEXT NOT NULL,          -- the block as typed ('' for controllers)
    ops TEXT NOT NULL            -- JSON list of protocol ops
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    segment INTEGER NOT NULL,
    t REAL NOT NULL,             -- logical seconds
    beat REAL NOT NULL,
    sent REAL,                   -- wall seconds since logical 0 when it went to the port
    type TEXT NOT NULL,
    neuron TEXT NOT NULL,
    ch INTEGER NOT NULL,
    note INTEGER NOT NULL,
    vel INTEGER NOT NULL
);
"""


def connect(path: str) -> sqlite3.Connection:
    """Open (creating) a recording: WAL mode, ``synchronous=NORMAL``, the schema in place."""
    try:
        db = sqlite3.connect(path, timeout=5.0, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(SCHEMA)
        db.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?)", (FORMAT,))
        db.commit()
    except sqlite3.Error as exc:
        raise RecordError(f"cannot record to {path}: {exc}") from exc
    return db


def prepare(path: str, fresh: bool = True) -> str:
    """Check ``path`` can take a recording before the engine is told; return it absolute.

    With ``fresh``, a file that already holds a recording is refused: a new performance
    never appends to (or overwrites) an old one.
    """
    full = os.path.abspath(os.path.expanduser(path))
    if os.path.islink(full):  # a link (dangling or not) would put the file somewhere else
        raise RecordError(f"{path} is a symbolic link; record to a plain file")
    if fresh and os.path.exists(full) and os.path.getsize(full) > 0:
        raise RecordError(f"{path} already exists; record to a new file")
    connect(full).close()
    return full


# --- ops as JSON ---------------------------------------------------------------------------


def ops_to_json(ops: tuple) -> str:
    return json.dumps([{"op": type(op).__name__, **P.op_fields(op)} for op in ops])


def ops_from_json(text: str) -> tuple:
    """The ops of a recorded batch; only protocol ops are made (nothing else can be named)."""
    ops = []
    for d in json.loads(text):
        d = dict(d)
        cls = P.OPS.get(d.pop("op", None))
        if cls is None:
            raise RecordError(f"unknown operation in recording: {text[:80]!r}")
        ops.append(cls(**d))
    return tuple(ops)


# --- the recorder ---------------------------------------------------------------------------

_EVENTS, _BATCH, _END = 0, 1, 2


class Recorder:
    """Append one segment to the recording at ``path``; feed it with :meth:`tap`/:meth:`watch`.

    ``now()`` gives the logical time a message reaches the port (``clock.now() + lead``);
    ``epoch`` is the clock's ``perf_counter`` reading at logical 0.
    """

    def __init__(
        self,
        path: str,
        snapshot: dict,
        t0: float,
        epoch: float,
        now: Callable[[], float],
        kind: str = "start",
        commit_seconds: float = COMMIT_SECONDS,
    ) -> None:
        self.path = path
        self.now = now
        self.epoch = epoch
        self.commit_seconds = commit_seconds
        self.error: str | None = None
        self.rows = 0  # events committed
        self._queue: deque[tuple] = deque()
        self._stop = threading.Event()
        self._segment = (
            kind,
            t0,
            epoch,
            time.time() - (time.perf_counter() - epoch),
            int(snapshot.get("seed", 0)),
            float(snapshot.get("tempo", 120.0)),
            json.dumps(snapshot),
            os.getpid(),
        )
        self._thread = threading.Thread(target=self._write, name="recorder", daemon=True)
        self._thread.start()

    # --- the hot path: appends only ------------------------------------------------------

    def tap(self, events: list[Event]) -> None:
        self._queue.append((_EVENTS, events, self.now()))

    def watch(self, batch: Batch, ack: Ack) -> None:
        self._queue.append((_BATCH, batch, ack))

    # --- ending --------------------------------------------------------------------------

    def close(self, t_end: float | None, ending: str = "quit") -> None:
        """Commit what is queued, mark a clean end at ``t_end`` (None: none), stop the writer.

        ``ending`` is "quit" when the engine stopped (its silence is recorded) and "stop"
        when only the recording stopped (the notes play on)."""
        if t_end is not None:
            self._queue.append((_END, t_end, ending))
        self._stop.set()
        self._thread.join(5.0)

    @property
    def alive(self) -> bool:
        return self.error is None and self._thread.is_alive()

    # --- the writer thread ---------------------------------------------------------------

    def _write(self) -> None:
        db = None
        try:
            db = connect(self.path)
            cur = db.execute(
                "INSERT INTO segments (kind, t0, epoch, unix0, seed, tempo, "
                "snapshot, pid) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                self._segment,
            )
            seg = cur.lastrowid
            db.commit()
            while True:
                stopping = self._stop.wait(self.commit_seconds)
                self._flush(db, seg)
                if stopping:
                    break
        except (sqlite3.Error, OSError, ValueError, TypeError) as exc:
            self.error = f"recording to {self.path} stopped: {exc}"
            self._queue.clear()
        finally:
            if db is not None:
                db.close()

    def _flush(self, db: sqlite3.Connection, seg: Any) -> None:
        queue = self._queue
        events: list[tuple] = []
        batches: list[tuple] = []
        end = None
        epoch = self.epoch
        for _ in range(len(queue)):
            item = queue.popleft()
            kind = item[0]
            if kind == _EVENTS:
                sent = item[2]
                events += [
                    (seg, ev.t, ev.beat, sent, ev.type, ev.neuron, ev.ch, ev.note, ev.vel)
                    for ev in item[1]
                ]
            elif kind == _BATCH:
                batch, ack = item[1], item[2]
                error = ack.error or batch.refused
                if batch.source == "restore" and batch.refused:
                    continue  # a refused block resent after a restart: recorded already
                batches.append(
                    (
                        seg,
                        ack.t,
                        ack.wall - epoch,
                        batch.source,
                        int(ack.ok and not error),
                        error,
                        batch.text,
                        ops_to_json(batch.ops),
                    )
                )
            else:
                end = item[1:]
        if events:
            db.executemany(
                "INSERT INTO events (segment, t, beat, sent, type, neuron, ch, note, "
                "vel) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                events,
            )
        if batches:
            db.executemany(
                "INSERT INTO batches (segment, t, wall, source, ok, error, text, ops) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                batches,
            )
        if end is not None:
            db.execute("UPDATE segments SET t_end = ?, ending = ? WHERE id = ?", (*end, seg))
        if events or batches or end is not None:
            db.commit()
            self.rows += len(events)


class RecordSwitch:
    """The engine's recording on/off switch: hooked once, a :class:`Recorder` behind it or none.

    ``attach(engine)`` registers the tap, the watcher and a ``record`` status part.
    ``tell(notice)`` reports a recorder that failed (disk full...), once.
    """

    def __init__(self, engine: EngineHooks, tell: Callable[[object], None]) -> None:
        self.engine = engine
        self.tell = tell
        self.recorder: Recorder | None = None
        engine.add_tap(self._tap)
        engine.watch(self._watch)
        engine.add_status("record", self.status)

    def _tap(self, events: list[Event]) -> None:
        rec = self.recorder
        if rec is not None:
            rec.tap(events)

    def _watch(self, batch: Batch, ack: Ack) -> None:
        rec = self.recorder
        if rec is not None:
            rec.watch(batch, ack)

    def start(self, path: str, kind: str = "start") -> None:
        """Record into ``path`` from now on (a new segment, from a snapshot of the network)."""
        self.stop("stop")
        engine = self.engine
        # The model's state is exact at net.now (the last time it was advanced to); every
        # batch from here on is applied at or after it.
        snap = engine.net.snapshot()
        lead = engine.lead
        clock = engine.clock
        self.recorder = Recorder(
            path, snap, snap["t"], clock.epoch, lambda: clock.now() + lead, kind
        )

    def stop(self, ending: str = "quit") -> None:
        """Stop recording; the segment ends cleanly at the network's time (see Recorder.close)."""
        rec, self.recorder = self.recorder, None
        if rec is not None:
            rec.close(self.engine.net.now, ending)

    def status(self) -> dict | None:
        rec = self.recorder
        if rec is None:
            return None
        if rec.error is not None:
            self.recorder = None
            self.tell(P.Notice(rec.error, "error"))
            return None
        return {"path": rec.path, "events": rec.rows}
