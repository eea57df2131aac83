"""A network as plain builtins and back: the structure through :class:`NetState`'s one
translation, plus what moves (activations, refractory time, note-list positions, what
input neurons heard, the random state, what parameter processes drew and learned).

Part of the model package: it reads the network's neurons directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.model import stochastic as _stochastic
from engine.model.ops import check_ops
from engine.model.state import NetState

if TYPE_CHECKING:
    from engine.model.events import Event
    from engine.model.network import Network

__all__ = ["take", "restore"]


def take(net: Network) -> dict:
    """The whole network as plain builtins (picklable, JSON-able)."""
    snap = net.state.to_snapshot()
    beat = net.beat
    for name, n in net._neurons.items():
        d = snap["neurons"][name]
        d["a"] = net._value(n, beat)
        d["note_index"] = n.note_index
        d["refr_left"] = max(0.0, n.refr_end - beat)
    version, internal, gauss = net._rng.getstate()
    snap.update(
        t=net.now,
        beat=beat,
        seed=net.seed,
        heard={name: list(h) for name, h in net.heard.items()},
        rng=[version, list(internal), gauss],
        drawn=[
            {"name": name, "param": param, "state": st.dump()}
            for (name, param), st in net.steppers.items()
        ],
    )
    return snap


def restore(net: Network, snap: dict, t: float | None = None) -> None:
    """Rebuild ``net`` from :func:`take` output, keeping activations (no notes sound).

    ``t`` (seconds, default the snapshot's) is the time the network resumes at: the beat
    position and every activation are the snapshot's, the time in between is skipped (as if
    stopped). Raises an EngineError, KeyError, TypeError or ValueError for a snapshot that is
    not one, before ``net`` changes.
    """
    state = NetState.from_snapshot(snap)
    todo = check_ops(state.to_ops(), set())
    drawn = {}  # what the processes drew and learned, loaded before anything changes
    for d in snap.get("drawn", ()):
        key = (d["name"], d["param"])
        op = state.sources.get(key)
        if op is not None:
            drawn[key] = _stochastic.stepper(op)
            drawn[key].load(d["state"])
    shape = net.shape + 1  # routers built on the old network must see a new one
    net.__init__(int(snap.get("seed", net.seed)), state.tempo)  # type: ignore[misc]
    net.state.shape = shape
    net.now = net._s0 = float(snap["t"] if t is None else t)
    net.beat = net._b0 = float(snap["beat"])
    if "rng" in snap:
        version, internal, gauss = snap["rng"]
        net._rng.setstate((version, tuple(internal), gauss))
    out: list[Event] = []
    for o in todo:  # the structure, without running or grouping: activations come next
        o.apply(net.state)
        o.act(net, net.beat, out)
    for name, n in net._neurons.items():
        d = snap["neurons"][name]
        n.note_index = min(int(d.get("note_index", 0)), len(n.notes) - 1)
        left = float(d.get("refr_left", 0.0))
        if left > 0.0:
            n.refr_end = net.beat + left
            n.a0, n.t0 = 0.0, n.refr_end
        else:
            n.a0, n.t0 = float(d["a"]), net.beat
        net._schedule(n)
    for name, h in snap.get("heard", {}).items():
        if name in net.state.inputs:
            net.heard[name] = (int(h[0]), int(h[1]))
    net.steppers = drawn
    net.revary()  # the loaded steppers into their neurons (the same ops: they are kept)
    net.refresh_all()
    net._rewire()
    net._build_groups(net.beat, [])
