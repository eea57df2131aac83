"""The values of the language besides Python's plain data, and the limits on all values.

Plain data (int, float, bool, None, str, list, tuple, dict, range) is held as the
Python objects themselves. The language has no way to mutate a list or dict in place
(no methods, no item assignment), so values are effectively immutable and a block can
be rolled back by copying the variable table shallowly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from livecode.language.budget import Budget, Limits, Neuronish
from livecode.language.errors import BadType, BadValue, LimitExceeded

__all__ = [
    "NeuronRef",
    "Recipe",
    "Target",
    "OscSource",
    "MidiSource",
    "ListenRecipe",
    "FollowSource",
    "DrawnSource",
    "LangFunction",
    "Text",
    "Budget",
    "Limits",
    "type_name",
    "show",
    "make_range",
    "check_int",
    "check_number",
    "flatten_neurons",
]


@dataclass(frozen=True)
class NeuronRef(Neuronish):
    """A reference to the engine's neuron ``name`` (``a = n1`` makes a second one)."""

    name: str


@dataclass(frozen=True)
class Recipe(Neuronish):
    """What ``neuron(...)`` returns: a neuron not yet named. Binding it to a name defines it."""

    params: tuple  # ((param, normalised value), ...) as given, note first

    def as_dict(self) -> dict:
        return dict(self.params)


@dataclass(frozen=True)
class Target(Neuronish):
    """``n2 @ -0.4``: the neurons on the right of ``>>`` with the weight to connect them by."""

    neurons: object  # a NeuronRef, or a list/tuple of them
    w: float


@dataclass(frozen=True)
class OscSource:
    """What ``osc(...)`` returns: a controller to assign to a parameter (``n1.thr = osc(...)``),
    to ``.fire`` or to ``tempo()``. ``lo``/``hi`` None means the target's usual range."""

    address: str
    lo: float | None = None
    hi: float | None = None
    curve: str = "lin"
    arg: int = 0


@dataclass(frozen=True)
class MidiSource:
    """What ``cc(...)`` and ``noteon(...)`` return: a MIDI control to assign like an OSC one.

    ``kind`` is "cc" (``number`` the controller) or "note" (``number`` the note, None for
    any); ``ch`` 0 means any channel.
    """

    kind: str
    number: int | None
    ch: int = 0
    lo: float | None = None
    hi: float | None = None
    curve: str = "lin"
    arg: int = 0  # unused: keeps the shape of OscSource for the shared range code

    @property
    def address(self) -> str:
        """The protocol's address: "CH/CC", "CH/NOTE" or "CH"."""
        return f"{self.ch}" if self.number is None else f"{self.ch}/{self.number}"


@dataclass(frozen=True)
class ListenRecipe(Recipe):
    """What ``listen(...)`` returns: a new input neuron, defined when bound to a name."""

    ch: int = 0
    lo: int = 0
    hi: int = 127


@dataclass(frozen=True)
class FollowSource:
    """What ``follow(keys, 7)`` returns: assigned to ``.note`` or ``.vel`` it links them."""

    src: str
    by: int = 0


@dataclass(frozen=True)
class DrawnSource:
    """What ``walk()``, ``choose()`` and ``markov()`` return: assigned to a parameter, a
    seeded process draws it once per firing. ``make(name, param)`` is the op (a chain is
    trained for the parameter it draws); ``call`` is the text ``save()`` writes."""

    call: str
    make: Callable = field(repr=False, compare=False)


@dataclass(frozen=True)
class LangFunction:
    """One of the language's functions. ``impl(ctx, args, kwargs)`` gets evaluated arguments."""

    name: str
    impl: Callable = field(repr=False, compare=False)
    signature: str = ""
    doc: str = ""


class Text(str):
    """A string that the REPL prints as it is (``ls()``, ``help()``) rather than quoted."""


def type_name(value: object) -> str:
    """The language's name for a value's kind, for messages."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, NeuronRef):
        return "neuron"
    if isinstance(value, Recipe):
        return "new neuron"
    if isinstance(value, Target):
        return "weighted target"
    if isinstance(value, OscSource):
        return "osc control"
    if isinstance(value, MidiSource):
        return "midi control"
    if isinstance(value, FollowSource):
        return "follow link"
    if isinstance(value, DrawnSource):
        return "process"
    if isinstance(value, LangFunction):
        return "function"
    if value is None:
        return "None"
    return {
        int: "int",
        float: "float",
        str: "str",
        list: "list",
        tuple: "tuple",
        dict: "dict",
        range: "range",
        Text: "str",
    }.get(type(value), type(value).__name__)


def check_number(value: object, what: str, *, finite: bool = True) -> float:
    """``value`` as a float, or BadType/BadValue naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadType(f"{what} must be a number, got {type_name(value)} {show(value)}")
    try:
        v = float(value)
    except OverflowError:
        raise BadValue(f"{what} is too large, got {show(value)}") from None
    if finite and not math.isfinite(v):
        raise BadValue(f"{what} must be a finite number, got {show(value)}")
    return v


def check_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadType(f"{what} must be a whole number (int), got {type_name(value)} {show(value)}")
    return value


