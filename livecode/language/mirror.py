"""The performer-side picture of the network: what the engine holds, kept in step by ops.

The interpreter reads parameters from the mirror (``n1.rate *= 2``), ``ls()`` lists
it, ``session_text`` writes it out, and the REPL replays it with :meth:`Mirror.to_ops`
when it has to restart the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine import protocol as P

__all__ = ["Mirror", "default_params"]


def default_params() -> dict:
    """Every parameter at its default, in the order of ``protocol.PARAMS``."""
    return {name: spec.default for name, spec in P.PARAMS.items()}


@dataclass
class Mirror:
    """Neurons, connections, tempo, solo set and running flag, in creation order.

    ``neurons`` maps a name to its full, normalised parameter dict; ``connections``
    maps ``(src, dst)`` to ``(w, delay, kind)``. Muting is the ``mute`` parameter:
    ``Mute`` ops set it, so :attr:`muted` is derived from the parameters.
    """

    neurons: dict[str, dict] = field(default_factory=dict)
    connections: dict[tuple[str, str], tuple[float, float, str]] = field(default_factory=dict)
    tempo: float = P.DEFAULT_TEMPO
    solo: dict[str, None] = field(default_factory=dict)  # an ordered set
    running: bool = True
    # controller mappings by (source, neuron or "", param or "fire"/"tempo"), as the engine
    # keeps them: one controller per target and source, a new one replaces the old
    mappings: dict[tuple[str, str, str], P.Map] = field(default_factory=dict)
    # MIDI input as the engine keeps it (engine.model.listening): input neurons, follow links
    inputs: dict[str, P.Listen] = field(default_factory=dict)
    follows: dict[tuple[str, str], P.Follow] = field(default_factory=dict)
    clock_out: bool = False

    @property
    def muted(self) -> set[str]:
        return {name for name, params in self.neurons.items() if params.get("mute")}

    def copy(self) -> Mirror:
        return Mirror(
            neurons={name: dict(params) for name, params in self.neurons.items()},
            connections=dict(self.connections),
            tempo=self.tempo,
            solo=dict(self.solo),
            running=self.running,
            mappings=dict(self.mappings),
            inputs=dict(self.inputs),
            follows=dict(self.follows),
            clock_out=self.clock_out,
        )

    def apply(self, op: object) -> None:
        """Change the picture as the engine changes on ``op``; unknown names are ignored."""
        if isinstance(op, P.DefineNeuron):
            self._unfollow(op.name)  # redefining ends follow links, as in the engine
            params = self.neurons.get(op.name) or default_params()
            params.update(op.params)
            self.neurons[op.name] = params
        elif isinstance(op, P.SetParam):
            self._unfollow(op.name, op.param)
            if op.name in self.neurons:
                self.neurons[op.name][op.param] = op.value
        elif isinstance(op, P.Connect):
            self.connections[(op.src, op.dst)] = (float(op.w), float(op.delay), op.kind)
        elif isinstance(op, P.Disconnect):
            self.connections.pop((op.src, op.dst), None)
        elif isinstance(op, P.Remove):
            self._remove(op.name)
        elif isinstance(op, P.Tempo):
            self.tempo = float(op.bpm)
        elif isinstance(op, P.Mute):
            if op.name in self.neurons:
                self.neurons[op.name]["mute"] = bool(op.on)
        elif isinstance(op, P.Solo):
            if op.on and op.name in self.neurons:
                self.solo[op.name] = None
            else:
                self.solo.pop(op.name, None)
        elif isinstance(op, P.Stop):
            self.running = False
        elif isinstance(op, P.Start):
            self.running = True
        elif isinstance(op, P.Clear):
            self.neurons.clear()
            self.connections.clear()
            self.solo.clear()
            self.mappings = {k: m for k, m in self.mappings.items() if not m.name}  # tempo's
            self.inputs.clear()
            self.follows.clear()
        elif isinstance(op, P.Map):
            if op.param == "tempo" or op.name in self.neurons:
                self.mappings[(op.source, op.name, op.param)] = op
        elif isinstance(op, P.Unmap):
            for key, m in list(self.mappings.items()):
                if (
                    m.source == op.source
                    and m.address == op.address
                    and (not op.name or m.name == op.name)
                    and (not op.param or m.param == op.param)
                ):
                    del self.mappings[key]
        elif isinstance(op, P.Listen):
            if not op.on:
                self.inputs.pop(op.name, None)
                self.follows = {k: f for k, f in self.follows.items() if f.src != op.name}
            elif op.name in self.neurons:
                self.inputs[op.name] = op
        elif isinstance(op, P.Follow):
            if not op.src:
                self.follows.pop((op.name, op.param), None)
            elif op.name in self.neurons and op.src in self.neurons:
                self.follows[(op.name, op.param)] = op
        elif isinstance(op, P.MidiClock):
            self.clock_out = bool(op.on)
        # Fire, Reset, Panic and NoteIn change activations and sounding notes, not the picture.

    def _unfollow(self, name: str, param: str | None = None) -> None:
        if self.follows:
            for key in [k for k in self.follows if k[0] == name and param in (None, k[1])]:
                del self.follows[key]

    def _remove(self, name: str) -> None:
        self.neurons.pop(name, None)
        self.solo.pop(name, None)
        for key in [k for k in self.connections if name in k]:
            del self.connections[key]
        for mkey in [k for k, m in self.mappings.items() if m.name == name]:
            del self.mappings[mkey]
        self.inputs.pop(name, None)
        self.follows = {k: f for k, f in self.follows.items() if name not in (k[0], f.src)}

    def to_ops(self) -> list:
        """Ops that rebuild this network in an empty engine, in creation order."""
        ops: list = [P.Tempo(self.tempo)]
        ops += [P.DefineNeuron(name, dict(params)) for name, params in self.neurons.items()]
        ops += [
            P.Connect(src, dst, w, delay, kind)
            for (src, dst), (w, delay, kind) in self.connections.items()
        ]
        ops += [P.Solo(name, True) for name in self.solo]
        ops += list(self.mappings.values())
        ops += list(self.inputs.values()) + list(self.follows.values())
        if self.clock_out:
            ops.append(P.MidiClock(True))
        if not self.running:
            ops.append(P.Stop())
        return ops
