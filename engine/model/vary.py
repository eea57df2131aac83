"""Ops that make a neuron parameter follow a seeded process instead of a constant.

One process per ``(neuron, param)``, stepped once per firing with the network's seeded
random state (:mod:`engine.model.stochastic` steps them): a bounded random walk
(:class:`Walk`), a weighted choice (:class:`Choose`) and a Markov chain (:class:`Markov`),
trained by the performer's side from a file or a list, or learning live from what an
input neuron hears. Each op is plain data (its table included) and carries ``call``, the
language text that made it, which ``save()`` writes back. Setting the parameter,
redefining the neuron or a ``Follow`` on it ends the process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from engine.errors import ModelError, ProtocolError
from engine.model.ops import Names, Op, _need, _whole
from engine.model.params import number, validate_param

if TYPE_CHECKING:
    from engine.model.events import Event
    from engine.model.network import Network
    from engine.model.state import NetState

__all__ = [
    "VARY_PARAMS",
    "MARKOV_ORDERS",
    "MAX_MEMORY",
    "MAX_TABLE",
    "Vary",
    "Walk",
    "Choose",
    "Markov",
    "Table",
]

#: the parameters a process may draw: what a neuron plays, and its rate (the next rise)
VARY_PARAMS = ("note", "vel", "dur", "prob", "rate")
MARKOV_ORDERS = (1, 2, 3, 4)
MAX_TABLE = 65536  # transitions a chain may carry in one op
MAX_MEMORY = 4096  # transitions a learning chain keeps (its newest ones)
MAX_CALL = 512

#: a Markov table: ``((context, ((next, count), ...)), ...)``, contexts as tuples of values
Table = tuple[tuple[tuple, tuple[tuple[object, int], ...]], ...]


def scalar(param: str, value: object) -> float | int:
    """``value`` checked for ``param`` as one number (a note name becomes its number)."""
    v = validate_param(param, value)
    if isinstance(v, tuple) or isinstance(v, bool):
        raise ModelError(f"{param} takes one value here, got {value!r}")
    assert isinstance(v, (int, float))
    return v


class Vary(Op):
    """Base of the process ops: ``name``'s ``param`` is drawn once per firing."""

    abstract: ClassVar[bool] = True
    name: str
    param: str
    call: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.param)

    def _check_target(self, names: Names) -> None:
        _need(names, self.name)
        if self.param not in VARY_PARAMS:
            raise ModelError(f"a process draws {', '.join(VARY_PARAMS)}, not {self.param!r}")
        if not isinstance(self.call, str) or len(self.call) > MAX_CALL:
            raise ModelError(f"call must be text of at most {MAX_CALL} characters")

    def apply(self, state: NetState) -> None:
        state.unfollow(self.name, self.param)  # one source per parameter
        state.sources[self.key] = self

    def act(self, net: Network, t: float, out: list[Event]) -> None:
        net.revary()


@dataclass(frozen=True)
class Walk(Vary):
    """A bounded random walk: each firing moves the value ``step`` up or down (even odds),
    reflected at ``lo``/``hi``; it starts at ``start`` (None: halfway)."""

    name: str
    param: str
    lo: float
    hi: float
    step: float
    start: float | None = None
    call: str = ""

    def check(self, names: Names) -> Walk:
        self._check_target(names)
        lo, hi = scalar(self.param, self.lo), scalar(self.param, self.hi)
        if lo > hi:
            raise ModelError(f"a walk's range lo..hi is empty, got {lo:g}..{hi:g}")
        step = number("step", self.step)
        if not 0 < step <= (hi - lo or step):
            raise ModelError(f"a walk's step must be above 0 and at most hi - lo, got {step:g}")
        start = None
        if self.start is not None:
            start = number("start", self.start)
            if not lo <= start <= hi:
                raise ModelError(f"a walk's start must be in {lo:g}..{hi:g}, got {start:g}")
        return Walk(self.name, self.param, float(lo), float(hi), step, start, self.call)


@dataclass(frozen=True)
class Choose(Vary):
    """Each firing draws one of ``values`` with the given ``weights`` (empty: even)."""

    name: str
    param: str
    values: tuple
    weights: tuple = ()
    call: str = ""

    def check(self, names: Names) -> Choose:
        self._check_target(names)
        if not isinstance(self.values, (list, tuple)) or not 1 <= len(self.values) <= 1024:
            raise ModelError(f"choose takes 1..1024 values, got {self.values!r}")
        values = tuple(scalar(self.param, v) for v in self.values)
        if not isinstance(self.weights, (list, tuple)):
            raise ModelError(f"weights must be a list of numbers, got {self.weights!r}")
        weights = tuple(number("a weight", w) for w in self.weights) or (1.0,) * len(values)
        if len(weights) != len(values):
            raise ModelError(
                f"choose needs one weight per value: {len(values)} values, {len(weights)} weights"
            )
        if any(w < 0 for w in weights) or sum(weights) <= 0:
            raise ModelError(f"weights must be >= 0 with a positive sum, got {list(weights)}")
        return Choose(self.name, self.param, values, weights, self.call)


@dataclass(frozen=True)
class Markov(Vary):
    """A Markov chain of ``order``: each firing draws the next value from the counts that
    follow the last ``order`` values it played, with the seeded random state.

    ``table`` is what the performer's side trained (``start``: the context it starts
    from). ``src`` names an input neuron the chain learns from live: every note (or
    velocity) it hears adds a transition, and only the newest ``memory`` are kept. A chain
    with nothing to draw from lets the neuron play its own parameter.
    """

    name: str
    param: str
    order: int = 1
    table: tuple = ()
    start: tuple = ()
    src: str = ""
    memory: int = 512
    call: str = ""

    def check(self, names: Names) -> Markov:
        self._check_target(names)
        order = _whole("order", self.order, 1, MARKOV_ORDERS[-1])
        _whole("memory", self.memory, 1, MAX_MEMORY)
        if self.src:
            _need(names, self.src)
            if self.param not in ("note", "vel"):
                raise ModelError(f"a chain learns notes or velocities, not {self.param!r}")
        table = self._table(order)
        if not table and not self.src:
            raise ModelError("a chain needs a table to draw from or an input neuron to learn from")
        if not isinstance(self.start, (list, tuple)):
            raise ModelError(f"start must be a list of values, got {self.start!r}")
        start = tuple(scalar(self.param, v) for v in self.start)
        if table and len(start) != order:
            raise ModelError(f"start must hold {order} values, got {len(start)}")
        return Markov(self.name, self.param, order, table, start, self.src, self.memory, self.call)

    def _table(self, order: int) -> Table:
        if not isinstance(self.table, (list, tuple)):
            raise ModelError(f"table must be a list of (context, nexts) pairs, got {self.table!r}")
        rows = []
        total = 0
        seen = set()
        try:
            for ctx, nexts in self.table:
                key = tuple(scalar(self.param, v) for v in ctx)
                if len(key) != order or key in seen:
                    raise ModelError(f"each context holds {order} values, once: {list(ctx)!r}")
                seen.add(key)
                row = []
                for value, count in nexts:
                    row.append((scalar(self.param, value), _whole("a count", count, 1, 1 << 30)))
                total += len(row)
                if not row or total > MAX_TABLE:
                    raise ModelError(
                        f"each context needs a next value; at most {MAX_TABLE} transitions"
                    )
                rows.append((key, tuple(row)))
        except (TypeError, ValueError, ProtocolError) as exc:
            raise ModelError(
                f"a chain's table is (context, ((next, count), ...)) pairs: {exc}"
            ) from None
        return tuple(rows)
