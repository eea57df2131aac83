"""Patch operations and events: the plain data that crosses the pipe.

This is the contract between the performer's side (``livecode``) and the engine.
Operations are frozen dataclasses holding only builtins, so they pickle cheaply and
can be written to a session file or a recording. A :class:`Batch` is applied whole,
at one instant, or not at all.

The parameter table :data:`PARAMS` lives here too because both sides need it: the
interpreter to validate and complete, the engine (model, OSC) to clamp.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.errors import ProtocolError

__all__ = [
    "ParamSpec",
    "PARAMS",
    "CONN_KINDS",
    "DEFAULT_WEIGHT",
    "DEFAULT_TEMPO",
    "note_number",
    "note_name",
    "validate_param",
    "clamp_param",
    "ProtocolError",
    "DefineNeuron",
    "SetParam",
    "Connect",
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
    "Op",
    "Batch",
    "Record",
    "Event",
    "Ack",
    "Status",
    "Notice",
    "validate_tempo",
]

DEFAULT_TEMPO = 120.0
DEFAULT_WEIGHT = 0.5
CONN_KINDS = ("pulse", "cont")
TEMPO_RANGE = (1.0, 999.0)


@dataclass(frozen=True)
class ParamSpec:
    """One neuron parameter: its default, its range and what it means."""

    name: str
    default: object
    lo: float | None
    hi: float | None
    kind: str  # "float", "int", "bool", "note"
    meaning: str

    def describe(self) -> str:
        if self.kind == "bool":
            rng = "True/False"
        elif self.kind == "note":
            rng = '0..127, a name like "C4", or a list'
        else:
            hi = "inf" if self.hi is None else f"{self.hi:g}"
            lo = "-inf" if self.lo is None else f"{self.lo:g}"
            rng = f"{lo}..{hi}"
        return f"{self.name} ({rng}, default {self.default!r}): {self.meaning}"


PARAMS: dict[str, ParamSpec] = {
    p.name: p
    for p in (
        ParamSpec("note", 60, 0, 127, "note", "MIDI note; a list is cycled one step per firing"),
        ParamSpec("thr", 1.0, 1e-6, None, "float", "threshold the activation must reach to fire"),
        ParamSpec("rate", 1.0, 0.0, 10000.0, "float", "activation gained per beat"),
        ParamSpec("leak", 0.0, 0.0, None, "float", "per beat: da/dt = rate - leak*a"),
        ParamSpec("refr", 0.0, 0.0, None, "float", "beats after firing when pulses are ignored"),
        ParamSpec("floor", -1.0, None, 0.0, "float", "activation never drops below this"),
        ParamSpec("phase", 0.0, 0.0, 1.0, "float", "starting activation as a fraction of thr"),
        ParamSpec("vel", 100, 1, 127, "int", "MIDI velocity"),
        ParamSpec("dur", 0.25, 0.0, None, "float", "note length in beats"),
        ParamSpec("ch", 1, 1, 16, "int", "MIDI channel"),
        ParamSpec("prob", 1.0, 0.0, 1.0, "float", "probability that a firing sounds"),
        ParamSpec("mute", False, None, None, "bool", "fires and resets, but sends nothing"),
    )
}

_NOTE_RE = re.compile(r"^([A-Ga-g])([#b]?)(-?\d)$")
_PITCH = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def note_number(value: object) -> int:
    """Turn ``60``, ``"C4"``, ``"F#3"`` or ``"Bb2"`` into a MIDI note 0..127 (C4 = 60)."""
    if isinstance(value, bool):
        raise ProtocolError(f'a note must be 0..127 or a name like "C4", got {value!r}')
    if isinstance(value, int):
        n = value
    elif isinstance(value, float) and value.is_integer():
        n = int(value)
    elif isinstance(value, str):
        m = _NOTE_RE.match(value.strip())
        if not m:
            raise ProtocolError(f'a note name looks like "C4", "F#3" or "Bb2", got {value!r}')
        letter, accidental, octave = m.groups()
        n = _PITCH[letter.upper()] + {"": 0, "#": 1, "b": -1}[accidental] + (int(octave) + 1) * 12
    else:
        raise ProtocolError(f'a note must be 0..127 or a name like "C4", got {value!r}')
    if not 0 <= n <= 127:
        raise ProtocolError(f"a note must be in range 0..127, got {value!r}")
    return n


def note_name(n: int) -> str:
    """The name of MIDI note ``n`` with sharps: 61 -> "C#4"."""
    return f"{_NAMES[n % 12]}{n // 12 - 1}"


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProtocolError(f"{name} must be a number, got {value!r}")
    v = float(value)
    if v != v or v in (float("inf"), float("-inf")):
        raise ProtocolError(f"{name} must be a finite number, got {value!r}")
    return v


def validate_param(name: str, value: object) -> object:
    """Check ``value`` for parameter ``name`` and return it normalised, or raise."""
    spec = PARAMS.get(name)
    if spec is None:
        raise ProtocolError(f"unknown parameter {name!r}; parameters are: {', '.join(PARAMS)}")
    if spec.kind == "note":
        if isinstance(value, (list, tuple)):
            if not value:
                raise ProtocolError("a note list must not be empty")
            if len(value) > 1024:
                raise ProtocolError(f"a note list holds at most 1024 notes, got {len(value)}")
            return tuple(note_number(v) for v in value)
        return note_number(value)
    if spec.kind == "bool":
        if isinstance(value, bool) or value in (0, 1):
            return bool(value)
        raise ProtocolError(f"{name} must be True or False, got {value!r}")
    v = _number(name, value)
    if (spec.lo is not None and v < spec.lo) or (spec.hi is not None and v > spec.hi):
        lo = "-inf" if spec.lo is None else f"{spec.lo:g}"
        hi = "inf" if spec.hi is None else f"{spec.hi:g}"
        raise ProtocolError(f"{name} must be in range {lo}..{hi}, got {value!r}")
    if spec.kind == "int":
        if not v.is_integer():
            raise ProtocolError(f"{name} must be a whole number, got {value!r}")
        return int(v)
    return v


def clamp_param(name: str, value: float) -> object:
    """Clamp a controller value into ``name``'s range (for OSC and MIDI mappings)."""
    spec = PARAMS.get(name)
    if spec is None or spec.kind == "note":
        if spec is not None:
            return max(0, min(127, int(round(_number(name, value)))))
        raise ProtocolError(f"unknown parameter {name!r}")
    if spec.kind == "bool":
        return bool(value)
    v = _number(name, value)
    if spec.lo is not None:
        v = max(spec.lo, v)
    if spec.hi is not None:
        v = min(spec.hi, v)
    return int(round(v)) if spec.kind == "int" else v


