"""The running state of parameter processes (:mod:`engine.model.vary`): one stepper per
``(neuron, param)``, stepped once per firing with the network's seeded random state.

Pure. A stepper's moving part (a walk's value, a chain's context and what it learned) is
plain builtins through :meth:`dump` and :meth:`load`, so snapshots, restarts and replay
carry it.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections import deque
from itertools import accumulate

from engine.model.neuron import Neuron, time_to
from engine.model.params import PARAMS
from engine.model.vary import Choose, Markov, Vary, Walk

__all__ = [
    "Stepper",
    "Walker",
    "Chooser",
    "Chain",
    "stepper",
    "settle",
    "draw",
    "put",
    "attach",
    "settle_neuron",
]


def settle(param: str, value: float) -> float | int:
    """``value`` clamped into ``param``'s range; whole for notes and velocities."""
    spec = PARAMS[param]
    if spec.lo is not None and value < spec.lo:
        value = spec.lo
    if spec.hi is not None and value > spec.hi:
        value = spec.hi
    return int(round(value)) if spec.kind in ("int", "note") else float(value)


def _loaded(param: str, v: object) -> float | int:
    """A value from a snapshot, checked: a snapshot may come from a file."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ValueError(f"a drawn {param} must be a finite number, got {v!r}")
    return settle(param, v)


def _maybe(param: str, v: object) -> float | int | None:
    return None if v is None else _loaded(param, v)


class Stepper:
    """A process's running state; ``step(rng)`` is the value of this firing (None: the
    neuron's own parameter)."""

    op: Vary

    def step(self, rng: random.Random) -> float | int | None:
        raise NotImplementedError

    def current(self) -> float | int | None:
        """The value of the last step (None before the first)."""
        return None

    def learn(self, value: int) -> None:
        """An input neuron this process learns from heard ``value`` (most learn nothing)."""

    def dump(self) -> dict:
        return {}

    def load(self, d: dict) -> None:
        pass

    def describe(self) -> str:
        """What ``ls()`` adds after the call: the process's state."""
        return ""


class Walker(Stepper):
    op: Walk

    def __init__(self, op: Walk) -> None:
        self.op = op
        self.x = op.start if op.start is not None else (op.lo + op.hi) / 2.0
        self.stepped = False

    def step(self, rng: random.Random) -> float | int:
        op = self.op
        d = op.step if rng.random() < 0.5 else -op.step
        x = self.x + d
        if x > op.hi or x < op.lo:  # reflect at the bounds
            x = self.x - d
            x = op.hi if x > op.hi else op.lo if x < op.lo else x
        self.x = x
        self.stepped = True
        return settle(op.param, x)

    def current(self) -> float | int | None:
        return settle(self.op.param, self.x) if self.stepped else None

    def dump(self) -> dict:
        return {"x": self.x, "stepped": self.stepped}

    def load(self, d: dict) -> None:
        x = d["x"]
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
            raise ValueError(f"a walk's value must be a finite number, got {x!r}")
        self.x = min(self.op.hi, max(self.op.lo, float(x)))
        self.stepped = bool(d.get("stepped", True))

    def describe(self) -> str:
        return f"at {self.x:g}"


class Chooser(Stepper):
    op: Choose

    def __init__(self, op: Choose) -> None:
        self.op = op
        self.cum = list(accumulate(op.weights))
        self.last: float | int | None = None

    def step(self, rng: random.Random) -> float | int:
        cum = self.cum
        i = bisect_right(cum, rng.random() * cum[-1])
        v = self.op.values[min(i, len(cum) - 1)]
        self.last = v
        return v

    def current(self) -> float | int | None:
        return self.last

    def dump(self) -> dict:
        return {"last": self.last}

    def load(self, d: dict) -> None:
        last = d.get("last")
        self.last = last if last in self.op.values else None


