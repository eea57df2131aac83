"""The neuron's parameters: one table (defaults, ranges, kinds, usual control ranges) and the
checks every side uses (the language, the model, OSC and MIDI mappings).

Pure data and pure functions; :mod:`engine.protocol` re-exports them for the performer side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.errors import ProtocolError

__all__ = [
    "DEFAULT_TEMPO",
    "DEFAULT_WEIGHT",
    "CONN_KINDS",
    "TEMPO_RANGE",
    "ParamSpec",
    "PARAMS",
    "note_number",
    "note_name",
    "number",
    "validate_param",
    "clamp_param",
    "validate_tempo",
    "full_params",
    "default_params",
    "NAME_RE",
    "MAX_NAME",
    "valid_name",
]

# A neuron's name: what the language binds it to, what OSC addresses and saved files
# spell. The one rule, for the language, recordings and export alike.
NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
MAX_NAME = 64


def valid_name(name: object) -> bool:
    """Whether ``name`` can be a neuron's name (ASCII letters, digits, `_`; at most 64)."""
    return isinstance(name, str) and len(name) <= MAX_NAME and NAME_RE.fullmatch(name) is not None


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
    # what a controller moves it across when a mapping gives no lo/hi: the parameter's own
    # range where it has one, a musically useful stretch where it is unbounded
    usual: tuple[float, float] = (0.0, 1.0)

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
        ParamSpec(
            "note",
            60,
            0,
            127,
            "note",
            "MIDI note; a list is cycled one step per firing",
            usual=(0.0, 127.0),
        ),
        ParamSpec(
            "thr",
            1.0,
            1e-6,
            None,
            "float",
            "threshold the activation must reach to fire",
            usual=(0.1, 4.0),
        ),
        ParamSpec(
            "rate", 1.0, 0.0, 10000.0, "float", "activation gained per beat", usual=(0.0, 4.0)
        ),
        ParamSpec(
            "leak", 0.0, 0.0, None, "float", "per beat: da/dt = rate - leak*a", usual=(0.0, 4.0)
        ),
        ParamSpec(
            "refr",
            0.0,
            0.0,
            None,
            "float",
            "beats after firing when pulses are ignored",
            usual=(0.0, 1.0),
        ),
        ParamSpec(
            "floor",
            -1.0,
            None,
            0.0,
            "float",
            "activation never drops below this",
            usual=(-1.0, 0.0),
        ),
        ParamSpec(
            "phase",
            0.0,
            0.0,
            1.0,
            "float",
            "starting activation as a fraction of thr",
            usual=(0.0, 1.0),
        ),
        ParamSpec("vel", 100, 1, 127, "int", "MIDI velocity", usual=(1.0, 127.0)),
        ParamSpec("dur", 0.25, 0.0, None, "float", "note length in beats", usual=(0.05, 2.0)),
        ParamSpec("ch", 1, 1, 16, "int", "MIDI channel", usual=(1.0, 16.0)),
        ParamSpec(
            "prob", 1.0, 0.0, 1.0, "float", "probability that a firing sounds", usual=(0.0, 1.0)
        ),
        ParamSpec(
            "jitter",
            0.0,
            0.0,
            64.0,
            "float",
            "mean of a seeded random rest (beats, exponential) added after each firing",
            usual=(0.0, 0.5),
        ),
        ParamSpec(
            "mute",
            False,
            None,
            None,
            "bool",
            "fires and resets, but sends nothing",
            usual=(0.0, 1.0),
        ),
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


def number(name: str, value: object) -> float:
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
    v = number(name, value)
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
            return max(0, min(127, int(round(number(name, value)))))
        raise ProtocolError(f"unknown parameter {name!r}")
    if spec.kind == "bool":
        return bool(value)
    v = number(name, value)
    if spec.lo is not None:
        v = max(spec.lo, v)
    if spec.hi is not None:
        v = min(spec.hi, v)
    return int(round(v)) if spec.kind == "int" else v


def validate_tempo(bpm: object) -> float:
    v = number("tempo", bpm)
    if not TEMPO_RANGE[0] <= v <= TEMPO_RANGE[1]:
        raise ProtocolError(
            f"tempo must be in range {TEMPO_RANGE[0]:g}..{TEMPO_RANGE[1]:g} BPM, got {bpm!r}"
        )
    return v


def default_params() -> dict:
    """Every parameter at its default, in the order of :data:`PARAMS`."""
    return {name: spec.default for name, spec in PARAMS.items()}


def full_params(params: dict) -> dict:
    """Every parameter, validated; missing ones take their defaults."""
    return {
        name: validate_param(name, params[name]) if name in params else spec.default
        for name, spec in PARAMS.items()
    }