def validate_tempo(bpm: object) -> float:
    v = _number("tempo", bpm)
    if not TEMPO_RANGE[0] <= v <= TEMPO_RANGE[1]:
        raise ProtocolError(
            f"tempo must be in range {TEMPO_RANGE[0]:g}..{TEMPO_RANGE[1]:g} BPM, got {bpm!r}"
        )
    return v


# --- operations ------------------------------------------------------------------------


@dataclass(frozen=True)
class DefineNeuron:
    """Create ``name`` with ``params`` (every parameter), or update it keeping phase and connections."""

    name: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SetParam:
    name: str
    param: str
    value: object


@dataclass(frozen=True)
class Connect:
    """Create or replace the connection ``src -> dst``."""

    src: str
    dst: str
    w: float = DEFAULT_WEIGHT
    delay: float = 0.0
    kind: str = "pulse"


@dataclass(frozen=True)
class Disconnect:
    src: str
    dst: str


@dataclass(frozen=True)
class Remove:
    """Remove a neuron and its connections; its sounding notes stop at once."""

    name: str


@dataclass(frozen=True)
class Tempo:
    bpm: float


@dataclass(frozen=True)
class Mute:
    name: str
    on: bool = True


@dataclass(frozen=True)
class Solo:
    """Solo ``name`` (``on``), or take it out of the solo set; an empty set means all sound."""

    name: str
    on: bool = True


@dataclass(frozen=True)
class Fire:
    name: str


@dataclass(frozen=True)
class Reset:
    """Set the neuron's activation back to its starting phase."""

    name: str


@dataclass(frozen=True)
class Stop:
    """Freeze the network: no firings, sounding notes released; ``Start`` resumes."""


@dataclass(frozen=True)
class Start:
    pass


@dataclass(frozen=True)
class Panic:
    """All notes off now; the network keeps running."""


@dataclass(frozen=True)
class Clear:
    """Remove every neuron and connection; tempo stays."""


