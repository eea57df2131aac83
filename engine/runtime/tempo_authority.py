"""One tempo authority at a time: the network's own tempo, an Ableton Link session, or
MIDI clock in. The network's state says which (``NetState.link``, ``NetState.clock_in``:
the ``Link`` and ``ClockIn`` ops); :class:`TempoAuthority` makes it so in the engine's loop.

An external authority is a :class:`TempoSource` that gives a beat line (the beat at a
logical time and the seconds per beat). Every ``POLL`` seconds, and right after any batch,
the authority

- applies a ``Tempo`` op (source "link" or "clock_in") when the source's tempo moved, so
  the status, ``ls()``, ``save()`` and recordings see the tempo the music plays at;
- steers the network onto the line (``Network.align``): the network's beat is the
  line's beat plus an offset ``D``, a whole number of quanta chosen when the authority
  takes over and on ``start()``: the largest such offset that does not move the network
  forward by more than ``CATCH_UP`` beats, and not past anything already due (a note
  there could only sound late), so taking over *holds* the network (at most one quantum)
  until its place in the bar comes round in the session: phase is kept, nothing is
  skipped, and the first note after the hold is on its beat. When the source's own beat jumps (sessions merging, a peer's
  re-start) the network keeps the nearest bar offset and *glides*: it runs a little
  faster or slower (at most 25 %) until it is on the line again, never skipping or
  doubling a note. Otherwise it follows the line exactly;
- follows the source's transport (Link's start/stop when shared, MIDI Start/Stop/Continue)
  with ``Start``/``Stop`` batches, and tells the source the performer's ``tempo()``,
  ``start()`` and ``stop()`` (Link passes them to every peer; MIDI clock in cannot).

Switching back to the network's own tempo keeps the beat and the last tempo.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from typing import NamedTuple, Protocol

from engine.io.link import LinkPeer
from engine.protocol import Ack, Batch, ClockIn, Link, Notice, Start, Stop, Tempo
from engine.runtime.clock_map import ClockMap
from engine.runtime.hooks import EngineHooks

__all__ = [
    "Line",
    "TempoSource",
    "TempoAuthority",
    "LinkSource",
    "POLL",
    "CATCH_UP",
    "MAX_STEP",
]

POLL = 0.01  # seconds between looks at the source (a Link query costs ~5 µs)
CATCH_UP = 1 / 8  # beats: come in this late rather than wait a whole quantum
MAX_STEP = 1 / 8  # beats: a source's beat that moved this far from its course jumped
EPS_BEATS = 1e-9  # beats: an event this close to the line's place is due on it
SNAP = 0.002  # beats: an error this small is corrected at once (1 ms at 120 BPM)
GLIDE_BEATS = 2.0  # a larger one fades over this many beats (at least 4x the error)
TEMPO_STEP = {"link": 1e-3, "clock_in": 0.05}  # BPM: a smaller change is not a new tempo


class Line(NamedTuple):
    """An external beat line at logical time ``t``: its beat there, seconds per beat."""

    t: float
    beat: float
    spb: float
    phase: bool = True  # False: only the tempo is known (MIDI clock running, not started)
    jumped: bool = False  # the source's beat jumped since the last line (a merged session)


class TempoSource(Protocol):
    """What leads the tempo when the network's own does not (Link, MIDI clock in)."""

    kind: str  # "link" or "clock_in"; the source of the batches it causes

    def line(self, t: float) -> Line | None:
        """The beat line at logical ``t``, or None while there is nothing to follow."""

    def playing(self) -> bool | None:
        """The transport the source asks for, or None when it has no say."""

    def push_tempo(self, bpm: float, t: float) -> None:
        """The performer changed the tempo at ``t``."""

    def push_playing(self, running: bool, t: float) -> None:
        """The performer started or stopped the network at ``t``."""

    def status(self) -> dict: ...

    def close(self) -> None: ...


Opener = Callable[[object], TempoSource]  # the Link or ClockIn op -> a source (raises on failure)


