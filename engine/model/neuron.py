"""One neuron: parameters, closed-form activation and crossing time; the model's errors."""

from __future__ import annotations

import math

from engine import protocol as P
from engine.errors import ModelError, UnknownNeuron

__all__ = ["ModelError", "UnknownNeuron", "Neuron", "full_params"]

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
    )

    def __init__(self, name: str, order: int, params: dict) -> None:
        self.name, self.order = name, order
        self.note_index = 0
        self.ver = 0
        self.vstamp = -1
        self.out0: list = []
        self.outd: list = []
        self.group = None  # engine.model.linear.Group when cont-coupled
        self.alive = True
        # what the neuron plays instead of its note/vel parameters: the note an input
        # neuron heard, or what a follow link gives (engine.model.listening); None: its own
        self.fnote = None
        self.fvel = None
        self.refr_end = -_INF
        self.last_fire = -_INF
        self.tc = self.due = _INF  # crossing time; time of the live heap entry
        self.set_params(params)

    def set_params(self, params: dict) -> None:
        self.params = params
        for k in ("thr", "rate", "leak", "refr", "floor", "phase", "dur", "prob"):
            setattr(self, k, float(params[k]))
        self.vel, self.ch, self.mute = params["vel"], params["ch"], params["mute"]
        note = params["note"] if self.fnote is None else self.fnote
        self.notes = note if isinstance(note, tuple) else (note,)
        if self.fvel is not None:
            self.vel = self.fvel
        self.note_index = min(self.note_index, len(self.notes) - 1)
        # cached for the hot path: the leak's asymptote and the rise time from 0 to thr
        self.big_a = self.rate / self.leak if self.leak > 0.0 else 0.0
        if self.leak == 0.0:
            self.rise = self.thr / self.rate if self.rate > 0.0 else _INF
        elif self.big_a > self.thr:
            self.rise = _log1p(self.thr / (self.big_a - self.thr)) / self.leak
        else:
            self.rise = _INF

    def value(self, t: float) -> float:
        """Closed-form activation at ``t`` (singletons; held at 0 while refractory)."""
        dt = t - self.t0
        if dt <= 0.0:
            return self.a0
        if self.leak == 0.0:
            return self.a0 + self.rate * dt
        big_a = self.rate / self.leak
        return big_a + (self.a0 - big_a) * _exp(-self.leak * dt)

    def crossing(self) -> float:
        """Closed-form beat at which the activation reaches ``thr`` from ``(a0, t0)``."""
        a0, thr = self.a0, self.thr
        if a0 >= thr:
            return self.t0
        if self.leak == 0.0:
            return self.t0 + (thr - a0) / self.rate if self.rate > 0.0 else _INF
        big_a = self.rate / self.leak
        if big_a <= thr:
            return _INF
        return self.t0 + _log1p((thr - a0) / (big_a - thr)) / self.leak


def full_params(params: dict) -> dict:
    """Every parameter, validated; missing ones take their defaults."""
    out = {}
    for name, spec in P.PARAMS.items():
        out[name] = P.validate_param(name, params[name]) if name in params else spec.default
    return out
