"""The network model: exact, event-driven simulation of integrate-and-fire neurons.

Pure: no I/O, no clock, no threads. The structure (parameters, connections, controllers)
is a :class:`~engine.model.state.NetState` that ops change through their own ``apply``;
this class keeps what moves: activations, the heap of what happens next, sounding notes.
Time runs in beats inside; a tempo map (the current segment ``beat = b0 + (sec - s0) /
spb``) turns beats into the seconds of the events. Spike times come from closed forms
(:mod:`engine.model.neuron`) or the exact solution of a ``cont`` group
(:mod:`engine.model.linear`); nothing steps a grid. Everything within ``EPS`` beats of the
earliest heap entry is one instant: its note-offs, then its pulses, then one volley.

Hand-tuned hot path: ``_run``, ``_instant``, ``_fvolley``, ``_fire`` and ``_pulse`` run
once per event and per pulse. They bind attributes to locals; they build heap entries as
plain tuples in the layouts :mod:`engine.model.schedule` names (building the NamedTuples
made a render of ``bench64`` 25 % slower), and read them by unpacking into names, one
comment per kind; ``_pulse`` inlines the closed forms of :meth:`Neuron.value` and
:func:`engine.model.neuron.time_to`.
"""

from __future__ import annotations

import math
import random
from heapq import heappop, heappush
from itertools import count
from math import exp as _exp
from math import log1p as _log1p

from engine.errors import ModelError, ProtocolError, UnknownNeuron
from engine.model import groups as _groups
from engine.model import snapshot as _snapshot
from engine.model import stochastic as _stochastic
from engine.model.events import Event
from engine.model.linear import HELD, NORMAL, REFRACTORY, Group
from engine.model.listening import Heard, effective, listeners
from engine.model.neuron import Neuron
from engine.model.ops import Batch, Connect, Op, check_ops, op_fields
from engine.model.params import DEFAULT_TEMPO, validate_tempo
from engine.model.schedule import (
    EPS,
    FIRE,
    FORCED,
    GROUP,
    MIN_INTERVAL,
    OFF,
    PULSE,
    Entry,
    GroupEvent,
)
from engine.model.state import Conn, NetState

__all__ = ["ModelError", "UnknownNeuron", "Network", "EPS", "MIN_INTERVAL"]

_INF = math.inf
_MEMBER = -2  # volley candidate from a cont group: re-checked against the group state


