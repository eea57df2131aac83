"""One neuron: parameters, state, and the closed forms of its activation and crossing time."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.model.linear import Group
    from engine.model.stochastic import Stepper

__all__ = ["Neuron", "time_to"]

_INF = math.inf
_exp, _log1p = math.exp, math.log1p


class Neuron:
    """A neuron's parameters and, when not in a ``cont`` group, its state ``(a0, t0)``."""

    __slots__ = (
        "name",
        "order",
        "params",
        "thr",
        "rate",
        "leak",
        "refr",
        "floor",
        "phase",
        "vel",
        "dur",
        "ch",
        "prob",
        "mute",
        "notes",
        "note_index",
        "a0",
        "t0",
        "refr_end",
        "last_fire",
        "tc",
        "due",
        "big_a",
        "rise",
        "ver",
        "vstamp",
        "out0",
        "outd",
        "group",
        "alive",
        "fnote",
        "fvel",
        "jitter",
        "steppers",
        "vary",
        "gate",
    )

    name: str
    order: int
    params: dict
    thr: float
    rate: float
    leak: float
    refr: float
    floor: float
    phase: float
    vel: int
    dur: float
    ch: int
    prob: float
    mute: bool
    notes: tuple[int, ...]
    note_index: int
    a0: float  # activation at beat t0 (singletons)
    t0: float
    refr_end: float
    last_fire: float
    tc: float  # crossing beat
    due: float  # beat of the live heap entry
    big_a: float  # the leak's asymptote rate/leak
    rise: float  # beats from 0 to thr
    ver: int  # bumped to make heap entries stale
    vstamp: int  # the volley it last took part in
    out0: list[tuple[Neuron, float]]  # zero-delay pulse targets and weights
    outd: list[tuple[Neuron, float, float]]  # delayed ones: target, weight, delay
    group: Group | None  # its cont group, if it is cont-coupled
    alive: bool
    fnote: int | None
    fvel: int | None
    jitter: float
    steppers: tuple[tuple[str, Stepper], ...]  # (param, stepper): processes drawing params
    vary: bool  # steppers or jitter: the firing draws something
    gate: float  # prob, or -1.0 when it varies: the hot path's one test for both

    def __init__(self, name: str, order: int, params: dict) -> None:
        self.name, self.order = name, order
        self.note_index = 0
        self.ver = 0
        self.vstamp = -1
        self.out0 = []
        self.outd = []
        self.group = None  # engine.model.linear.Group when cont-coupled
        self.alive = True
        # what the neuron plays instead of its note/vel parameters: the note an input
        # neuron heard, or what a follow link gives (engine.model.listening); None: its own
        self.fnote = None
        self.fvel = None
        self.steppers = ()
        self.refr_end = -_INF
        self.last_fire = -_INF
        self.tc = self.due = _INF  # crossing time; time of the live heap entry
        self.set_params(params)

    def set_params(self, params: dict) -> None:
        self.params = params
        for k in ("thr", "rate", "leak", "refr", "floor", "phase", "dur", "prob", "jitter"):
            setattr(self, k, float(params[k]))
        self.vary = bool(self.steppers) or self.jitter > 0.0
        self.gate = -1.0 if self.vary else self.prob
        self.vel, self.ch, self.mute = params["vel"], params["ch"], params["mute"]
        note = params["note"] if self.fnote is None else self.fnote
        self.notes = note if isinstance(note, tuple) else (note,)
        if self.fvel is not None:
            self.vel = self.fvel
        self.note_index = min(self.note_index, len(self.notes) - 1)
        # cached for the hot path: the leak's asymptote and the rise time from 0 to thr
        self.big_a = self.rate / self.leak if self.leak > 0.0 else 0.0
        self.rise = time_to(0.0, self.thr, self.rate, self.leak, self.big_a)

    def value(self, t: float) -> float:
        """Closed-form activation at ``t`` (singletons; held at 0 while refractory)."""
        dt = t - self.t0
        if dt <= 0.0:
            return self.a0
        if self.leak == 0.0:
            return self.a0 + self.rate * dt
        return self.big_a + (self.a0 - self.big_a) * _exp(-self.leak * dt)

    def crossing(self) -> float:
        """Closed-form beat at which the activation reaches ``thr`` from ``(a0, t0)``."""
        if self.a0 >= self.thr:
            return self.t0
        return self.t0 + time_to(self.a0, self.thr, self.rate, self.leak, self.big_a)


def time_to(a: float, thr: float, rate: float, leak: float, big_a: float) -> float:
    """Beats from activation ``a`` (below ``thr``) to ``thr``: linear rise, or the leaky
    rise towards ``big_a = rate/leak`` (never, if that stays at or below ``thr``)."""
    if leak == 0.0:
        return (thr - a) / rate if rate > 0.0 else _INF
    if big_a <= thr:
        return _INF
    return _log1p((thr - a) / (big_a - thr)) / leak
