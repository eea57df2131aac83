"""The network model: neuron state and exact, event-driven simulation.

Pure: no I/O, no clock, no threads. Time runs in beats inside; a tempo map (the current
segment ``beat = b0 + (sec - s0) / spb``) turns beats into the seconds of the events.
Spike times come from closed forms (``pulse``-only neurons) or from the exact solution
of the linear system of a ``cont`` group (:mod:`engine.model.linear`); nothing steps a grid.

A single heap holds ``(beat, kind, seq, x, y, z)``: note-offs, delayed pulses, neuron
crossings and group events. Entries are invalidated lazily: a neuron crossing carries the
neuron's version, a note-off the token of the note-on it ends, a pulse its neurons (which
may have died). Everything within ``EPS`` beats of the earliest entry is one instant:
its note-offs, then its pulses, then one volley.
"""

from __future__ import annotations

import math
import random
from heapq import heappop, heappush
from itertools import count
from math import exp as _exp
from math import log1p as _log1p

from engine import protocol as P
from engine.model.linear import HELD, NORMAL, REFRACTORY, Group
from engine.model.neuron import ModelError, Neuron, UnknownNeuron
from engine.model.patch import Patching
from engine.protocol import Event

__all__ = ["ModelError", "UnknownNeuron", "Network", "EPS"]

EPS = 1e-9  # beats: crossings closer than this are the same instant
# A neuron fires at most once per this many beats (a 1/512 note; 1 ms at 120 BPM). Only a
# runaway (a huge rate, a loop of near-zero delays) ever meets it; without it one value
# typed or sent over OSC could make the engine fire without end inside one instant.
MIN_INTERVAL = 1.0 / 128
_OFF, _PULSE, _FIRE, _GROUP = 0, 1, 2, 3
_FORCED = -1  # version tag of a Fire op: fires whatever the activation
_MEMBER = -2  # candidate from a cont group: re-checked against the group state
_INF = math.inf


