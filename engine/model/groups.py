"""Forming and dissolving ``cont`` groups: neurons joined by continuous coupling are solved
together (:class:`engine.model.linear.Group`); everything else is a singleton.

Pure functions over the network's neurons and connections; the network schedules what
they return.
"""

from __future__ import annotations

from engine.model.linear import NORMAL, REFRACTORY, Group
from engine.model.neuron import Neuron
from engine.model.schedule import EPS
from engine.model.state import Conn

__all__ = ["dissolve", "build"]


def dissolve(groups: list[Group], t: float) -> list[Neuron]:
    """Turn every group member back into a singleton state at beat ``t``; return them."""
    loose = []
    for g in groups:
        z = g.state_at(t)
        for i, n in enumerate(g.members):
            if g.mode[i] == REFRACTORY and n.refr_end > t:
                n.a0, n.t0 = 0.0, n.refr_end
            else:
                n.a0, n.t0 = float(z[i]), t
            n.group = None
            loose.append(n)
        g.alive = False
    return loose


def build(neurons: dict[str, Neuron], conns: dict[tuple[str, str], Conn], t: float) -> list[Group]:
    """The cont groups of ``conns`` at beat ``t``, their members joined to them."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for (s, d), c in conns.items():
        if c.kind == "cont":
            parent.setdefault(s, s)
            parent.setdefault(d, d)
            parent[root(s)] = root(d)
    comps: dict[str, list[Neuron]] = {}
    for name in parent:
        comps.setdefault(root(name), []).append(neurons[name])
    groups = []
    for members in comps.values():
        members.sort(key=lambda n: n.order)
        index = {n.name: i for i, n in enumerate(members)}
        coupling: dict[tuple[int, int], float] = {}
        for (s, d), c in conns.items():
            if c.kind == "cont" and s in index:
                key = (index[d], index[s])
                coupling[key] = coupling.get(key, 0.0) + c.taps[0][0]  # cont: one tap
        x = [n.value(t) for n in members]
        mode = [REFRACTORY if n.refr_end > t + EPS else NORMAL for n in members]
        g = Group(members, coupling, t, x, mode)
        g.update_modes(t)
        for n in members:
            n.group = g
            n.ver += 1
        groups.append(g)
    return groups
