"""Applying patch operations to the network: validate a whole batch, then apply it at once.

Split out of :mod:`engine.model.network` for size; :class:`Patching` is a mixin of
:class:`engine.model.network.Network` and uses its internals freely.
"""

from __future__ import annotations

import math
from heapq import heappush
from typing import Any

from engine import protocol as P
from engine.io.midi_routes import parse_address
from engine.model.linear import NORMAL, REFRACTORY, Group
from engine.model.listening import Listening
from engine.model.neuron import ModelError, Neuron, UnknownNeuron, full_params

__all__ = ["Patching"]

_FIRE, _FORCED = 2, -1
EPS = 1e-9


def _err(exc: P.ProtocolError, where: str) -> ModelError:
    return ModelError(f"{where}: {exc}")


_OSC_FORBIDDEN = frozenset(" #*,?[]{}")


def _map_record(op: P.Map, need: Any, where: str) -> dict:
    """Check a :class:`protocol.Map`; return it as the plain dict the network keeps."""
    if op.source not in P.MAP_SOURCES:
        raise ModelError(
            f"{where}: source must be one of {', '.join(P.MAP_SOURCES)}, got {op.source!r}"
        )
    addr = op.address
    if not isinstance(addr, str) or not addr or len(addr) > 256:
        raise ModelError(f"{where}: a mapping needs an address of 1..256 characters, got {addr!r}")
    if op.source == "osc" and (
        not addr.startswith("/") or _OSC_FORBIDDEN & set(addr) or not addr.isprintable()
    ):
        raise ModelError(
            f"{where}: an OSC address starts with / and has no spaces or # * , ? [ ] "
            f"{{ }}, got {addr!r}"
        )
    if op.source in ("cc", "note"):
        try:
            parse_address(op.source, addr)
        except ValueError as exc:
            raise ModelError(f"{where}: {exc}") from None
    if op.param == "tempo":
        if op.name:
            raise ModelError(f"{where}: a tempo mapping names no neuron, got {op.name!r}")
    elif op.param == "fire":
        need(op.name)
    elif op.param in P.PARAMS:
        need(op.name)
    else:
        raise ModelError(
            f'{where}: a mapping drives a parameter ({", ".join(P.PARAMS)}), "fire" '
            f'or "tempo", got {op.param!r}'
        )
    lo, hi = P._number("lo", op.lo), P._number("hi", op.hi)
    if op.curve not in P.MAP_CURVES:
        raise ModelError(
            f"{where}: curve must be one of {', '.join(P.MAP_CURVES)}, got {op.curve!r}"
        )
    if op.curve == "exp" and (lo <= 0 or hi <= 0):
        raise ModelError(f'{where}: curve "exp" needs lo and hi above 0, got {lo:g}..{hi:g}')
    if isinstance(op.arg, bool) or not isinstance(op.arg, int) or not 0 <= op.arg <= 255:
        raise ModelError(f"{where}: arg must be a whole number 0..255, got {op.arg!r}")
    return {
        "source": op.source,
        "address": addr,
        "name": op.name,
        "param": op.param,
        "lo": lo,
        "hi": hi,
        "curve": op.curve,
        "arg": op.arg,
    }