class Network(Patching):
    """A network of integrate-and-fire neurons, simulated exactly between events."""

    def __init__(self, seed: int = 0, tempo: float = P.DEFAULT_TEMPO) -> None:
        self.seed = seed
        self.tempo = _check(P.validate_tempo, tempo)
        self.now = 0.0
        self.beat = 0.0
        self.running = True
        self._b0, self._s0, self._spb = 0.0, 0.0, 60.0 / self.tempo
        self._rng = random.Random(seed)
        self._neurons: dict[str, Neuron] = {}
        self._conns: dict[tuple[str, str], tuple[float, float, str]] = {}
        self._solo: set[str] = set()
        self._heap: list = []
        self._seq = count()
        self._order = count()
        self._vid = 0
        self._sounding: dict[tuple[int, int], tuple[str, int]] = {}
        self._groups: list[Group] = []
        self._dirty: list[Group] = []
        # controller mappings (plain dicts, see protocol.Map), keyed by (source, name, param)
        self._maps: dict[tuple[str, str, str], dict] = {}
        self.shape = 0  # bumped when neurons, connections or mappings come or go (OSC routing)

    # -- queries -------------------------------------------------------------------------
    def sounding(self) -> list[tuple[int, int]]:
        """The ``(ch, note)`` pairs sounding now."""
        return list(self._sounding)

    def activation(self, name: str) -> float:
        """Activation of ``name`` at ``self.now``."""
        return self._value(self._get(name), self.beat)

    def neurons(self) -> list[str]:
        """Names in creation order."""
        return list(self._neurons)

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

    def _valid(self, e: tuple) -> bool:
        kind = e[1]
        if kind == _OFF:
            s = self._sounding.get((e[3], e[4]))
            return s is not None and s[1] == e[5]
        if kind == _PULSE:
            return e[3].alive and e[5].alive
        if kind == _FIRE:
            n = e[3]
            return n.alive and (e[4] == _FORCED or e[4] == n.ver)
        return e[3].alive and e[3].ver == e[4]

    # -- running -------------------------------------------------------------------------
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

    def _run(self, target: float, out: list) -> None:
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
                t = e[0]
                if t > lim:
                    heappush(heap, e)
                    break
                kind = e[1]
                # drop stale entries here: most of the heap churn, not worth an instant
                if kind == _FIRE:
                    n = e[3]
                    v = e[4]
                    if v != n.ver:
                        if v != _FORCED:
                            continue  # stale
                    elif n.tc > t + EPS:
                        # a lower bound: inhibition since moved the crossing later
                        tc = n.due = n.tc
                        if tc < _INF and n.alive:
                            heappush(heap, (tc, _FIRE, next(seq), n, v, None))
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
                elif kind == _PULSE:
                    n = e[3]
                    if n.group is not None:
                        heappush(heap, e)
                        if t < beat:
                            t = beat
                        beat = self.beat = t
                        self._instant(t, out)
                        continue
                    if not (n.alive and e[5].alive):
                        continue
                    if t < beat:
                        t = beat
                    beat = t
                    self._pulse(n, e[4], t, True)
                elif kind == _OFF:
                    # note-offs and pulses to singletons need no instant of their own: heap
                    # order already puts them before the volley they may start (FIRE entry)
                    key = (e[3], e[4])
                    s = sounding.get(key)
                    if s is not None and s[1] == e[5]:
                        if t < beat:
                            t = beat
                        beat = t
                        del sounding[key]
                        out.append(Event(s0 + (t - b0) * spb, t, "note_off", s[0], e[3], e[4], 0))
                else:
                    heappush(heap, e)
                    if t < beat:
                        t = beat
                    beat = self.beat = t
                    self._instant(t, out)
        finally:
            self.beat = beat

    def _instant(self, t: float, out: list) -> None:
        heap = self._heap
        lim = t + EPS
        cands: list = []
        sec = self._s0 + (t - self._b0) * self._spb
        sounding = self._sounding
        while heap and heap[0][0] <= lim:
            e = heappop(heap)
            kind = e[1]
            if kind == _FIRE:
                n = e[3]
                if n.alive and (e[4] == n.ver or e[4] == _FORCED):
                    if e[4] != _FORCED and n.tc > lim:
                        self._repush(n)
                    else:
                        cands.append((n, e[4]))
            elif kind == _PULSE:
                dst = e[3]
                if dst.alive and e[5].alive:
                    if dst.group is None:
                        self._pulse(dst, e[4], t, True)
                    elif self._member_pulse(dst, e[4], t):
                        cands.append((dst, _MEMBER))
            elif kind == _OFF:
                key = (e[3], e[4])
                s = sounding.get(key)
                if s is not None and s[1] == e[5]:
                    del sounding[key]
                    out.append(Event(sec, t, "note_off", s[0], e[3], e[4], 0))
            else:
                g = e[3]
                if g.alive and g.ver == e[4]:
                    g.rebase(e[0])
                    for i in g.update_modes(e[0]):
                        cands.append((g.members[i], _MEMBER))
                    self._touch(g)
        if cands:
            self._volley(cands, t, sec, out)
        if self._dirty:
            for g in self._dirty:
                if g.alive:
                    self._schedule_group(g, False)
            self._dirty = []

    def _volley(self, cands: list, t: float, sec: float, out: list) -> None:
        self._vid += 1
        vid = self._vid
        rnd = []
        for n, ver in cands:
            if n.vstamp == vid or not n.alive:
                continue
            if ver == _MEMBER:
                if not self._member_ready(n, t):
                    continue
            elif ver != _FORCED:
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

    def _fvolley(self, rnd: list, vid: int, t: float, sec: float, out: list) -> None:
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

    def _fire(self, n: Neuron, t: float, sec: float, out: list) -> None:
        notes = n.notes
        note = notes[n.note_index]
        if len(notes) > 1:
            n.note_index = (n.note_index + 1) % len(notes)
        sounds = not n.mute and (not self._solo or n.name in self._solo)
        if n.prob < 1.0 and self._rng.random() >= n.prob:
            sounds = False
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
            heappush(heap, (t + n.dur, _OFF, tok, ch, note, tok))
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
                heappush(heap, (tc, _FIRE, next(seq), n, n.ver, None))
        else:
            i = g.index[id(n)]
            g.rebase(t)
            g.set_value(i, 0.0)
            g.set_mode(i, REFRACTORY if n.refr > 0.0 else NORMAL)
            self._touch(g)
        for dst, w, d in n.outd:
            heappush(heap, (t + d, _PULSE, next(seq), dst, w, n))

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
                    heappush(self._heap, (t, _FIRE, next(self._seq), n, n.ver, None))
                return True
            tc = soon  # it fired a moment ago: it fires again as soon as allowed
        # the closed forms of Neuron.crossing, inlined: this is the hottest path
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
            heappush(self._heap, (tc, _FIRE, next(self._seq), n, n.ver, None))
        return False

    def _repush(self, n: Neuron) -> None:
        tc = n.due = n.tc
        if tc < _INF:
            heappush(self._heap, (tc, _FIRE, next(self._seq), n, n.ver, None))

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
        return g.mode[i] == NORMAL and g.z[i] >= n.thr - 1e-9 * max(1.0, n.thr)

    def _touch(self, g: Group) -> None:
        g.ver += 1
        if g not in self._dirty:
            self._dirty.append(g)

    def _schedule_group(self, g: Group, include_now: bool) -> None:
        g.ver += 1
        te = g.next_event(include_now)
        if te < _INF:
            heappush(self._heap, (te, _GROUP, next(self._seq), g, g.ver, None))

    def _schedule(self, n: Neuron) -> None:
        n.ver += 1
        n.tc = n.due = tc = n.crossing()
        if tc < _INF:
            heappush(self._heap, (tc, _FIRE, next(self._seq), n, n.ver, None))

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


def _check(fn, value):  # type: ignore[no-untyped-def]
    try:
        return fn(value)
    except P.ProtocolError as exc:
        raise ModelError(str(exc)) from None
