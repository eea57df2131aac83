"""Reading a recording back, and replaying it: offline through the model, or live in an engine.

Replay re-runs the recorded operations into a fresh model at their recorded logical times:
each segment restores its starting snapshot at ``t0`` (the seed's random state with it),
then applies every batch the engine applied, in order. The model is exact and
deterministic, so the same notes come out at the same logical times.

This is an entry point of the engine package for ``livecode`` (like :mod:`engine.render`):
``replay``, ``export`` and ``plot`` read recordings only through it.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
from dataclasses import dataclass, field, replace

from engine import protocol as P
from engine.model.network import ModelError, Network
from engine.model.state import snapshot_ops
from engine.protocol import Batch, Event
from engine.record.eventlog import EventLog, read_jsonl
from engine.record.recorder import RecordError, ops_from_json, prepare
from engine.record.validate import check_recording
from engine.runtime.hooks import EngineHooks

__all__ = [
    "Recording",
    "Segment",
    "Block",
    "load",
    "replay_events",
    "ReplayResult",
    "serve_replay",
    "scale_batch",
    "snapshot_ops",
    "ALL_NOTES_OFF",
    # the rest of the recording API the performer side uses
    "prepare",
    "RecordError",
    "EventLog",
    "read_jsonl",
]

ALL_NOTES_OFF = 123


@dataclass
class Block:
    """One recorded batch: what the engine applied (or refused) at logical ``t``."""

    t: float
    wall: float
    source: str
    ok: bool
    error: str
    text: str
    ops: tuple


@dataclass
class Segment:
    """What one engine recorded: from ``snapshot`` at ``t0`` to ``t_end`` (None: it died)."""

    id: int
    kind: str
    t0: float
    epoch: float
    unix0: float
    seed: int
    tempo: float
    snapshot: dict
    t_end: float | None
    ending: str | None  # "quit": the engine stopped and silenced; "stop": record(False)
    blocks: list[Block] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    sent: list[float | None] = field(default_factory=list)

    def last_time(self) -> float:
        """The latest logical time this segment is known to have reached."""
        if self.t_end is not None:
            return self.t_end
        times = [self.t0] + [b.t for b in self.blocks] + [e.t for e in self.events[-1:]]
        return max(times)


@dataclass
class Recording:
    path: str
    segments: list[Segment]

    @property
    def events(self) -> list[Event]:
        return [ev for seg in self.segments for ev in seg.events]

    @property
    def blocks(self) -> list[Block]:
        return [b for seg in self.segments for b in seg.blocks]

    @property
    def t0(self) -> float:
        return self.segments[0].t0 if self.segments else 0.0


def load(path: str) -> Recording:
    """Read the recording at ``path`` (read-only; a file still being written is fine)."""
    if not os.path.exists(path):
        raise RecordError(f"no recording at {path}")
    try:
        db = sqlite3.connect(f"file:{os.path.abspath(path)}?mode=ro", uri=True)
        try:
            segs = {}
            for row in db.execute(
                "SELECT id, kind, t0, epoch, unix0, seed, tempo, snapshot, "
                "t_end, ending FROM segments ORDER BY id"
            ):
                segs[row[0]] = Segment(
                    row[0],
                    row[1],
                    row[2],
                    row[3],
                    row[4],
                    row[5],
                    row[6],
                    json.loads(row[7]),
                    row[8],
                    row[9],
                )
            for sid, t, wall, source, ok, error, text, ops in db.execute(
                "SELECT segment, t, wall, source, ok, error, text, ops FROM batches ORDER BY id"
            ):
                segs[sid].blocks.append(
                    Block(t, wall, source, bool(ok), error, text, ops_from_json(ops))
                )
            for sid, t, beat, sent, typ, neuron, ch, note, vel in db.execute(
                "SELECT segment, t, beat, sent, type, neuron, ch, note, vel FROM events ORDER BY id"
            ):
                seg = segs[sid]
                seg.events.append(Event(t, beat, typ, neuron, ch, note, vel))
                seg.sent.append(sent)
        finally:
            db.close()
    except (sqlite3.Error, KeyError, ValueError, TypeError, RecursionError) as exc:
        raise RecordError(f"{path} is not a readable livecode recording: {exc}") from None
    try:
        check_recording(list(segs.values()))
    except RecordError as exc:
        raise RecordError(f"{path} is not a valid livecode recording: {exc}") from None
    return Recording(path, list(segs.values()))


# --- offline replay --------------------------------------------------------------------------


@dataclass
class ReplayResult:
    events: list[Event]
    network: Network  # as it stood at the end
    tempo: float  # the tempo at the start (for a .mid file's tempo track)
    tempos: list[tuple[float, float]]  # (beat, bpm) of every tempo in force, from the start
    per_segment: list[list[Event]]  # the same events, split by the segment that played them


def replay_events(rec: Recording, until: float | None = None) -> ReplayResult:
    """Re-run ``rec`` through the model; the events as the engine(s) played them.

    A segment whose engine stopped ends as the engine did (notes released, All Notes Off
    on the channels it used); one whose engine died ends at its last recorded moment, its
    notes released there (the new engine silenced them); one stopped by ``record(False)``
    ends with its sounding notes released, so a file made from it has no hanging note.
    ``until`` stops early.
    """
    if not rec.segments:
        raise RecordError(f"{rec.path} holds no recording")
    events: list[Event] = []
    per_segment: list[list[Event]] = []
    tempos: list[tuple[float, float]] = []
    net = Network()
    first_tempo = float(rec.segments[0].snapshot.get("tempo", P.DEFAULT_TEMPO))
    for seg in rec.segments:
        net = Network(seed=seg.seed, tempo=seg.tempo)
        net.restore(seg.snapshot, t=seg.t0)
        out: list[Event] = []
        tempos.append((net.beat, net.tempo))
        end = seg.last_time() if until is None else min(until, seg.last_time())
        for block in seg.blocks:
            if not block.ok or block.t > end:
                continue
            out += net.advance(block.t)
            try:
                out += net.apply(Batch(block.ops, block.source, block.text), block.t)
            except (ModelError, P.EngineError, TypeError, ValueError) as exc:
                # the engine applied it: the file is not this model's, or was made up
                raise RecordError(
                    f"recorded batch at {block.t:.3f} s no longer applies: {exc}"
                ) from exc
            if any(isinstance(op, P.Tempo) for op in block.ops):
                tempos.append((net.beat, net.tempo))
        out += net.advance(end)
        if seg.ending == "quit" and until is None:  # the engine's own silence at its end
            channels = sorted({ev.ch for ev in out if ev.type == "note_on"})
            out += net.release_all()
            out += [
                Event(net.now, net.beat, "control_change", "", ch, ALL_NOTES_OFF, 0)
                for ch in channels
            ]
        else:
            out += net.release_all()
        events += out
        per_segment.append(out)
    return ReplayResult(events, net, first_tempo, tempos, per_segment)


# --- live replay (inside the engine process) -------------------------------------------------


def scale_batch(batch: Batch, speed: float) -> Batch:
    """``batch`` for a replay ``speed`` times as fast: tempo changes scaled, clamped 1..999."""
    if speed == 1.0:
        return batch
    ops = tuple(
        replace(op, bpm=min(999.0, max(1.0, op.bpm * speed))) if isinstance(op, P.Tempo) else op
        for op in batch.ops
    )
    return replace(batch, ops=ops)


def _scale_snapshot(snap: dict, speed: float) -> dict:
    snap = dict(snap)
    snap["tempo"] = min(999.0, max(1.0, float(snap.get("tempo", P.DEFAULT_TEMPO)) * speed))
    return snap


def replay_epoch(rec: Recording, speed: float, now: float, lead_in: float = 0.25) -> float:
    """The clock epoch that puts the recording's start ``lead_in`` seconds from ``now``."""
    return now + lead_in - rec.t0 / speed


