"""The network's structure — what a session file says — and its one translation to and from
snapshots and ops.

:class:`NetState` holds neurons' parameters, connections, tempo, solo set, running flag,
controller mappings, input neurons, follow links, the clock-out flag and each channel's
GM program, volume and pan, and the tempo authority (Link or MIDI clock in, when not
the network's own). Ops change it
through their own ``apply`` (:mod:`engine.model.ops`); the engine's network keeps one, and
so does the performer's side as its picture of the engine's network. Activations, sounding
notes and what input neurons heard are the simulation's (:mod:`engine.model.network`).

Snapshots are plain builtins (JSON in recordings, pickles in the pipe). :meth:`NetState.to_snapshot`
and :meth:`NetState.from_snapshot` are the structural half of every snapshot;
:meth:`NetState.to_ops` is the only place a network becomes ops (restore, live replay, the
REPL's restart, export), so what one of them carries, all of them carry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from engine.model.ops import (
    FOLLOW_PARAMS,
    OPS,
    Clear,
    ClockIn,
    Connect,
    DefineNeuron,
    Follow,
    Link,
    Listen,
    Map,
    MidiClock,
    Mix,
    Op,
    Program,
    Solo,
    Stop,
    Tempo,
    conn_taps,
    op_fields,
)
from engine.model.params import DEFAULT_TEMPO, full_params
from engine.model.vary import Vary

__all__ = ["Conn", "NetState", "snapshot_ops"]


class Conn(NamedTuple):
    """A connection's weight, delay in beats and kind ("pulse" or "cont").

    A pulse connection with several taps has a tuple of weights and a tuple of delays of
    the same length, delays distinct and ascending (:func:`engine.model.ops.conn_taps`):
    each firing of the source sends one pulse per tap.
    """

    w: float | tuple[float, ...]
    delay: float | tuple[float, ...]
    kind: str

    @property
    def taps(self) -> tuple[tuple[float, float], ...]:
        """``(w, delay)`` of every tap, one for a plain connection."""
        if isinstance(self.w, tuple):
            return tuple(zip(self.w, self.delay, strict=True))  # type: ignore[arg-type]
        return ((self.w, self.delay),)  # type: ignore[return-value]


@dataclass
class NetState:
    """Neurons, connections, tempo, solo set, running flag and controllers, in creation order.

    ``neurons`` maps a name to its full, normalised parameter dict (replaced, never changed
    in place, so the simulation's neurons may share it); ``connections`` maps ``(src, dst)``
    to a :class:`Conn`. Muting is the ``mute`` parameter.
    """

    neurons: dict[str, dict] = field(default_factory=dict)
    connections: dict[tuple[str, str], Conn] = field(default_factory=dict)
    tempo: float = DEFAULT_TEMPO
    solo: dict[str, None] = field(default_factory=dict)  # an ordered set
    running: bool = True
    # by (source, neuron or "", param or "fire"/"tempo"): one controller per target and source
    mappings: dict[tuple[str, str, str], Map] = field(default_factory=dict)
    inputs: dict[str, Listen] = field(default_factory=dict)
    follows: dict[tuple[str, str], Follow] = field(default_factory=dict)
    clock_out: bool = False
    # the tempo authority besides the network's own: at most one of the two is set
    link: Link | None = None
    clock_in: ClockIn | None = None
    programs: dict[int, int] = field(default_factory=dict)  # channel 1..16 -> GM program 1..128
    volumes: dict[int, int] = field(default_factory=dict)  # channel -> 0..127 (CC 7)
    pans: dict[int, float] = field(default_factory=dict)  # channel -> -1..1 (CC 10)
    # by (neuron, param): the process that draws it per firing (engine.model.vary)
    sources: dict[tuple[str, str], Vary] = field(default_factory=dict)
    # bumped when neurons, connections, mappings or inputs come or go: routers of OSC and
    # MIDI rebuild their tables when it changes
    shape: int = field(default=0, compare=False)

    @property
    def muted(self) -> set[str]:
        return {name for name, params in self.neurons.items() if params.get("mute")}

    def copy(self) -> NetState:
        return NetState(
            neurons={name: dict(params) for name, params in self.neurons.items()},
            connections=dict(self.connections),
            tempo=self.tempo,
            solo=dict(self.solo),
            running=self.running,
            mappings=dict(self.mappings),
            inputs=dict(self.inputs),
            follows=dict(self.follows),
            clock_out=self.clock_out,
            link=self.link,
            clock_in=self.clock_in,
            programs=dict(self.programs),
            volumes=dict(self.volumes),
            pans=dict(self.pans),
            sources=dict(self.sources),
            shape=self.shape,
        )

    def apply(self, op: Op) -> None:
        """Check ``op`` against this network and apply it; ModelError changes nothing."""
        op.check(_LiveNames(self.neurons)).apply(self)

    # -- the rules ops share ----------------------------------------------------------------
    def connect(self, src: str, dst: str, w: object, delay: object, kind: str) -> None:
        """Create or replace ``src -> dst``; ``w`` and ``delay`` as :func:`conn_taps` gives them."""
        if (src, dst) not in self.connections:
            self.shape += 1
        self.connections[(src, dst)] = Conn(*conn_taps(w, delay, kind), kind)

    def unfollow(self, name: str, param: str | None = None) -> None:
        """End ``name``'s follow links (only the one for ``param`` when given)."""
        if self.follows:
            for key in [k for k in self.follows if k[0] == name and param in (None, k[1])]:
                del self.follows[key]

    def unvary(self, name: str, param: str | None = None) -> None:
        """End the processes drawing ``name``'s parameters (only ``param``'s when given)."""
        if self.sources:
            for key in [k for k in self.sources if k[0] == name and param in (None, k[1])]:
                del self.sources[key]

    def forget(self, name: str) -> None:
        """Remove ``name`` and everything that refers to it."""
        self.shape += 1
        self.neurons.pop(name, None)
        self.solo.pop(name, None)
        for key in [k for k in self.connections if name in k]:
            del self.connections[key]
        for mkey in [k for k, m in self.mappings.items() if m.name == name]:
            del self.mappings[mkey]
        self.inputs.pop(name, None)
        self.follows = {k: f for k, f in self.follows.items() if name not in (k[0], f.src)}
        self.sources = {
            k: v for k, v in self.sources.items() if name != k[0] and name != getattr(v, "src", "")
        }

    def clear(self) -> None:
        """Every neuron gone; tempo, running and tempo mappings stay."""
        self.shape += 1
        self.neurons.clear()
        self.connections.clear()
        self.solo.clear()
        self.mappings = {k: m for k, m in self.mappings.items() if not m.name}
        self.inputs.clear()
        self.follows.clear()
        self.sources.clear()

    # -- ops ----------------------------------------------------------------------------------
    def to_ops(self, phases: dict[str, float] | None = None) -> list[Op]:
        """Ops that rebuild this network in an empty engine, in creation order.

        ``phases`` (name -> activation as a fraction of thr) replaces the neurons' starting
        phase, for a network rebuilt where another one stood.
        """
        ops: list[Op] = [Tempo(self.tempo)]
        ops += self.channel_ops()  # before any note
        for name, params in self.neurons.items():
            p = dict(params)
            if phases is not None and name in phases:
                p["phase"] = min(1.0, max(0.0, phases[name]))
            ops.append(DefineNeuron(name, p))
        ops += [Connect(s, d, c.w, c.delay, c.kind) for (s, d), c in self.connections.items()]
        ops += [Solo(name, True) for name in self.solo]
        ops += list(self.mappings.values())
        ops += list(self.inputs.values()) + list(self.follows.values())
        ops += list(self.sources.values())
        if self.clock_out:
            ops.append(MidiClock(True))
        ops += [op for op in (self.link, self.clock_in) if op is not None]
        if not self.running:
            ops.append(Stop())
        return ops

    def channel_ops(self) -> list[Program | Mix]:
        """The channels' programs, volumes and pans as ops: what a new port or synth is told
        (restore, a restarted engine, the start of an exported recording)."""
        ops: list[Program | Mix] = [Program(ch, p) for ch, p in self.programs.items()]
        for ch in dict.fromkeys([*self.volumes, *self.pans]):
            ops.append(Mix(ch, self.volumes.get(ch), self.pans.get(ch)))
        return ops

    # -- snapshots ----------------------------------------------------------------------------
    def to_snapshot(self) -> dict:
        """The structural part of a snapshot (see :meth:`Network.snapshot`)."""
        neurons = {}
        for name, params in self.neurons.items():
            p = dict(params)
            if isinstance(p["note"], tuple):
                p["note"] = list(p["note"])
            neurons[name] = {"params": p}
        return {
            "tempo": self.tempo,
            "running": self.running,
            "solo": [n for n in self.neurons if n in self.solo],
            "neurons": neurons,
            "connections": [
                {"src": s, "dst": d, "w": _plain(c.w), "delay": _plain(c.delay), "kind": c.kind}
                for (s, d), c in self.connections.items()
            ],
            "mappings": [op_fields(m) for m in self.mappings.values()],
            "inputs": {
                name: {"ch": li.ch, "lo": li.lo, "hi": li.hi} for name, li in self.inputs.items()
            },
            "follows": [
                {"name": f.name, "param": f.param, "src": f.src, "by": f.by}
                for f in self.follows.values()
            ],
            "clock": self.clock_out,
            "link": None if self.link is None else op_fields(self.link),
            "clock_in": None if self.clock_in is None else op_fields(self.clock_in),
            # JSON keys are text
            "programs": {str(ch): p for ch, p in self.programs.items()},
            "volumes": {str(ch): v for ch, v in self.volumes.items()},
            "pans": {str(ch): v for ch, v in self.pans.items()},
            "sources": [{"op": type(v).__name__, **op_fields(v)} for v in self.sources.values()],
        }

    @classmethod
    def from_snapshot(cls, snap: dict) -> NetState:
        """The structure of a snapshot; references to neurons it lacks are left out.

        Raises ProtocolError (an EngineError) for parameters out of range, KeyError or
        TypeError for a snapshot that is not one.
        """
        st = cls(
            tempo=float(snap.get("tempo", DEFAULT_TEMPO)), running=bool(snap.get("running", True))
        )
        for name, d in snap["neurons"].items():
            params = dict(d["params"])
            if isinstance(params.get("note"), list):
                params["note"] = tuple(params["note"])
            st.neurons[str(name)] = full_params(params)
        names = st.neurons
        for c in snap["connections"]:
            if c["src"] in names and c["dst"] in names:
                st.connect(c["src"], c["dst"], c["w"], c["delay"], c.get("kind", "pulse"))
        for name in snap.get("solo", ()):
            if name in names:
                st.solo[name] = None
        for m in snap.get("mappings", ()):
            op = Map(**m)
            if not op.name or op.name in names:
                st.mappings[op.key] = op
        for name, d in snap.get("inputs", {}).items():
            if name in names:
                st.inputs[name] = Listen(name, int(d["ch"]), int(d["lo"]), int(d["hi"]))
        for f in snap.get("follows", ()):
            if f["name"] in names and f["src"] in names and f["param"] in FOLLOW_PARAMS:
                fo = Follow(f["name"], f["param"], f["src"], int(f["by"]))
                st.follows[fo.key] = fo
        st.clock_out = bool(snap.get("clock", False))
        if snap.get("link"):
            Link(**snap["link"]).check(set()).apply(st)
        if snap.get("clock_in"):
            ClockIn(**snap["clock_in"]).check(set()).apply(st)
        for ch, p in snap.get("programs", {}).items():
            Program(int(ch), p).check(set()).apply(st)  # ValueError if out of range
        for ch, v in snap.get("volumes", {}).items():
            Mix(int(ch), volume=v).check(set()).apply(st)
        for ch, v in snap.get("pans", {}).items():
            Mix(int(ch), pan=v).check(set()).apply(st)
        for d in snap.get("sources", ()):
            fields = dict(d)
            kind = OPS.get(str(fields.pop("op", "")))
            if kind is None or not issubclass(kind, Vary):
                raise TypeError(f"not a parameter process: {d!r}")
            src = fields.get("src", "")
            if fields.get("name") in names and (not src or src in names):
                v = kind(**fields).check(_LiveNames(st.neurons))
                st.sources[v.key] = v
        return st


def _plain(x: float | tuple[float, ...]) -> float | list[float]:
    """A tap tuple as a list (JSON has no tuples); a plain number as it is."""
    return list(x) if isinstance(x, tuple) else x


def snapshot_ops(snap: dict) -> tuple[Op, ...]:
    """Ops that rebuild a snapshot's network in a running engine, activations as phases.

    Refractory time and pulses in flight are not carried: live replay uses this where an
    engine restarted.
    """
    phases = {}
    for name, d in snap["neurons"].items():
        thr = float(d["params"].get("thr", 1.0))
        phases[name] = float(d.get("a", 0.0)) / thr
    return (Clear(), *NetState.from_snapshot(snap).to_ops(phases))


class _LiveNames:
    """The names of a state's neurons as one op's check sees them: the op is applied at once,
    so what it adds or removes needs no copy (a block of many ops stays linear)."""

    def __init__(self, neurons: dict[str, dict]) -> None:
        self._neurons = neurons

    def __contains__(self, name: object) -> bool:
        return name in self._neurons

    def add(self, name: str) -> None:
        pass  # apply() adds it

    def discard(self, name: str) -> None:
        pass  # apply() removes it

    def clear(self) -> None:
        pass  # apply() clears them