class Network:
    """A network of integrate-and-fire neurons, simulated exactly between events."""

    def __init__(self, seed: int = 0, tempo: float = DEFAULT_TEMPO) -> None:
        try:
            bpm = validate_tempo(tempo)
        except ProtocolError as exc:
            raise ModelError(str(exc)) from None
        self.seed = seed
        self.state = NetState(tempo=bpm)
        self.now = 0.0
        self.beat = 0.0
        # the simulation's clock runs; always state.running after a batch, kept apart
        # because the hot path reads it and Start must know it was stopped
        self.running = True
        self._b0, self._s0, self._spb = 0.0, 0.0, 60.0 / bpm
        self._rng = random.Random(seed)
        self._neurons: dict[str, Neuron] = {}
        self._heap: list[Entry] = []
        self._seq = count()
        self._order = count()
        self._vid = 0
        self._sounding: dict[tuple[int, int], tuple[str, int]] = {}  # (ch, note) -> (who, token)
        self._groups: list[Group] = []
        self._dirty: list[Group] = []
        self.heard: Heard = {}
        # the running processes that draw parameters, by (neuron, param)
        self.steppers: dict[tuple[str, str], _stochastic.Stepper] = {}
        self._solo = self.state.solo  # the structure's own dict, read by the hot path

    # -- queries ---------------------------------------------------------------------------
    @property
    def tempo(self) -> float:
        return self.state.tempo

    @property
    def shape(self) -> int:
        """Changes when neurons, connections, mappings or inputs come or go (routing)."""
        return self.state.shape

    @property
    def clock_out(self) -> bool:
        """True when the network asks for MIDI clock on the output port."""
        return self.state.clock_out

    def sounding(self) -> list[tuple[int, int]]:
        """The ``(ch, note)`` pairs sounding now."""
        return list(self._sounding)

    def activation(self, name: str) -> float:
        """Activation of ``name`` at ``self.now``."""
        return self._value(self._get(name), self.beat)

    def neurons(self) -> list[str]:
        """Names in creation order."""
        return list(self._neurons)

    def params(self, name: str) -> dict | None:
        """The parameters of neuron ``name`` (do not modify), or None if there is none."""
        return self.state.neurons.get(name)

    def connection(self, src: str, dst: str) -> Conn | None:
        """``(w, delay, kind)`` of the connection ``src -> dst``, or None."""
        return self.state.connections.get((src, dst))

    def connections(self) -> list[tuple[str, str]]:
        return list(self.state.connections)

    def mappings(self) -> list[dict]:
        """The controller mappings as plain dicts (the fields of ``protocol.Map``)."""
        return [op_fields(m) for m in self.state.mappings.values()]

    def inputs(self) -> dict[str, tuple[int, int, int]]:
        """Input neurons: name -> ``(ch, lo, hi)``, ``ch`` 0 for any channel."""
        return {name: (li.ch, li.lo, li.hi) for name, li in self.state.inputs.items()}

    def listeners(self, ch: int, note: int) -> list[str]:
        """The input neurons a note-on on ``ch`` (1..16) with ``note`` fires, in creation order."""
        return listeners(self.state, ch, note)

    def follows(self) -> dict[tuple[str, str], tuple[str, int]]:
        """Follow links: ``(name, param) -> (src, by)``."""
        return {key: (f.src, f.by) for key, f in self.state.follows.items()}

    def drawn(self) -> dict[str, str]:
        """What each parameter process is at or learned, by ``"name.param"`` (for ``ls()``)."""
        return {f"{n}.{p}": st.describe() for (n, p), st in self.steppers.items()}

    def beat_at(self, sec: float) -> float:
        """The beat at ``sec`` seconds on the current tempo segment (running or not)."""
        return self._b0 + (sec - self._s0) / self._spb

    def sec_at(self, beat: float) -> float:
        """Seconds of ``beat`` on the current tempo segment (exact; for the clock out)."""
        return self._s0 + (beat - self._b0) * self._spb

    def next_time(self) -> float:
        """Seconds of the next state change or event; ``math.inf`` if none (or stopped)."""
        if not self.running:
            return _INF
        heap = self._heap
        while heap:
            e = heap[0]
            if self._valid(e):
                return self._s0 + (e[0] - self._b0) * self._spb
            heappop(heap)
        return _INF

    def _valid(self, e: Entry) -> bool:
        _beat, kind, _seq, x, y, z = e
        if kind == OFF:  # NoteOff: x ch, y note, z token
            s = self._sounding.get((x, y))
            return s is not None and s[1] == z
        if kind == PULSE:  # Pulse: x dst, y w, z src
            return x.alive and z.alive
        if kind == FIRE:  # Crossing: x neuron, y version
            return x.alive and (y == FORCED or y == x.ver)
        return x.alive and x.ver == y  # GroupEvent: x group, y version

    # -- snapshots -------------------------------------------------------------------------
    def snapshot(self) -> dict:
        """The whole network as plain builtins (picklable, JSON-able)."""
        return _snapshot.take(self)

    def restore(self, snap: dict, t: float | None = None) -> None:
        """Rebuild from :meth:`snapshot` output at ``t`` seconds (default: the snapshot's)."""
        _snapshot.restore(self, snap, t)

    # -- patching --------------------------------------------------------------------------
    def apply(self, batch_or_op: Batch | Op, t: float | None = None) -> list[Event]:
        """Apply a Batch (or one op) whole at ``t`` seconds (default/past: now), or refuse it.

        Returns the events of that instant: note-offs of Remove/Stop/Panic/Clear, then the
        volley that Fire ops and updated neurons at threshold start.
        """
        ops = batch_or_op.ops if isinstance(batch_or_op, Batch) else (batch_or_op,)
        if t is None or t < self.now:
            t = self.now  # a past time means now (like an OSC bundle with an old timetag)
        todo = check_ops(tuple(ops), set(self._neurons))
        out = self.advance(t)
        self.patch(todo, self.beat, out)
        if self.running:
            self._run(self.beat, out)
        return out

    def patch(self, todo: list[Op], when: float, out: list[Event]) -> None:
        """Apply checked ops at beat ``when``: to the structure, then to the simulation."""
        cont = any(type(o) is Connect and o.kind == "cont" for o in todo) or (
            bool(self._groups) and any(o.regroups for o in todo)
        )
        loose = self._dissolve(when) if cont else []
        for o in todo:
            o.apply(self.state)
            o.act(self, when, out)
        if any(o.rewires for o in todo):
            self._rewire()
        if cont:
            self._build_groups(when, loose)
        if self.state.sources or self.steppers:
            self.revary()

    def revary(self) -> None:
        """Steppers for the structure's processes, attached to their neurons (a process
        whose op did not change keeps its state: a chain keeps what it learned)."""
        self.steppers = _stochastic.attach(self._neurons, self.state.sources, self.steppers)
        for name, param in self.steppers:
            n = self._neurons[name]
            if param == "rate" and n.group is None and n.tc < _INF:
                self._schedule(n)  # the drawn rate, not the parameter's, sets the crossing

    # The effects of ops on the simulation (called from ops' act, after their apply).
    def place(self, name: str, t: float) -> None:
        """Create ``name`` from its parameters in the structure, or update it keeping its phase."""
        params = self.state.neurons[name]
        n = self._neurons.get(name)
        if n is None:
            n = Neuron(name, next(self._order), params)
            n.a0, n.t0 = n.phase * n.thr, t
            self._neurons[name] = n
            self._schedule(n)
            return
        n.fnote, n.fvel = effective(self.state, self.heard, name)
        self._update(n, params, t)

    def kill(self, name: str, out: list[Event]) -> None:
        """``name`` is gone: its sounding notes end now, followers fall back to their own notes."""
        n = self._neurons.pop(name)
        n.alive = False
        for key, (who, _tok) in list(self._sounding.items()):
            if who == name:
                del self._sounding[key]
                out.append(Event(self.now, self.beat, "note_off", name, key[0], key[1], 0))
        self.heard.pop(name, None)
        self.refresh_all()

    def wipe(self, out: list[Event]) -> None:
        """Every neuron gone (Clear)."""
        out.extend(self.release_all())
        for n in self._neurons.values():
            n.alive = False
        for g in self._groups:
            g.alive = False
        self._neurons.clear()
        self.heard.clear()
        self._groups = []
        self._heap = []

    def fire_at(self, name: str, t: float) -> None:
        if self.running:
            n = self._neurons[name]
            heappush(self._heap, (t, FIRE, next(self._seq), n, FORCED, None))

    def reset_neuron(self, name: str, t: float) -> None:
        n = self._neurons[name]
        n.refr_end = -_INF
        n.a0, n.t0 = n.phase * n.thr, t
        self._schedule(n)

    def retempo(self) -> None:
        """The structure's tempo from now on; every activation is kept."""
        self._b0, self._s0 = self.beat, self.now
        self._spb = 60.0 / self.state.tempo

    def align(self, beat: float, spb: float) -> None:
        """From now on follow an external beat line: ``beat`` now, ``spb`` seconds per beat
        (a tempo authority: Link, MIDI clock in). Activations are kept, as by a tempo change;
        a line behind the network's beat holds it until the line gets there, a line ahead
        plays what falls in between at once (the authority keeps both steps small)."""
        self._b0, self._s0, self._spb = beat, self.now, spb

    def halt(self, out: list[Event]) -> None:
        out.extend(self.release_all())
        self.running = False

    def resume(self) -> None:
        if not self.running:
            self.running = True
            self._b0, self._s0 = self.beat, self.now

    def hear(self, ch: int, note: int, vel: int, t: float) -> None:
        """A note-on arrived: the input neurons that listen to it remember it and fire now."""
        fired = listeners(self.state, ch, note)
        if not fired:
            return
        for name in fired:
            self.heard[name] = (note, vel)
        heard = set(fired)
        for st in self.steppers.values():
            src = getattr(st.op, "src", "")
            if src and src in heard:
                st.learn(note if st.op.param == "note" else vel)
        for (name, _param), f in self.state.follows.items():
            if f.src in heard:
                self.refresh(name)
        for name in fired:
            self.refresh(name)
            self.fire_at(name, t)

    def refresh(self, name: str) -> None:
        """Recompute ``name``'s effective note and velocity from what its sources heard."""
        n = self._neurons.get(name)
        if n is None:
            return
        note, vel = effective(self.state, self.heard, name)
        if (note, vel) != (n.fnote, n.fvel):
            n.fnote, n.fvel = note, vel
            n.set_params(n.params)
            if n.steppers:
                _stochastic.settle_neuron(n)

    def refresh_all(self) -> None:
        for name in self._neurons:
            self.refresh(name)

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

    def _rewire(self) -> None:
        """Rebuild every neuron's outgoing pulse lists (connection creation order).

        A connection with several taps is one entry per tap, so the hot path delivers each
        tap as a plain pulse and never sees a tap list.
        """
        neurons = self._neurons
        for n in neurons.values():
            n.out0, n.outd = [], []
        for (s, d), c in self.state.connections.items():
            if c.kind == "pulse":
                src, dst = neurons[s], neurons[d]
                for w, delay in c.taps:
                    if delay == 0.0:
                        src.out0.append((dst, w))
                    else:
                        src.outd.append((dst, w, delay))

    def _dissolve(self, t: float) -> list[Neuron]:
        loose = _groups.dissolve(self._groups, t)
        self._groups = []
        return loose

    def _build_groups(self, t: float, loose: list[Neuron]) -> None:
        self._groups = _groups.build(self._neurons, self.state.connections, t)
        for g in self._groups:
            self._schedule_group(g, True)
        for n in loose:
            if n.alive and n.group is None:
                self._schedule(n)

    # -- running ---------------------------------------------------------------------------
    def advance(self, t: float) -> list[Event]:
        """Run up to and including ``t`` seconds; return the events, in time order.

        A ``t`` before :attr:`now` is a no-op (the real-time loop may ask for a time it
        has already passed): time never goes backwards.
        """
        out: list[Event] = []
        if t <= self.now:
            return out
        if self.running:
            target = self._b0 + (t - self._s0) / self._spb
            self._run(target, out)
            if target > self.beat:
                self.beat = target
        self.now = t
        return out

    def _run(self, target: float, out: list[Event]) -> None:
        heap = self._heap
        lim = target + EPS
        sounding = self._sounding
        fast = not self._groups  # no cont group: every neuron is a singleton
        seq = self._seq
        s0, b0, spb = self._s0, self._b0, self._spb
        beat = self.beat  # written back on the way out and before any instant
        try:
            while heap:
                e = heappop(heap)
                t, kind, _seq, x, y, z = e
                if t > lim:
                    heappush(heap, e)
                    break
                # drop stale entries here: most of the heap churn, not worth an instant
                if kind == FIRE:  # Crossing: x neuron, y version
                    n = x
                    if y != n.ver:
                        if y != FORCED:
                            continue  # stale
                    elif n.tc > t + EPS:
                        # a lower bound: inhibition since moved the crossing later
                        tc = n.due = n.tc
                        if tc < _INF and n.alive:
                            heappush(heap, (tc, FIRE, next(seq), n, y, None))
                        continue
                    if not n.alive:
                        continue
                    if t < beat:
                        t = beat
                    beat = t
                    tl = t + EPS
                    if fast and (not heap or heap[0][0] > tl):
                        # alone in its instant (the usual case): a volley of one
                        self._vid = vid = self._vid + 1
                        n.vstamp = vid
                        self._fvolley([n], vid, t, s0 + (t - b0) * spb, out)
                        continue
                    heappush(heap, e)
                    self.beat = beat
                    self._instant(t, out)
                elif kind == PULSE:  # Pulse: x dst, y w, z src
                    n = x
                    if n.group is not None:
                        heappush(heap, e)
                        if t < beat:
                            t = beat
                        beat = self.beat = t
                        self._instant(t, out)
                        continue
                    if not (n.alive and z.alive):
                        continue
                    if t < beat:
                        t = beat
                    beat = t
                    self._pulse(n, y, t, True)
                elif kind == OFF:  # NoteOff: x ch, y note, z token
                    # note-offs and pulses to singletons need no instant of their own: heap
                    # order already puts them before the volley they may start (FIRE entry)
                    key = (x, y)
                    s = sounding.get(key)
                    if s is not None and s[1] == z:
                        if t < beat:
                            t = beat
                        beat = t
                        del sounding[key]
                        out.append(Event(s0 + (t - b0) * spb, t, "note_off", s[0], x, y, 0))
                else:
                    heappush(heap, e)
                    if t < beat:
                        t = beat
                    beat = self.beat = t
                    self._instant(t, out)
        finally:
            self.beat = beat

    def _instant(self, t: float, out: list[Event]) -> None:
        heap = self._heap
        lim = t + EPS
        cands: list[tuple[Neuron, int]] = []
        sec = self._s0 + (t - self._b0) * self._spb
        sounding = self._sounding
        while heap and heap[0][0] <= lim:
            at, kind, _seq, x, y, z = heappop(heap)
            if kind == FIRE:  # Crossing: x neuron, y version
                if x.alive and (y == x.ver or y == FORCED):
                    if y != FORCED and x.tc > lim:
                        self._repush(x)
                    else:
                        cands.append((x, y))
            elif kind == PULSE:  # Pulse: x dst, y w, z src
                if x.alive and z.alive:
                    if x.group is None:
                        self._pulse(x, y, t, True)
                    elif self._member_pulse(x, y, t):
                        cands.append((x, _MEMBER))
            elif kind == OFF:  # NoteOff: x ch, y note, z token
                key = (x, y)
                s = sounding.get(key)
                if s is not None and s[1] == z:
                    del sounding[key]
                    out.append(Event(sec, t, "note_off", s[0], x, y, 0))
            else:  # GroupEvent: x group, y version
                g = x
                if g.alive and g.ver == y:
                    g.rebase(at)
                    for i in g.update_modes(at):
                        cands.append((g.members[i], _MEMBER))
                    self._touch(g)
        if cands:
            self._volley(cands, t, sec, out)
        if self._dirty:
            for g in self._dirty:
                if g.alive:
                    self._schedule_group(g, False)
            self._dirty = []

    def _volley(self, cands: list[tuple[Neuron, int]], t: float, sec: float, out: list) -> None:
        self._vid += 1
        vid = self._vid
        rnd = []
        for n, ver in cands:
            if n.vstamp == vid or not n.alive:
                continue
            if ver == _MEMBER:
                if not self._member_ready(n, t):
                    continue
            elif ver != FORCED:
                if ver != n.ver:
                    continue
                if n.tc > t + EPS:  # an inhibitory pulse of this instant moved it later
                    self._repush(n)
                    continue
            n.vstamp = vid
            rnd.append(n)
        if not self._groups:
            if rnd:
                self._fvolley(rnd, vid, t, sec, out)
            return
        while rnd:
            if len(rnd) > 1:
                rnd.sort(key=_order_key)
            for n in rnd:
                self._fire(n, t, sec, out)
            nxt = []
            for n in rnd:
                for dst, w in n.out0:
                    if dst.vstamp != vid and dst.alive:
                        hit = (
                            self._pulse(dst, w, t, False)
                            if dst.group is None
                            else self._member_pulse(dst, w, t)
                        )
                        if hit:
                            dst.vstamp = vid
                            nxt.append(dst)
            rnd = nxt

    def _fvolley(self, rnd: list[Neuron], vid: int, t: float, sec: float, out: list) -> None:
        """:meth:`_volley` for a network without cont groups (the hot path)."""
        fire, pulse = self._fire, self._pulse
        while True:
            if len(rnd) > 1:
                rnd.sort(key=_order_key)
            for n in rnd:
                fire(n, t, sec, out)
            nxt = []
            for n in rnd:
                for dst, w in n.out0:
                    if dst.vstamp != vid and dst.alive and pulse(dst, w, t, False):
                        dst.vstamp = vid
                        nxt.append(dst)
            if not nxt:
                return
            rnd = nxt

    def _fire(self, n: Neuron, t: float, sec: float, out: list[Event]) -> None:
        solo = self._solo
        sounds = not n.mute and (not solo or n.name in solo)
        # gate is prob, or -1 when processes draw this firing's values: a neuron without
        # one pays the one test it always paid
        if n.gate < 1.0:
            if n.vary:
                _stochastic.draw(n, self._rng)  # before the note: it may draw the note
            if n.prob < 1.0 and self._rng.random() >= n.prob:
                sounds = False
        notes = n.notes
        note = notes[n.note_index]
        if len(notes) > 1:
            n.note_index = (n.note_index + 1) % len(notes)
        heap = self._heap
        seq = self._seq
        if sounds:
            ch = n.ch
            key = (ch, note)
            s = self._sounding.get(key)
            if s is not None:
                out.append(Event(sec, t, "note_off", s[0], ch, note, 0))
            tok = next(seq)
            self._sounding[key] = (n.name, tok)
            out.append(Event(sec, t, "note_on", n.name, ch, note, n.vel))
            heappush(heap, (t + n.dur, OFF, tok, ch, note, tok))
        re = t + n.refr
        n.refr_end = re
        n.last_fire = t
        g = n.group
        if g is None:
            n.ver += 1
            n.a0 = 0.0
            n.t0 = re
            n.tc = n.due = tc = max(re + n.rise, t + MIN_INTERVAL)
            if tc < _INF:
                heappush(heap, (tc, FIRE, next(seq), n, n.ver, None))
        else:
            i = g.index[id(n)]
            g.rebase(t)
            g.set_value(i, 0.0)
            g.set_mode(i, REFRACTORY if n.refr > 0.0 else NORMAL)
            self._touch(g)
        for dst, w, d in n.outd:
            heappush(heap, (t + d, PULSE, next(seq), dst, w, n))

    def _pulse(self, n: Neuron, w: float, t: float, push: bool) -> bool:
        """Deliver a pulse to a singleton; True if it is now at or above threshold."""
        if t < n.refr_end - EPS:
            return False
        leak = n.leak
        dt = t - n.t0
        if dt <= 0.0:
            a = n.a0 + w
        elif leak == 0.0:
            a = n.a0 + n.rate * dt + w
        else:
            a = n.big_a + (n.a0 - n.big_a) * _exp(-leak * dt) + w
        if a < n.floor:
            a = n.floor
        n.a0 = a
        n.t0 = t
        thr = n.thr
        if a >= thr:
            soon = n.last_fire + MIN_INTERVAL
            if t >= soon:
                n.tc = t
                if push:
                    n.ver += 1
                    n.due = t
                    heappush(self._heap, (t, FIRE, next(self._seq), n, n.ver, None))
                return True
            tc = soon  # it fired a moment ago: it fires again as soon as allowed
        # the closed forms of neuron.time_to, inlined: this is the hottest path
        elif leak == 0.0:
            tc = t + (thr - a) / n.rate if n.rate > 0.0 else _INF
        elif n.big_a > thr:
            tc = t + _log1p((thr - a) / (n.big_a - thr)) / leak
        else:
            tc = _INF
        n.tc = tc
        # a later crossing keeps the live entry (a lower bound, re-pushed when it pops);
        # only an earlier one needs a new entry
        if tc < n.due:
            n.ver += 1
            n.due = tc
            heappush(self._heap, (tc, FIRE, next(self._seq), n, n.ver, None))
        return False

    def _repush(self, n: Neuron) -> None:
        tc = n.due = n.tc
        if tc < _INF:
            heappush(self._heap, (tc, FIRE, next(self._seq), n, n.ver, None))

    def _member_pulse(self, n: Neuron, w: float, t: float) -> bool:
        if t < n.refr_end - EPS:
            return False
        g = n.group
        assert g is not None
        i = g.index[id(n)]
        g.rebase(t)
        a = float(g.z[i]) + w
        if a <= n.floor:
            a = n.floor
        elif g.mode[i] == HELD:
            g.set_mode(i, NORMAL)
        g.set_value(i, a)
        self._touch(g)
        return a >= n.thr and g.mode[i] == NORMAL

    def _member_ready(self, n: Neuron, t: float) -> bool:
        g = n.group
        if g is None:
            return n.value(t) >= n.thr
        i = g.index[id(n)]
        g.rebase(t)
        return bool(g.mode[i] == NORMAL and g.z[i] >= n.thr - 1e-9 * max(1.0, n.thr))

    def _touch(self, g: Group) -> None:
        g.ver += 1
        if g not in self._dirty:
            self._dirty.append(g)

    def _schedule_group(self, g: Group, include_now: bool) -> None:
        g.ver += 1
        te = g.next_event(include_now)
        if te < _INF:
            heappush(self._heap, GroupEvent(te, GROUP, next(self._seq), g, g.ver))

    def _schedule(self, n: Neuron) -> None:
        n.ver += 1
        n.tc = n.due = tc = n.crossing()
        if tc < _INF:
            heappush(self._heap, (tc, FIRE, next(self._seq), n, n.ver, None))

    def _value(self, n: Neuron, t: float) -> float:
        g = n.group
        if g is None:
            return n.value(t)
        return g.value(g.index[id(n)], t)

    def _get(self, name: str) -> Neuron:
        n = self._neurons.get(name)
        if n is None:
            raise UnknownNeuron(f"no neuron named {name!r}")
        return n

    def release_all(self) -> list[Event]:
        """Note-off now for every sounding note; pending note-offs are dropped."""
        sec, b = self.now, self.beat
        out = [
            Event(sec, b, "note_off", who, ch, note, 0)
            for (ch, note), (who, _tok) in self._sounding.items()
        ]
        self._sounding.clear()
        return out


def _order_key(n: Neuron) -> int:
    return n.order
