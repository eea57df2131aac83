"""The values of the language besides Python's plain data, and the limits on all values.

Plain data (int, float, bool, None, str, list, tuple, dict, range) is held as the
Python objects themselves. The language has no way to mutate a list or dict in place
(no methods, no item assignment), so values are effectively immutable and a block can
be rolled back by copying the variable table shallowly.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from livecode.language.errors import BadType, BadValue, LimitExceeded

__all__ = [
    "NeuronRef",
    "Recipe",
    "Target",
    "OscSource",
    "MidiSource",
    "ListenRecipe",
    "FollowSource",
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
class Limits:
    """Per-block bounds; every block is refused whole when it would pass one."""

    iterations: int = 10_000  # loop and comprehension steps, ranges, builtin scans
    nodes: int = 300_000  # syntax-tree nodes visited
    work: int = 20_000_000  # items touched by builtins (sorted, sum, in, ==...)
    cells: int = 2_000_000  # list/tuple/dict items and string characters built
    items: int = 100_000  # largest single list/tuple/dict
    chars: int = 100_000  # longest single string
    int_bits: int = 4096  # largest integer magnitude, in bits
    tree: int = 1_000_000  # items reachable from one value, counting shared ones each time
    depth: int = 100  # deepest nesting of containers shown or named
    load_depth: int = 8  # load() inside load()
    nesting: int = 100  # syntax nested inside syntax (checked before anything runs)
    source: int = 200_000  # characters parsed: the block and every file it loads
    seconds: float = 0.5  # CPU time the interpreter may spend on one block


# Characters of a string that cost as much as one item when C code compares them.
STR_UNIT = 256


@dataclass
class Budget:
    """What one block has used so far of its :class:`Limits`."""

    limits: Limits = field(default_factory=Limits)
    iterations: int = 0
    nodes: int = 0
    cells: int = 0
    worked: int = 0
    parsed: int = 0
    started: float = field(default_factory=time.thread_time)
    _sizes: dict = field(default_factory=dict, repr=False)

    def parse(self, n: int, filename: str) -> None:
        """Account for ``n`` characters of source about to be parsed and checked.

        Charged for the block and for every file it loads, each time: `load()` in a loop
        or a file that loads itself pays for every parse.
        """
        self.parsed += n
        if self.parsed > self.limits.source:
            raise LimitExceeded(
                f"a block may parse at most {self.limits.source:,} characters, counting "
                f"the files it loads (each time); {filename} brings it to {self.parsed:,}"
            )

    def cost(self, value: object) -> int:
        """The work of walking ``value`` in C (``==``, ``in``, hashing): its tree size."""
        if isinstance(value, str):
            return 1 + len(value) // STR_UNIT
        return self.track(value)

    def track(self, value: object) -> int:
        """The tree size of ``value``, refused over ``limits.tree``.

        A list holding the same list 21 times, 20 levels deep, is small in memory but
        exponential for anything that walks it (``==`` in C cannot be interrupted), so
        every container a block makes is measured as a tree; the memo keeps it linear.
        """
        return self._measure(value)[0]

    def holds_neurons(self, value: object) -> bool:
        """Whether ``value`` holds a neuron (made or to be made) anywhere inside.

        Binding a value looks for neurons in it, in Python; with this (memoised with the
        tree size) a big list of numbers is looked through once per block, not once per
        assignment.
        """
        return self._measure(value)[1]

    def _measure(self, value: object) -> tuple[int, bool]:
        if isinstance(value, str):
            return 1 + len(value) // STR_UNIT, False
        if not isinstance(value, (list, tuple, dict)):
            return 1, isinstance(value, (NeuronRef, Recipe, Target))
        hit = self._sizes.get(id(value))
        if hit is not None and hit[0] is value:
            return hit[1], hit[2]
        total, holds = 1, False
        items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
        for item in items:
            size, has = self._measure(item)
            total += size
            holds = holds or has
            if total > self.limits.tree:
                raise LimitExceeded(
                    f"a value may hold at most {self.limits.tree:,} items "
                    f"counting nested ones (shared lists count each time)"
                )
        self._sizes[id(value)] = (value, total, holds)  # holding value keeps its id unique
        return total, holds

    def iterate(self, n: int = 1) -> None:
        self.iterations += n
        if self.iterations > self.limits.iterations:
            raise LimitExceeded(
                f"a block may loop at most {self.limits.iterations:,} times in total "
                f"(loops, comprehensions and ranges together)"
            )

    def visit(self) -> None:
        """One step of checking or evaluating; now and then, the CPU time spent so far.

        The counters bound what C code does in one go (it cannot be stopped); the
        clock bounds the sum of the many small steps, whatever mix of them a block uses.
        Thread CPU time: a busy machine does not make a block look costlier.
        """
        self.nodes += 1
        if self.nodes > self.limits.nodes:
            raise LimitExceeded(f"a block may evaluate at most {self.limits.nodes:,} steps")
        if not self.nodes & 1023 and time.thread_time() - self.started > self.limits.seconds:
            raise LimitExceeded(
                f"a block may compute for at most {self.limits.seconds:g} s; "
                f"this one was stopped after {self.nodes:,} steps"
            )

    def work(self, n: int) -> None:
        """Account for ``n`` item-steps done at C speed inside a builtin or operator."""
        self.worked += n
        if self.worked > self.limits.work:
            raise LimitExceeded(
                f"a block may touch at most {self.limits.work:,} items in builtins and comparisons"
            )

    def build(self, n: int, what: str = "value") -> None:
        """Account for a new container of ``n`` items (or a string of ``n`` characters)."""
        limit = self.limits.chars if what == "string" else self.limits.items
        if n > limit:
            raise LimitExceeded(
                f"a {what} may hold at most {limit:,} "
                f"{'characters' if what == 'string' else 'items'}, got {n:,}"
            )
        self.cells += n
        if self.cells > self.limits.cells:
            raise LimitExceeded(f"a block may build at most {self.limits.cells:,} items in total")

    def check_int(self, value: object) -> object:
        if isinstance(value, int) and value.bit_length() > self.limits.int_bits:
            raise LimitExceeded(f"integers are limited to {self.limits.int_bits} bits")
        return value


@dataclass(frozen=True)
class NeuronRef:
    """A reference to the engine's neuron ``name`` (``a = n1`` makes a second one)."""

    name: str


@dataclass(frozen=True)
class Recipe:
    """What ``neuron(...)`` returns: a neuron not yet named. Binding it to a name defines it."""

    params: tuple  # ((param, normalised value), ...) as given, note first

    def as_dict(self) -> dict:
        return dict(self.params)


@dataclass(frozen=True)
class Target:
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