class Chain(Stepper):
    """A Markov chain: a trained table, plus a window of the newest learned transitions."""

    op: Markov

    def __init__(self, op: Markov) -> None:
        self.op = op
        self.counts: dict[tuple, dict] = {}
        for ctx, row in op.table:
            self.counts[ctx] = dict(row)
        self.rows: dict[tuple, tuple[list, list]] = {}  # cumulative counts, built on demand
        self.ctx: tuple = tuple(op.start)
        self.heard: deque = deque(maxlen=op.order)  # the last values heard (learning)
        self.window: deque = deque()  # learned transitions, oldest first: (context, next)
        self.last: int | float | None = None

    def step(self, rng: random.Random) -> float | int | None:
        ctx = self.ctx
        row = self.rows.get(ctx)
        if row is None:
            counts = self.counts.get(ctx)
            if not counts:
                if not self.counts:
                    return None  # nothing learned yet: the neuron's own parameter
                # a dead end (what was played last was never followed): start again from
                # the oldest context there is
                ctx = next(iter(self.counts))
                counts = self.counts[ctx]
                row = self.rows.get(ctx)
            if row is None:
                row = self.rows[ctx] = (list(counts), list(accumulate(counts.values())))
        values, cum = row
        i = bisect_right(cum, rng.random() * cum[-1])
        v = values[i if i < len(values) else -1]
        self.ctx = (*ctx[1:], v)
        self.last = v
        return v

    def current(self) -> float | int | None:
        return self.last

    def learn(self, value: int) -> None:
        heard = self.heard
        if len(heard) == heard.maxlen:
            self._add(tuple(heard), value)
        heard.append(value)

    def _add(self, ctx: tuple, value: float | int) -> None:
        row = self.counts.setdefault(ctx, {})
        row[value] = row.get(value, 0) + 1
        self.rows.pop(ctx, None)
        if not self.ctx or len(self.ctx) != self.op.order:
            self.ctx = ctx
        self.window.append((ctx, value))
        if len(self.window) > self.op.memory:  # bounded memory: forget the oldest
            old, v = self.window.popleft()
            orow = self.counts[old]
            orow[v] -= 1
            if not orow[v]:
                del orow[v]
                if not orow:
                    del self.counts[old]
            self.rows.pop(old, None)

    def dump(self) -> dict:
        return {
            "ctx": list(self.ctx),
            "heard": list(self.heard),
            "window": [[*ctx, v] for ctx, v in self.window],
            "last": self.last,
        }

    def load(self, d: dict) -> None:
        fresh = Chain(self.op)
        self.__dict__.update(fresh.__dict__)
        param, order = self.op.param, self.op.order
        for item in list(d.get("window", ()))[-self.op.memory :]:
            *ctx, v = item
            if len(ctx) != order:
                raise ValueError(f"a learned transition holds {order + 1} values, got {item!r}")
            self._add(tuple(_loaded(param, c) for c in ctx), _loaded(param, v))
        self.heard.extend(_loaded(param, v) for v in list(d.get("heard", ()))[-order:])
        ctx = tuple(_loaded(param, v) for v in d.get("ctx", ()))
        if len(ctx) == order:
            self.ctx = ctx
        self.last = _maybe(param, d.get("last"))

    def describe(self) -> str:
        if not self.op.src:
            return ""
        n = len(self.window)
        values = {v for row in self.counts.values() for v in row}
        return f"learned {n} transition{'s' * (n != 1)} over {len(values)} values"


_KINDS: dict[type, type] = {Walk: Walker, Choose: Chooser, Markov: Chain}


def stepper(op: Vary) -> Stepper:
    """A fresh stepper for ``op``."""
    return _KINDS[type(op)](op)


_LOG_CAP = 8.0  # a jitter rest is at most this many times its mean


def draw(n: Neuron, rng: random.Random) -> None:
    """The firing of ``n`` draws its processes' values (and its jitter rest) into it."""
    for param, st in n.steppers:
        v = st.step(rng)
        if v is not None:
            put(n, param, v)
    if n.jitter > 0.0:
        rest = min(rng.expovariate(1.0 / n.jitter), _LOG_CAP * n.jitter)
        n.refr = float(n.params["refr"]) + rest


def put(n: Neuron, param: str, v: float | int) -> None:
    """Make ``v`` the value ``n`` uses for ``param`` until the next draw or patch."""
    if param == "note":
        n.notes = (int(v),)
        n.note_index = 0
    elif param == "vel":
        n.vel = int(v)
    elif param == "dur":
        n.dur = float(v)
    elif param == "prob":
        n.prob = float(v)
    elif param == "rate" and n.group is None:  # a cont group's rates are its matrix's
        n.rate = rate = float(v)
        n.big_a = rate / n.leak if n.leak > 0.0 else 0.0
        n.rise = time_to(0.0, n.thr, rate, n.leak, n.big_a)


def attach(neurons: dict[str, Neuron], sources: dict, old: dict[tuple[str, str], Stepper]) -> dict:
    """Steppers for ``sources`` (keeping those whose op is unchanged), attached to the
    neurons with their current values; returns them by ``(name, param)``."""
    new = {}
    per: dict[str, list] = {}
    for key, op in sources.items():
        st = old.get(key)
        if st is None or st.op != op:
            st = stepper(op)
        new[key] = st
        per.setdefault(key[0], []).append((key[1], st))
    for name, n in neurons.items():
        steppers = tuple(per.get(name, ()))
        if steppers != n.steppers:
            n.steppers = steppers
            n.set_params(n.params)  # a process that ended leaves the parameter's own value
        if steppers:
            settle_neuron(n)
    return new


def settle_neuron(n: Neuron) -> None:
    """Put back the processes' current values after ``n``'s parameters were set again."""
    for param, st in n.steppers:
        v = st.current()
        if v is not None:
            put(n, param, v)