def make_range(args: list, budget: Budget) -> range:
    """``range(...)`` with int arguments and at most ``iterations`` items left in the block."""
    if not 1 <= len(args) <= 3:
        raise BadType(f"range() takes 1 to 3 arguments, got {len(args)}")
    ints = [check_int(a, "a range() argument") for a in args]
    if len(ints) == 3 and ints[2] == 0:
        raise BadValue("range() step must not be zero")
    r = range(*ints)
    try:
        n: float = len(r)
    except OverflowError:
        n = math.inf
    left = budget.limits.iterations - budget.iterations
    if n > left:
        size = "more than 2**63" if n == math.inf else f"{n:,}"
        raise LimitExceeded(
            f"range of {size} items is refused: a block may loop at most "
            f"{budget.limits.iterations:,} times ({left:,} left)"
        )
    return r


def flatten_neurons(value: object, depth: int = 0) -> list:
    """The neuron-like items of ``value``: a NeuronRef/Recipe, or lists/tuples of them."""
    if isinstance(value, (list, tuple)):
        if depth > 20:
            raise LimitExceeded("neuron lists may be nested at most 20 deep")
        out: list = []
        for item in value:
            out += flatten_neurons(item, depth + 1)
        return out
    return [value]


def show(value: object, limit: int = 10_000) -> str:
    """The language's repr of ``value``, cut at ``limit`` characters and 100 levels deep."""
    parts: list[str] = []
    size = [0]

    def put(s: str) -> None:
        parts.append(s)
        size[0] += len(s)
        if size[0] > limit:
            raise _Cut

    def walk(v: object, depth: int) -> None:
        if depth > 100:
            put("...")
            return
        if isinstance(v, NeuronRef):
            put(v.name)
        elif isinstance(v, ListenRecipe):
            put(listen_call(v.ch, v.lo, v.hi))
        elif isinstance(v, Recipe):
            put("neuron(" + ", ".join(f"{k}={show(x, 200)}" for k, x in v.params) + ")")
        elif isinstance(v, Target):
            walk(v.neurons, depth + 1)
            put(f" @ {v.w!r}")
        elif isinstance(v, LangFunction):
            put(f"<function {v.name}>")
        elif isinstance(v, OscSource):
            put(osc_call(v))
        elif isinstance(v, MidiSource):
            put(midi_call(v))
        elif isinstance(v, FollowSource):
            put(f"follow({v.src}{f', {v.by}' if v.by else ''})")
        elif isinstance(v, DrawnSource):
            put(v.call)
        elif isinstance(v, (list, tuple)):
            put("[" if isinstance(v, list) else "(")
            for i, item in enumerate(v):
                if i:
                    put(", ")
                walk(item, depth + 1)
            if isinstance(v, tuple) and len(v) == 1:
                put(",")
            put("]" if isinstance(v, list) else ")")
        elif isinstance(v, dict):
            put("{")
            for i, (k, item) in enumerate(v.items()):
                if i:
                    put(", ")
                walk(k, depth + 1)
                put(": ")
                walk(item, depth + 1)
            put("}")
        elif isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > 4 * limit:
            put("<a very large int>")
        elif isinstance(v, (bool, int, float, str, range)) or v is None:
            put(repr(str(v)) if isinstance(v, Text) else repr(v))
        else:
            put(f"<{type_name(v)}>")

    try:
        walk(value, 0)
    except _Cut:
        return "".join(parts)[:limit] + "..."
    return "".join(parts)


class _Cut(Exception):
    pass


def osc_call(src: OscSource) -> str:
    """``osc("/1/fader1", 0.5, 2.0, curve="exp", arg=1)``: the text that makes ``src``."""
    parts = [repr(src.address)]
    if src.lo is not None or src.hi is not None:
        parts += [repr(src.lo), repr(src.hi)]
    if src.curve != "lin":
        parts.append(f"curve={src.curve!r}")
    if src.arg:
        parts.append(f"arg={src.arg}")
    return f"osc({', '.join(parts)})"


def midi_call(src: MidiSource) -> str:
    """``cc(74, 0.25, 8, curve="exp", ch=1)`` / ``noteon(36, ch=10)``: the text that makes ``src``."""
    parts = [] if src.number is None else [repr(src.number)]
    if src.lo is not None or src.hi is not None:
        parts += (
            [f"lo={src.lo!r}", f"hi={src.hi!r}"]
            if src.number is None
            else [repr(src.lo), repr(src.hi)]
        )
    if src.curve != "lin":
        parts.append(f"curve={src.curve!r}")
    if src.ch:
        parts.append(f"ch={src.ch}")
    return f"{'cc' if src.kind == 'cc' else 'noteon'}({', '.join(parts)})"


def listen_call(ch: int, lo: int, hi: int) -> str:
    """``listen(ch=1, lo=36, hi=72)``: the text that makes an input neuron."""
    parts = (
        ([f"ch={ch}"] if ch else [])
        + ([f"lo={lo}"] if lo else [])
        + ([f"hi={hi}"] if hi != 127 else [])
    )
    return f"listen({', '.join(parts)})"