def serve_replay(
    engine: EngineHooks, rec: Recording, speed: float = 1.0, since: float | None = None
) -> None:
    """Schedule ``rec`` into a running engine: the first snapshot restored at its ``t0``, every
    applied batch at its time, later segments rebuilt from their snapshots (all times divided
    by ``speed``).

    ``since``: this engine carries on a dead one, whose network it restored as it stood at
    logical time ``since`` (the dead engine's last status); only what came after that is
    scheduled. What fell due while the engine was down applies at once, in order: a restart
    takes longer than the status interval, and blocks of that gap must not be lost.
    """
    if not math.isfinite(speed) or speed <= 0:
        raise RecordError(f"speed must be a positive number, got {speed!r}")
    now = engine.clock.now()
    fresh = since is None
    after = now if since is None else since
    for i, seg in enumerate(rec.segments):
        t0 = seg.t0 / speed
        if i == 0 and fresh:
            engine.net.restore(_scale_snapshot(seg.snapshot, speed), t=max(t0, now))
        elif i > 0 and t0 > after:
            engine.schedule(
                Batch(
                    snapshot_ops(_scale_snapshot(seg.snapshot, speed)),
                    "replay",
                    f"# restart at {seg.t0:.3f} s",
                ),
                t0,
            )
        for block in seg.blocks:
            t = block.t / speed
            if block.ok and block.ops and (t > after or (i == 0 and fresh)):
                engine.schedule(scale_batch(Batch(block.ops, "replay", block.text), speed), t)