class Patching(Listening):
    """Validation, application, snapshot and restore (mixed into ``Network``)."""

    _neurons: dict
    _conns: dict

    # -- validation ----------------------------------------------------------------------
    def _validate(self, ops: tuple) -> list[tuple]:
        """Check every op against the names as they will be; return normalised ops."""
        names = set(self._neurons)
        done: list[tuple] = []

        def need(name: object, i: int) -> str:
            if name not in names:
                raise UnknownNeuron(f"op {i + 1}: no neuron named {name!r}")
            return name  # type: ignore[return-value]

        for i, op in enumerate(ops):
            where = f"op {i + 1} ({type(op).__name__})"
            try:
                if isinstance(op, P.DefineNeuron):
                    if not isinstance(op.name, str) or not op.name:
                        raise ModelError(
                            f"{where}: a neuron name must be a non-empty string, got {op.name!r}"
                        )
                    if not isinstance(op.params, dict):
                        raise ModelError(f"{where}: params must be a dict, got {op.params!r}")
                    for k in op.params:
                        if k not in P.PARAMS:
                            P.validate_param(k, None)  # raises the unknown-parameter message
                    done.append(("define", op.name, full_params(op.params)))
                    names.add(op.name)
                elif isinstance(op, P.SetParam):
                    done.append(
                        ("set", need(op.name, i), op.param, P.validate_param(op.param, op.value))
                    )
                elif isinstance(op, (P.Mute, P.Solo)):
                    on = P.validate_param("mute", op.on)
                    kind = "mute" if isinstance(op, P.Mute) else "solo"
                    if kind == "mute":
                        done.append(("set", need(op.name, i), "mute", on))
                    else:
                        done.append(("solo", need(op.name, i), on))
                elif isinstance(op, P.Connect):
                    src, dst = need(op.src, i), need(op.dst, i)
                    w = P._number("w", op.w)
                    delay = P._number("delay", op.delay)
                    if delay < 0:
                        raise ModelError(f"{where}: delay must be >= 0 beats, got {op.delay!r}")
                    if op.kind not in P.CONN_KINDS:
                        raise ModelError(
                            f"{where}: kind must be one of "
                            f"{', '.join(P.CONN_KINDS)}, got {op.kind!r}"
                        )
                    done.append(("connect", src, dst, w, delay, op.kind))
                elif isinstance(op, P.Disconnect):
                    done.append(("disconnect", need(op.src, i), need(op.dst, i)))
                elif isinstance(op, P.Remove):
                    done.append(("remove", need(op.name, i)))
                    names.discard(op.name)
                elif isinstance(op, (P.Fire, P.Reset)):
                    done.append((type(op).__name__.lower(), need(op.name, i)))
                elif isinstance(op, P.Tempo):
                    done.append(("tempo", P.validate_tempo(op.bpm)))
                elif isinstance(op, (P.Stop, P.Start, P.Panic)):
                    done.append((type(op).__name__.lower(),))
                elif isinstance(op, P.Clear):
                    done.append(("clear",))
                    names.clear()
                elif isinstance(op, P.Map):
                    done.append(("map", _map_record(op, lambda n, i=i: need(n, i), where)))
                elif isinstance(op, P.Unmap):
                    if op.source not in P.MAP_SOURCES or not isinstance(op.address, str):
                        raise ModelError(
                            f"{where}: source must be one of "
                            f"{', '.join(P.MAP_SOURCES)}, got {op.source!r}"
                        )
                    done.append(("unmap", op.source, op.address, str(op.name), str(op.param)))
                else:
                    midi = self._check_midi(op, where, lambda n, i=i: need(n, i))
                    if midi is None:
                        raise ModelError(f"op {i + 1}: not a patch operation: {op!r}")
                    done.append(midi)
            except P.ProtocolError as exc:
                raise _err(exc, where) from None
        return done

    # -- application ---------------------------------------------------------------------
    def apply(self, batch_or_op: Any, t: float | None = None) -> list[P.Event]:
        """Apply a Batch (or one op) whole at ``t`` seconds (default/past: now), or refuse it.

        Returns the events of that instant: note-offs of Remove/Stop/Panic/Clear, then the
        volley that Fire ops and updated neurons at threshold start.
        """
        ops = batch_or_op.ops if isinstance(batch_or_op, P.Batch) else (batch_or_op,)
        if t is None or t < self.now:
            t = self.now  # a past time means now (like an OSC bundle with an old timetag)
        todo = self._validate(tuple(ops))
        out = self.advance(t)
        when = self.beat
        cont = any(o[0] == "connect" and o[5] == "cont" for o in todo) or (
            bool(self._groups)
            and any(
                o[0] in ("define", "set", "connect", "disconnect", "remove", "reset", "clear")
                for o in todo
            )
        )
        loose = self._dissolve(when) if cont else []
        wired = False
        for o in todo:
            wired |= self._apply_one(o, when, out)
        if wired:
            self._rewire()
        if cont:
            self._build_groups(when, loose)
        if self.running:
            self._run(when, out)
        return out

    def _apply_one(self, o: tuple, t: float, out: list) -> bool:
        op = o[0]
        if op == "define":
            n = self._neurons.get(o[1])
            if n is None:
                n = Neuron(o[1], next(self._order), o[2])
                n.a0, n.t0 = n.phase * n.thr, t
                self._neurons[o[1]] = n
                self._schedule(n)
                self.shape += 1
                return True
            self._unfollow(o[1])
            self._update(n, o[2], t)
        elif op == "set":
            n = self._neurons[o[1]]
            if o[2] in P.FOLLOW_PARAMS:
                self._unfollow(o[1], o[2])
            params = dict(n.params)
            params[o[2]] = o[3]
            self._update(n, params, t)
        elif op == "solo":
            (self._solo.add if o[2] else self._solo.discard)(o[1])
        elif op == "connect":
            if (o[1], o[2]) not in self._conns:
                self.shape += 1
            self._conns[(o[1], o[2])] = (o[3], o[4], o[5])
            return True
        elif op == "disconnect":
            self.shape += 1
            return self._conns.pop((o[1], o[2]), None) is not None
        elif op == "remove":
            self._remove(o[1], out)
            return True
        elif op == "map":
            rec = o[1]
            self._maps[(rec["source"], rec["name"], rec["param"])] = rec
            self.shape += 1
        elif op == "unmap":
            _, source, address, name, param = o
            for key, rec in list(self._maps.items()):
                if (
                    rec["source"] == source
                    and rec["address"] == address
                    and (not name or rec["name"] == name)
                    and (not param or rec["param"] == param)
                ):
                    del self._maps[key]
                    self.shape += 1
        elif op == "fire":
            if self.running:
                heappush(
                    self._heap, (t, _FIRE, next(self._seq), self._neurons[o[1]], _FORCED, None)
                )
        elif op == "reset":
            n = self._neurons[o[1]]
            n.refr_end = -math.inf
            n.a0, n.t0 = n.phase * n.thr, t
            self._schedule(n)
        elif op == "tempo":
            self._b0, self._s0 = self.beat, self.now
            self.tempo = o[1]
            self._spb = 60.0 / o[1]
        elif op in ("listen", "follow", "note_in", "clock"):
            self._apply_midi(o, t)
        elif op == "stop":
            out.extend(self.release_all())
            self.running = False
        elif op == "start":
            if not self.running:
                self.running = True
                self._b0, self._s0 = self.beat, self.now
        elif op == "panic":
            out.extend(self.release_all())
        elif op == "clear":
            out.extend(self.release_all())
            for n in self._neurons.values():
                n.alive = False
            for g in self._groups:
                g.alive = False
            self._neurons.clear()
            self._conns.clear()
            self._solo.clear()
            self._maps = {k: m for k, m in self._maps.items() if not m["name"]}  # tempo's stay
            self._forget_midi(None)
            self.shape += 1
            self._groups = []
            self._heap = []
            return True
        return False

    def _update(self, n: Neuron, params: dict, t: float) -> None:
        """New parameters for ``n``, keeping its phase ``a/thr``; fires now if at threshold."""
        if t < n.refr_end - EPS:
            n.set_params(params)
            n.a0, n.t0 = 0.0, n.refr_end
        else:
            a = n.value(t)
            old = n.thr
            n.set_params(params)
            a *= n.thr / old
            n.a0, n.t0 = max(a, n.floor), t
        self._schedule(n)

    def _remove(self, name: str, out: list) -> None:
        n = self._neurons.pop(name)
        n.alive = False
        for key, (who, _tok) in list(self._sounding.items()):
            if who == name:
                del self._sounding[key]
                out.append(P.Event(self.now, self.beat, "note_off", name, key[0], key[1], 0))
        for pair in [p for p in self._conns if name in p]:
            del self._conns[pair]
        self._solo.discard(name)
        for key in [k for k, m in self._maps.items() if m["name"] == name]:
            del self._maps[key]
        self._forget_midi(name)
        self.shape += 1

    # -- queries for controllers (engine.io.osc) -----------------------------------------------
    def params(self, name: str) -> dict | None:
        """The parameters of neuron ``name`` (do not modify), or None if there is none."""
        n = self._neurons.get(name)
        return None if n is None else n.params

    def connection(self, src: str, dst: str) -> tuple[float, float, str] | None:
        """``(w, delay, kind)`` of the connection ``src -> dst``, or None."""
        return self._conns.get((src, dst))

    def connections(self) -> list[tuple[str, str]]:
        return list(self._conns)

    def mappings(self) -> list[dict]:
        """The controller mappings as plain dicts (the fields of ``protocol.Map``)."""
        return list(self._maps.values())

    def _rewire(self) -> None:
        """Rebuild every neuron's outgoing pulse lists (connection creation order)."""
        neurons = self._neurons
        for n in neurons.values():
            n.out0, n.outd = [], []
        for (s, d), (w, delay, kind) in self._conns.items():
            if kind == "pulse":
                if delay == 0.0:
                    neurons[s].out0.append((neurons[d], w))
                else:
                    neurons[s].outd.append((neurons[d], w, delay))

    # -- cont groups ---------------------------------------------------------------------
    def _dissolve(self, t: float) -> list[Neuron]:
        """Turn every group member back into a singleton state at ``t``."""
        loose = []
        for g in self._groups:
            z = g.state_at(t)
            for i, n in enumerate(g.members):
                if g.mode[i] == REFRACTORY and n.refr_end > t:
                    n.a0, n.t0 = 0.0, n.refr_end
                else:
                    n.a0, n.t0 = float(z[i]), t
                n.group = None
                loose.append(n)
            g.alive = False
        self._groups = []
        return loose

    def _build_groups(self, t: float, loose: list[Neuron]) -> None:
        neurons = self._neurons
        parent: dict[str, str] = {}

        def root(x: str) -> str:
            while parent.get(x, x) != x:
                x = parent[x]
            return x

        for (s, d), (_w, _delay, kind) in self._conns.items():
            if kind == "cont":
                parent.setdefault(s, s)
                parent.setdefault(d, d)
                parent[root(s)] = root(d)
        comps: dict[str, list[Neuron]] = {}
        for name in parent:
            comps.setdefault(root(name), []).append(neurons[name])
        for members in comps.values():
            members.sort(key=lambda n: n.order)
            index = {n.name: i for i, n in enumerate(members)}
            coupling: dict[tuple[int, int], float] = {}
            for (s, d), (w, _delay, kind) in self._conns.items():
                if kind == "cont" and s in index:
                    key = (index[d], index[s])
                    coupling[key] = coupling.get(key, 0.0) + w
            x = [n.value(t) for n in members]
            mode = [REFRACTORY if n.refr_end > t + EPS else NORMAL for n in members]
            g = Group(members, coupling, t, x, mode)
            g.update_modes(t)
            for n in members:
                n.group = g
                n.ver += 1
            self._groups.append(g)
            self._schedule_group(g, True)
        for n in loose:
            if n.alive and n.group is None:
                self._schedule(n)

    # -- snapshot ------------------------------------------------------------------------
    def snapshot(self) -> dict:
        """The whole network as plain builtins (picklable, JSON-able)."""
        neurons = {}
        for name, n in self._neurons.items():
            params = dict(n.params)
            if isinstance(params["note"], tuple):
                params["note"] = list(params["note"])
            neurons[name] = {
                "params": params,
                "a": self._value(n, self.beat),
                "note_index": n.note_index,
                "refr_left": max(0.0, n.refr_end - self.beat),
            }
        conns = [
            {"src": s, "dst": d, "w": w, "delay": delay, "kind": kind}
            for (s, d), (w, delay, kind) in self._conns.items()
        ]
        state = self._rng.getstate()
        return {
            "t": self.now,
            "beat": self.beat,
            "tempo": self.tempo,
            "running": self.running,
            "solo": [n for n in self._neurons if n in self._solo],
            "neurons": neurons,
            "connections": conns,
            "seed": self.seed,
            "mappings": [dict(m) for m in self._maps.values()],
            **self._midi_snapshot(),
            "rng": [state[0], list(state[1]), state[2]],
        }

    def restore(self, snap: dict, t: float | None = None) -> None:
        """Rebuild from :meth:`snapshot` output, keeping activations (no notes sound).

        ``t`` (seconds, default the snapshot's) is the time the network resumes at: the
        beat position and every activation are the snapshot's, the time in between is
        skipped (as if stopped).
        """
        self.__init__(snap.get("seed", self.seed), snap.get("tempo", P.DEFAULT_TEMPO))  # type: ignore[misc]
        self.now = self._s0 = float(snap["t"] if t is None else t)
        self.beat = self._b0 = float(snap["beat"])
        self.running = bool(snap.get("running", True))
        if "rng" in snap:
            v, st, g = snap["rng"]
            self._rng.setstate((v, tuple(st), g))
        for name, d in snap["neurons"].items():
            params = dict(d["params"])
            if isinstance(params.get("note"), list):
                params["note"] = tuple(params["note"])
            n = Neuron(name, next(self._order), full_params(params))
            n.note_index = min(int(d.get("note_index", 0)), len(n.notes) - 1)
            left = float(d.get("refr_left", 0.0))
            if left > 0.0:
                n.refr_end = self.beat + left
                n.a0, n.t0 = 0.0, n.refr_end
            else:
                n.a0, n.t0 = float(d["a"]), self.beat
            self._neurons[name] = n
            self._schedule(n)
        for c in snap["connections"]:
            self._conns[(c["src"], c["dst"])] = (
                float(c["w"]),
                float(c["delay"]),
                c.get("kind", "pulse"),
            )
        self._solo = set(snap.get("solo", ()))
        self._midi_restore(snap)
        for m in snap.get("mappings", ()):
            if not m.get("name") or m["name"] in self._neurons:
                self._maps[(m["source"], m["name"], m["param"])] = dict(m)
        self._rewire()
        self._build_groups(self.beat, [])
