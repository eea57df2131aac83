"""Checking a recording read from disk before anything uses it.

A recording may come from anyone (a file sent by mail, a crafted one): ``replay``,
``export`` and ``plot`` must meet only well-formed values. :func:`check_recording`
checks every row's types and ranges, every neuron name against the language's rule
(a name is written verbatim into an exported ``.neu``), and every segment's snapshot by
restoring it into a model, the one snapshot translation. The first problem raises
:class:`RecordError` naming the row and what is wrong.
"""

from __future__ import annotations

import math
from typing import Any

from engine import protocol as P
from engine.errors import EngineError
from engine.model.events import EVENT_TYPES
from engine.model.network import Network
from engine.record.recorder import RecordError

__all__ = ["check_recording"]

_NAME_FIELDS = ("name", "src", "dst")


def _finite(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise RecordError(f"{what} must be a finite number, got {_show(value)}")
    return float(value)


def _int(value: object, lo: int, hi: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise RecordError(f"{what} must be a whole number in {lo}..{hi}, got {_show(value)}")
    return value


def _text(value: object, what: str, optional: bool = True) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str):
        raise RecordError(f"{what} must be text, got {_show(value)}")


def _name(value: object, what: str, empty: bool = False) -> None:
    if empty and value == "":
        return
    if not P.valid_name(value):
        raise RecordError(
            f"{what} is not a neuron name (ASCII letters, digits and _, at most "
            f"{P.MAX_NAME}): {_show(value)}"
        )


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:60] + "..."


def check_recording(segments: list[Any]) -> None:
    """Raise :class:`RecordError` at the first ill-formed value of ``segments``."""
    for seg in segments:
        where = f"segment {seg.id}"
        _text(seg.kind, f"{where}: kind")
        _text(seg.ending, f"{where}: ending")
        t0 = _finite(seg.t0, f"{where}: t0")
        _finite(seg.epoch, f"{where}: epoch")
        _finite(seg.unix0, f"{where}: unix0")
        if seg.t_end is not None:
            _finite(seg.t_end, f"{where}: t_end")
        _int(seg.seed, -(2**63), 2**64, f"{where}: seed")
        tempo = _finite(seg.tempo, f"{where}: tempo")
        _check_snapshot(seg.snapshot, seg.seed, tempo, t0, where)
        for i, block in enumerate(seg.blocks):
            _check_block(block, f"{where}, batch {i + 1}")
        for i, ev in enumerate(seg.events):
            _check_event(ev, seg.sent[i], f"{where}, event {i + 1}")


def _check_snapshot(snap: object, seed: int, tempo: float, t0: float, where: str) -> None:
    if not isinstance(snap, dict):
        raise RecordError(f"{where}: the snapshot is not an object")
    neurons = snap.get("neurons")
    if not isinstance(neurons, dict):
        raise RecordError(f"{where}: the snapshot has no neurons")
    for name in neurons:
        _name(name, f"{where}: a neuron of the snapshot")
    try:
        Network(seed=seed, tempo=tempo).restore(snap, t=t0)
    except KeyError as exc:
        raise RecordError(f"{where}: the snapshot lacks {exc}") from None
    except (EngineError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise RecordError(f"{where}: the snapshot is not one: {exc}") from None
    for m in snap.get("mappings", ()):
        _name(m.get("name", ""), f"{where}: a mapping's neuron", empty=True)


def _check_block(block: Any, where: str) -> None:
    _finite(block.t, f"{where}: t")
    _finite(block.wall, f"{where}: wall")
    _text(block.source, f"{where}: source", optional=False)
    _text(block.error, f"{where}: error")
    _text(block.text, f"{where}: text")
    for op in block.ops:
        fields = P.op_fields(op)
        for key in _NAME_FIELDS:
            if key in fields:
                # empty is how some ops say "none" (Follow and Markov without a source)
                _name(fields[key], f"{where}: {type(op).__name__}.{key}", empty=True)


def _check_event(ev: Any, sent: object, where: str) -> None:
    _finite(ev.t, f"{where}: t")
    _finite(ev.beat, f"{where}: beat")
    if sent is not None:
        _finite(sent, f"{where}: sent")
    if ev.type not in EVENT_TYPES:
        raise RecordError(
            f"{where}: type must be one of {sorted(EVENT_TYPES)}, got {_show(ev.type)}"
        )
    _name(ev.neuron, f"{where}: neuron", empty=True)
    _int(ev.ch, 1, 16, f"{where}: ch")
    _int(ev.note, 0, 127, f"{where}: note")
    _int(ev.vel, 0, 127, f"{where}: vel")