class TempoAuthority:
    """Keeps the engine's network on the tempo authority its state names."""

    engine: EngineHooks

    def __init__(self, open_source: Opener, tell: Callable[[object], None]) -> None:
        self.open_source = open_source
        self.tell = tell
        self.spec: Link | ClockIn | None = None  # the op the current source was opened for
        self.source: TempoSource | None = None
        self.offset: float | None = None  # D: network beat minus line beat (None: re-phase)
        self.last_playing: bool | None = None
        self._next = math.inf
        self.rephases = 0
        self.tempo_changes = 0
        self.error = 0.0  # network beat minus line beat after the last step, in beats
        self.holding = False  # the network waits for the line (taking over, start())
        self.gliding = False  # the network glides onto the line after a jump of it
        self.jumps: deque[float] = deque(maxlen=8)  # the last jumps of the line, in beats
        self.tempo_at: float | None = None  # logical time of the last tempo taken from the source
        self.on_line_at: float | None = None  # logical time the last hold or glide ended

    def attach(self, engine: EngineHooks) -> None:
        self.engine = engine
        engine.add_timer(lambda: self._next, self._poll)
        engine.watch(self._watched)
        engine.add_status("sync", self.status)
        self._switch(engine.clock.now() + engine.lead)

    # --- switching ---------------------------------------------------------------------------

    def _wanted(self) -> Link | ClockIn | None:
        st = self.engine.net.state
        return st.link or st.clock_in

    def _switch(self, t: float) -> None:
        wanted = self._wanted()
        if wanted == self.spec:
            return
        if self.source is not None:
            self.source.close()
            self.source = None
        self.spec, self.offset, self.last_playing = wanted, None, None
        self._next = math.inf
        if wanted is None:
            self.engine.net.retempo()  # the network's own tempo again, from its beat now
            return
        try:
            self.source = self.open_source(wanted)
        except Exception as exc:  # noqa: BLE001 - a missing library or port: play on, own tempo
            self.tell(Notice(f"tempo stays the network's own: {exc}", "warning"))
            return
        self._next = t

    def _watched(self, batch: Batch, ack: Ack) -> None:
        if not ack.ok:
            return
        self._switch(ack.t)
        source = self.source
        if source is None or batch.source == source.kind:
            return
        net = self.engine.net
        for op in batch.ops:
            if isinstance(op, Tempo):
                source.push_tempo(net.tempo, ack.t)
            elif isinstance(op, (Start, Stop)):
                source.push_playing(net.running, ack.t)
                if isinstance(op, Start):
                    self.offset = None  # come in on the session's grid
        self._follow(net.now)

    # --- following ---------------------------------------------------------------------------

    def follow_now(self, t: float) -> None:
        """Look at the source now (a transport message arrived)."""
        self._follow(t)

    def _poll(self, t: float) -> None:
        self._next = t + POLL  # first: applying a batch below re-enters the engine's timers
        self._follow(t)

    def _follow(self, t: float) -> None:
        source = self.source
        if source is None:
            return
        net = self.engine.net
        wanted = source.playing()
        if wanted is not None and wanted != self.last_playing:
            first = self.last_playing is None and source.kind == "link"
            self.last_playing = wanted
            if not first and wanted != net.running:  # joining never stops anyone
                self._apply(Start() if wanted else Stop(), t)
            if wanted and not first:
                self.offset = None  # come in on the source's bar
        line = source.line(t)
        if line is None:
            return
        bpm = 60.0 / line.spb
        if abs(bpm - net.tempo) > TEMPO_STEP[source.kind] and 1.0 <= bpm <= 999.0:
            self.tempo_changes += 1
            self._apply(Tempo(round(bpm, 3 if source.kind == "link" else 2)), t)
            self.tempo_at = net.now
        if not (line.phase and net.running):
            if net.running:
                net.align(net.beat, line.spb)  # tempo only: the exact spb, no phase yet
            return
        t = net.now
        here = line.beat + (t - line.t) / line.spb
        if line.jumped and self.offset is not None:
            # the session's beat jumped (sessions merged, a peer re-started): keep the bar
            # offset nearest to where the network is and glide onto it
            q = self._quantum()
            self.jumps.append(round(net.beat - here - self.offset, 4))
            self.offset = q * round((net.beat - here) / q)
            self.holding, self.gliding = False, True
        if self.offset is None:
            # taking over, or start(): hold until the network's place in the bar comes round
            q = self._quantum()
            self.offset = q * math.floor((net.beat - here + CATCH_UP) / q)
            if net.beat_at(net.next_time()) <= here + self.offset + EPS_BEATS:
                # coming in late would pass a note (or any event) already due on the line:
                # it could only sound late, so wait for the place to come round again
                self.offset -= q
            self.rephases += 1
            self.holding, self.gliding = True, False
        self.error = error = net.beat - (here + self.offset)
        if self.gliding and abs(error) > SNAP:
            # ahead: a little slower, behind: a little faster, until on the line again
            glide = max(GLIDE_BEATS, 4 * abs(error))
            net.align(net.beat, line.spb * glide / (glide - error))
            return
        # on the line: follow it exactly (a clock that steps moves the notes with it, as it
        # moves the frames they are written at); while holding, wait for it
        was_off = self.holding or self.gliding
        self.holding = self.holding and error > SNAP
        self.gliding = False
        if was_off and not self.holding:
            # the instant the line met the network's beat (an error is at most SNAP)
            self.on_line_at = t + error * line.spb
        net.align(here + self.offset, line.spb)

    def _quantum(self) -> float:
        return self.spec.quantum if self.spec is not None else 4.0

    def _apply(self, op: object, t: float) -> None:
        assert self.source is not None
        self.engine.apply(Batch((op,), source=self.source.kind), t)

    def status(self) -> dict:
        base = {
            "authority": self.source.kind if self.source is not None else "own",
            "rephases": self.rephases,
            "tempo_changes": self.tempo_changes,
            "error_beats": self.error,
            "tempo_at": self.tempo_at,
            "on_line_at": None if self.holding or self.gliding else self.on_line_at,
            "jumps": list(self.jumps),
        }
        if self.source is not None:
            base.update(self.source.status())
        return base

    def close(self) -> None:
        if self.source is not None:
            self.source.close()
            self.source = None