MAP_SOURCES = ("osc", "cc", "note")
MAP_CURVES = ("lin", "exp")


@dataclass(frozen=True)
class Map:
    """Route a controller onto the network; part of the network (saved, restored).

    ``source`` is "osc" (``address`` an OSC address such as "/1/fader1"), "cc"
    (``address`` "CH/CC", e.g. "1/74") or "note" (``address`` "CH" or "CH/NOTE").
    ``param`` is a neuron parameter set from the value mapped onto ``lo..hi`` along
    ``curve``, or "fire" (fires ``name`` when the value is above half), or "tempo"
    (``name`` empty). ``arg`` picks the OSC argument (``/1/xy1`` sends two floats).
    """

    source: str
    address: str
    name: str
    param: str
    lo: float = 0.0
    hi: float = 1.0
    curve: str = "lin"
    arg: int = 0


@dataclass(frozen=True)
class Unmap:
    """Remove mappings of ``address`` (only those driving ``name``/``param`` when given)."""

    source: str
    address: str
    name: str = ""
    param: str = ""


@dataclass(frozen=True)
class Listen:
    """Make ``name`` an input neuron (``on``), or an ordinary one again (``on=False``).

    An input neuron fires whenever a note-on arrives on MIDI channel ``ch`` (0: any)
    with a note in ``lo..hi``, at the moment it is processed, and plays (unless muted)
    the note and velocity it heard. Part of the network (saved, restored).
    """

    name: str
    ch: int = 0
    lo: int = 0
    hi: int = 127
    on: bool = True


FOLLOW_PARAMS = ("note", "vel")


@dataclass(frozen=True)
class Follow:
    """``name``'s ``param`` ("note" or "vel") becomes the last one ``src`` fired with, plus ``by``.

    ``src`` empty stops following. Setting ``param`` (SetParam, or redefining the
    neuron) stops it too. Part of the network (saved, restored).
    """

    name: str
    param: str
    src: str = ""
    by: int = 0


@dataclass(frozen=True)
class NoteIn:
    """A note-on from a MIDI input (``ch`` 1..16): fires every input neuron that listens to it."""

    ch: int
    note: int
    vel: int


@dataclass(frozen=True)
class MidiClock:
    """Send MIDI clock (24 pulses per beat, start/stop) on the output port, or stop sending it."""

    on: bool = True


Op = (
    DefineNeuron
    | SetParam
    | Connect
    | Disconnect
    | Remove
    | Tempo
    | Mute
    | Solo
    | Fire
    | Reset
    | Stop
    | Start
    | Panic
    | Clear
    | Map
    | Unmap
    | Listen
    | Follow
    | NoteIn
    | MidiClock
)


@dataclass(frozen=True)
class Batch:
    """Operations applied whole at one instant, or refused whole.

    ``refused`` carries the error of a block the interpreter refused before it was sent
    (no ops): the engine applies nothing and a recording keeps the block and the reason.
    """

    ops: tuple = ()
    source: str = "repl"  # "repl", "file", "osc", "midi", "restore", "replay"
    text: str = ""
    id: int = 0
    refused: str = ""


@dataclass(frozen=True)
class Record:
    """A control message to the engine: record into ``path`` (a SQLite file), or stop (None)."""

    path: str | None = None


@dataclass(unsafe_hash=True)
class Event:
    """One MIDI message the network produced, at logical time ``t`` seconds (``beat`` beats).

    Not frozen: the model makes one per MIDI message and a frozen ``__init__`` costs
    four times as much. Treat events as immutable all the same.
    """

    t: float
    beat: float
    type: str  # "note_on", "note_off", "control_change"
    neuron: str
    ch: int  # 1..16
    note: int  # for control_change: the controller number
    vel: int  # for control_change: the value

    def as_dict(self, sent: float | None = None) -> dict:
        """The JSON-lines record of DESIGN §5."""
        return {
            "t": round(self.t, 9),
            "sent": sent,
            "type": self.type,
            "neuron": self.neuron,
            "ch": self.ch,
            "note": self.note,
            "vel": self.vel,
        }


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


@dataclass(frozen=True)
class Notice:
    """A line the engine wants the performer to read (MIDI port state, refusals from OSC...)."""

    text: str
    level: str = "info"  # "info", "warning", "error"
