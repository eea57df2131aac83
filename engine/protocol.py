"""The plain data that crosses the pipe: ops, batches, events, the engine's replies.

This is the contract between the performer's side (``livecode``) and the engine.
Operations are frozen dataclasses holding only builtins, so they pickle cheaply and
can be written to a session file or a recording; each carries its own check and effect
(:mod:`engine.model.ops`, re-exported here). A :class:`Batch` is applied whole, at one
instant, or not at all.

The parameter table :data:`PARAMS` (:mod:`engine.model.params`) is re-exported too because
both sides need it: the interpreter to validate and complete, the engine (model, OSC) to
clamp.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import EngineError, ProtocolError
from engine.model.events import Event
from engine.model.gm import DRUM_CH, GM_NAMES, program_name, program_number
from engine.model.ops import (
    FOLLOW_PARAMS,
    MAP_CURVES,
    MAP_SOURCES,
    OPS,
    Batch,
    Clear,
    ClockIn,
    Connect,
    DefineNeuron,
    Disconnect,
    Fire,
    Follow,
    Link,
    Listen,
    Map,
    MidiClock,
    Mix,
    Mute,
    NoteIn,
    Op,
    Panic,
    Program,
    Remove,
    Reset,
    SetParam,
    Solo,
    Start,
    Stop,
    Tempo,
    Unmap,
    conn_taps,
    op_fields,
)
from engine.model.params import (
    CONN_KINDS,
    DEFAULT_TEMPO,
    DEFAULT_WEIGHT,
    MAX_NAME,
    NAME_RE,
    PARAMS,
    TEMPO_RANGE,
    ParamSpec,
    clamp_param,
    default_params,
    note_name,
    note_number,
    number,
    valid_name,
    validate_param,
    validate_tempo,
)
from engine.model.vary import MARKOV_ORDERS, MAX_MEMORY, VARY_PARAMS, Choose, Markov, Vary, Walk

__all__ = [
    "NAME_RE",
    "MAX_NAME",
    "valid_name",
    "ParamSpec",
    "PARAMS",
    "TEMPO_RANGE",
    "CONN_KINDS",
    "DEFAULT_WEIGHT",
    "DEFAULT_TEMPO",
    "note_number",
    "note_name",
    "number",
    "validate_param",
    "clamp_param",
    "validate_tempo",
    "EngineError",
    "ProtocolError",
    "default_params",
    "Op",
    "OPS",
    "op_fields",
    "DefineNeuron",
    "SetParam",
    "Connect",
    "conn_taps",
    "Disconnect",
    "Remove",
    "Tempo",
    "Mute",
    "Solo",
    "Fire",
    "Reset",
    "Stop",
    "Start",
    "Panic",
    "Program",
    "Mix",
    "DRUM_CH",
    "GM_NAMES",
    "program_name",
    "program_number",
    "Clear",
    "Map",
    "Unmap",
    "MAP_SOURCES",
    "MAP_CURVES",
    "Listen",
    "Follow",
    "FOLLOW_PARAMS",
    "NoteIn",
    "MidiClock",
    "VARY_PARAMS",
    "MARKOV_ORDERS",
    "MAX_MEMORY",
    "Vary",
    "Walk",
    "Choose",
    "Markov",
    "Link",
    "ClockIn",
    "Batch",
    "Record",
    "Event",
    "Ack",
    "Status",
    "Notice",
    "PORT_NOT_FOUND",
]


@dataclass(frozen=True)
class Record:
    """A control message to the engine: record into ``path`` (a SQLite file), or stop (None)."""

    path: str | None = None


# --- engine replies ----------------------------------------------------------------------


@dataclass(frozen=True)
class Ack:
    """The engine's answer to a batch: applied at logical time ``t``, or refused with ``error``."""

    id: int
    ok: bool
    t: float
    error: str = ""
    wall: float = 0.0  # perf_counter() when the engine applied (or refused) it


@dataclass(frozen=True)
class Status:
    """A snapshot sent a few times a second; ``data`` holds plain builtins (see engine.runtime.loop)."""

    data: dict


# Notice.code of "the MIDI port asked for (--port) is not there": a headless run stops.
PORT_NOT_FOUND = "port-not-found"


@dataclass(frozen=True)
class Notice:
    """A line the engine wants the performer to read (MIDI port state, refusals from OSC...)."""

    text: str
    level: str = "info"  # "info", "warning", "error"
    code: str = ""  # what a program may act on: PORT_NOT_FOUND