class LinkSource:
    """An Ableton Link session as the tempo authority, through one :class:`LinkPeer`."""

    kind = "link"

    def __init__(
        self,
        peer: LinkPeer,
        spec: Link,
        wall: Callable[[float], float],
        perf: Callable[[], float] = time.perf_counter,
    ) -> None:
        """``wall(t)``: the ``perf`` reading at logical ``t`` (``Clock.wall``)."""
        self.peer = peer
        self.spec = spec
        self.wall = wall
        # Link's clock against perf_counter: two system clocks, read side by side
        self.map = ClockMap(lambda: peer.micros() / 1e6, perf)
        self.last: dict = {}
        self._prev: tuple[int, float, float] | None = None  # (micros, beat, tempo)
        peer.enable(True, spec.startstop)

    def _micros(self, t: float) -> int:
        return round(self.map.to_device(self.wall(t)) * 1e6)

    def line(self, t: float) -> Line:
        self.map.reanchor()
        view = self.peer.view(self._micros(t), self.spec.quantum)
        self.last = {"peers": view.peers, "session_tempo": view.tempo, "playing": view.playing}
        jumped = False
        if self._prev is not None:  # judged on Link's clock: a re-anchored mapping is no jump
            us, beat, tempo = self._prev
            jumped = abs(view.beat - beat - (view.micros - us) * tempo / 60e6) > MAX_STEP
        self._prev = (view.micros, view.beat, view.tempo)
        return Line(t, view.beat, 60.0 / view.tempo, jumped=jumped)

    def playing(self) -> bool | None:
        return self.last.get("playing") if self.spec.startstop else None

    def push_tempo(self, bpm: float, t: float) -> None:
        self.peer.set_tempo(bpm, self._micros(t))

    def push_playing(self, running: bool, t: float) -> None:
        if self.spec.startstop:
            self.peer.set_playing(running, self._micros(t))

    def status(self) -> dict:
        return {
            "quantum": self.spec.quantum,
            "startstop": self.spec.startstop,
            "peers": 0,
            "session_tempo": None,
            **self.last,
            "clock_offset_s": self.map.offset,
        }

    def close(self) -> None:
        self.peer.close()
