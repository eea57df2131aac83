"""The engine's one loop: wait on the pipe until the next event is due, then play it on time.

:class:`Engine` is the composition root of the real-time side. It owns the network
model, the MIDI output and the clock; it knows nothing of processes (engine.runtime.process
starts it in one) and takes every part as an argument so tests can hand it fakes.
"""

from __future__ import annotations

import gc
import math
import selectors
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from engine.faults import FaultLog
from engine.io.midi_base import MidiOut, NullOut
from engine.model.events import midi_bytes
from engine.model.network import ModelError, Network
from engine.protocol import Ack, Batch, Event, Notice, Panic, Status
from engine.record.eventlog import EventLog
from engine.runtime.clock import Clock
from engine.runtime.hooks import Pipe
from engine.runtime.options import CHANNELS_USED, SOUNDING_CELLS
from engine.runtime.pending import Pending

__all__ = ["Engine", "QUIT", "ALL_NOTES_OFF", "SOUNDING_CELLS", "prepare_gc"]

QUIT = "quit"
ALL_NOTES_OFF = 123
# Wake this long before a deadline, to leave the pipe's poll() (whole milliseconds,
# rounded up) and wait precisely.
EARLY_SECONDS = 0.001
_NOTES = ("note_on", "note_off")  # the events that start or end a sounding note

# Build a status snapshot only when the next note is at least this far away (it costs
# ~0.2 ms for 64 neurons, more for big networks), unless it has waited this long already.
STATUS_ROOM = 0.002
STATUS_MAX_DELAY = 0.1
# Collect young garbage only when the next event is at least this far away.
GC_IDLE_SECONDS = 0.005


def prepare_gc() -> None:
    """Collect once, freeze what is alive (long-lived from here on), and stop automatic
    collection: the loop collects young garbage itself, between notes. Call it before
    logical time starts: a full collection takes ~10 ms."""
    if gc.isenabled():
        gc.collect()
        gc.freeze()
        gc.disable()


class Engine:
    """Plays a :class:`Network` in real time into a :class:`MidiOut`, patched through ``conn``.

    It offers the servers it runs the hook API :class:`engine.runtime.hooks.EngineHooks`.
    ``selector`` waits on the pipe and the inputs (a simulation in tests hands its own).

    ``conn`` is one end of a ``multiprocessing`` pipe (anything with ``poll``, ``recv``
    and ``send``). ``sounding`` is an optional shared byte array of ``SOUNDING_CELLS``
    cells that mirrors which notes sound (16*128), then which channels played a note (16),
    so a parent can silence them if this process dies: a note-off handed to a port with
    latency may die with the process before it is written, and its channel then still
    gets All Notes Off.
    """

    def __init__(
        self,
        conn: Pipe,
        midi: MidiOut | None = None,
        network: Network | None = None,
        clock: Clock | None = None,
        event_log: EventLog | None = None,
        sounding: Any = None,
        status_interval: float = 0.25,
        until: float | None = None,
        selector: selectors.BaseSelector | None = None,
    ) -> None:
        self.conn = conn
        self.midi = midi or NullOut()
        self.net = network or Network()
        self.clock = clock or Clock()
        self.event_log = event_log
        self.sounding = sounding
        self.status_interval = status_interval
        self.until = math.inf if until is None else until
        self.lead = self.midi.latency
        self.channels_used: set[int] = set()
        self._fired: list[str] = []
        self._sent_count = 0
        self._count_at_status = 0
        self._worst_late = 0.0
        self._late_window: deque[float] = deque(maxlen=2048)
        self._next_status = 0.0
        self._quit = False
        # Everything the loop waits on besides the clock: the pipe, and later OSC or MIDI
        # input sockets. Each readable object maps to the handler that drains it.
        # One selector for the engine's life: building one per wait cost ~7 µs a step.
        self._selector = selector or selectors.DefaultSelector()
        self._faults = FaultLog()  # bugs caught by the loop's barriers
        self._selector.register(conn, selectors.EVENT_READ, self._receive)
        self._pending = Pending()  # batches with a future time
        # How other inputs (OSC, MIDI in) hook in: parts of the status snapshot, taps on the
        # events played, watchers of applied batches, sources whose acks the parent skips.
        self._status_parts: dict[str, Callable[[], object]] = {}
        self._taps: list[Callable[[list[Event]], None]] = []
        self._watchers: list[Callable[[Batch, Ack], None]] = []
        self.quiet_sources: set[str] = set()
        self._handlers: dict[type, Callable[[Any], None]] = {}  # control messages by type
        # timed sources besides the network (MIDI clock out): (next_time, play up to t)
        self._timers: list[tuple[Callable[[], float], Callable[[float], None]]] = []
        self._preface: tuple[tuple[int, ...], ...] = ()  # sent again with the first notes

    def preface(self, messages: Iterable[Iterable[int]]) -> None:
        """Send ``messages`` (a dead engine's silence, the channels' programs, volumes and
        pans) again just before the first note this engine plays, at its time: on JACK a
        dead client stalls the graph until the server removes it, and what was written
        meanwhile is lost (a restart's first program changes were, 5 times in 6); the
        cycle that carries the first new note carries these too."""
        self._preface = tuple(tuple(m) for m in messages)

    def add_input(self, readable: Any, handler: Callable[[], None]) -> None:
        """Wake the loop when ``readable`` (a socket, pipe or fd) has data; call ``handler``."""
        self._selector.register(readable, selectors.EVENT_READ, handler)

    def remove_input(self, readable: Any) -> None:
        """Stop waiting on ``readable`` (a server that closes its socket)."""
        try:
            self._selector.unregister(readable)
        except (KeyError, ValueError):
            pass  # not registered, or closed already

    def on_message(self, kind: type, handler: Callable[[Any], None]) -> None:
        """Call ``handler(msg)`` for every message of type ``kind`` from the pipe (controls
        such as ``protocol.Record``), on the loop thread."""
        self._handlers[kind] = handler

    def add_status(self, key: str, part: Callable[[], object]) -> None:
        """Put ``part()`` (plain builtins) under ``key`` in every status snapshot."""
        self._status_parts[key] = part

    def add_tap(self, tap: Callable[[list[Event]], None]) -> None:
        """Call ``tap(events)`` with the events of each ``_play``, after they were sent."""
        self._taps.append(tap)

    def watch(self, watcher: Callable[[Batch, Ack], None]) -> None:
        """Call ``watcher(batch, ack)`` after every batch applied or refused."""
        self._watchers.append(watcher)

    def add_timer(self, next_time: Callable[[], float], play: Callable[[float], None]) -> None:
        """Wake for ``next_time()`` (logical seconds, inf: never) and call ``play(t)`` to send
        what is due up to ``t``; interleaved in time order with the network's events."""
        self._timers.append((next_time, play))

    def mark_fired(self, names: list[str]) -> None:
        """Count ``names`` as fired in the next status (silent firings, e.g. input neurons)."""
        self._fired.extend(names)

    def schedule(self, batch: Batch, t: float) -> None:
        """Apply ``batch`` at logical time ``t`` (past means now)."""
        self._pending.at_logical(batch, t)

    def schedule_mono(self, batch: Batch, mono: float) -> None:
        """Apply ``batch`` when the monotonic clock reads ``mono`` (an OSC bundle's timetag;
        past means now), on whatever clock logical time follows."""
        self._pending.at_mono(batch, mono)

    def arrival_time(self, mono: float) -> float:
        """The logical time to apply an input that arrived at monotonic reading ``mono``:
        its arrival plus the port's latency (a steady delay, whenever the loop got to
        it), but never before the earliest time the port can still play."""
        clock = self.clock
        return max(clock.at(mono) + self.lead, clock.now())

    # --- the loop ------------------------------------------------------------------------

    def run(self) -> None:
        """Run until told to quit, the pipe closes, or ``until`` is reached; then go silent."""
        prepare_gc()
        try:
            while not self._quit:
                self._step()
        finally:
            self.shutdown()
            gc.enable()

    def _step(self) -> None:
        # ``due`` is the logical time of the next thing to play; the loop acts ``lead``
        # seconds before it (0 for ports that send at once, the latency for JACK).
        scheduled, waits_mono = self._pending.next(self.clock)
        due = min(self.net.next_time(), scheduled, self.until)
        if self._timers:
            due = min(due, self._next_timer())
        play_at = due - self.lead
        now = self.clock.now()
        status_at = self._next_status
        if (
            status_at < play_at
            and play_at - max(status_at, now) < STATUS_ROOM
            and not self._status_overdue(now)
        ):
            status_at = play_at  # no room before that note: the status waits until after it
        wake = min(play_at, status_at)
        # The selector waits in monotonic seconds. A sample clock may run faster than the
        # monotonic one: ask the clock where ``wake`` lies on it, and take the sooner of
        # that and the logical distance (its ratio is measured, and noisy under load: a
        # wait must never overshoot; one that ends early only waits again).
        clock = self.clock
        timeout = min(wake - now, clock.wall(wake) - clock.mono()) - EARLY_SECONDS
        if timeout > GC_IDLE_SECONDS:
            gc.collect(0)
            now = clock.now()
            timeout = min(wake - now, clock.wall(wake) - clock.mono()) - EARLY_SECONDS
        ready = self._selector.select(max(0.0, timeout))
        if ready:
            for key, _ in ready:
                try:
                    key.data()
                except Exception as exc:  # noqa: BLE001 - a bug in one input never stops the sound
                    self._fault(f"an input handler ({_name(key.data)})", exc, "the engine plays on")
            if timeout > 0.0 or self._quit:
                return
            # Already due: play it now. Returning here would let a steady flood of input
            # (thousands of OSC messages a second) hold the notes back indefinitely.
        if timeout > 0.0 and wake - clock.now() > EARLY_SECONDS:
            # The selector waits in monotonic seconds; a clock that runs slower (a JACK
            # server, a sound card) is not there yet: wait on the inputs again, never
            # deaf to them for longer than the last moment before the deadline.
            return
        if wake > now:
            self.clock.wait_until(wake)
        if play_at <= wake:
            if due >= self.until:
                self._play(self.net.advance(self.until))
                self._quit = True
                return
            if due == scheduled and waits_mono is not None:
                if waits_mono:
                    # asked again now that it is close: the clock may have drifted
                    fresh = self.clock.ahead(self._pending.first_mono())
                    if fresh - self.lead > self.clock.now():
                        return  # that clock ran slower than thought: not yet
                    due = fresh
                self.apply(self._pending.pop(waits_mono), due)
            self._advance(due)
        now = self.clock.now()
        if now >= self._next_status:
            upcoming = self.net.next_time() - self.lead
            if upcoming - now >= STATUS_ROOM or self._status_overdue(now):
                self._send_status()

    def _fault(self, what: str, exc: Exception, consequence: str) -> None:
        text = self._faults.report(what, exc, consequence)
        if text is not None:
            self._tell(Notice(text, "error"))

    def _status_overdue(self, t: float) -> bool:
        """True once a status has waited its longest for room between notes."""
        return t - self._next_status >= STATUS_MAX_DELAY

    def _receive(self) -> None:
        try:
            msg = self.conn.recv()
        except (EOFError, OSError):
            self._quit = True  # the parent is gone: stop cleanly
            self._selector.unregister(self.conn)
            return
        if isinstance(msg, Batch):
            self.apply(msg)
        elif msg == QUIT:
            self._quit = True
        elif type(msg) in self._handlers:
            self._handlers[type(msg)](msg)
        else:
            self._tell(Notice(f"engine ignored an unknown message {type(msg).__name__}", "warning"))

    # --- patches -------------------------------------------------------------------------

    def apply(self, batch: Batch, t: float | None = None) -> Ack:
        """Apply ``batch`` whole at logical ``t``, or refuse it whole; answer with an :class:`Ack`.

        By default ``t`` is the earliest time not yet handed to the port: now, plus the
        port's latency on JACK.
        """
        # Never in the past: what is handed to the port already is played (a bundle timed
        # inside the latency, or a late wake-up, applies at the first time still open).
        t = max(self.clock.now() + self.lead if t is None else t, self.net.now)
        self._advance(t)  # anything due up to now goes out first
        try:
            events = self.net.apply(batch, t)
        except ModelError as exc:
            ack = Ack(batch.id, False, t, str(exc), self.clock.mono())
        except Exception as exc:  # noqa: BLE001 - a bug in an op: refuse the batch, play on
            self._fault(
                "applying a batch",
                exc,
                "the batch was refused (part of it may have taken effect); the network plays on",
            )
            ack = Ack(
                batch.id,
                False,
                t,
                f"internal error: {type(exc).__name__}: {exc}",
                self.clock.mono(),
            )
        else:
            self._play(events)
            if any(isinstance(op, Panic) for op in batch.ops):
                # Panic also silences what the model does not know of (a note a crashed
                # engine or another program left on): All Notes Off on all 16 channels.
                self.all_notes_off(t, range(1, 17))
            ack = Ack(batch.id, True, t, wall=self.clock.mono())
        for watcher in self._watchers:
            watcher(batch, ack)
        if batch.source not in self.quiet_sources:
            self._tell(ack)
        return ack

    # --- output --------------------------------------------------------------------------

    def _next_timer(self) -> float:
        return min(next_time() for next_time, _ in self._timers)

    def _advance(self, t: float) -> None:
        """Play the network and the timers up to ``t``, in time order."""
        if self._timers:
            while (tt := self._next_timer()) <= t:
                self._play(self.net.advance(tt))
                for next_time, play in self._timers:
                    if next_time() <= tt:
                        play(tt)
        self._play(self.net.advance(t))

    def _play(self, events: list[Event]) -> None:
        if not events:
            return
        midi, log, sounding, clock = self.midi, self.event_log, self.sounding, self.clock
        if self._preface:
            first = next((ev for ev in events if ev.type == "note_on"), None)
            if first is not None:  # with the first note: what comes before may be lost
                for data in self._preface:
                    midi.send_at(list(data), first.t)
                self._preface = ()
        lead = self.lead
        for ev in events:
            midi.send_at(midi_bytes(ev), ev.t)
            sent = clock.now() + lead  # the earliest a port with latency can play it
            late = sent - ev.t
            if late > self._worst_late:
                self._worst_late = late
            self._late_window.append(late)
            if log is not None:
                log.add(ev, sent)
            if ev.type == "note_on":
                self._fired.append(ev.neuron)
                if ev.ch not in self.channels_used:
                    self.channels_used.add(ev.ch)
                    if sounding is not None and len(sounding) >= SOUNDING_CELLS:
                        sounding[CHANNELS_USED + ev.ch - 1] = 1
            if sounding is not None and ev.type in _NOTES:
                sounding[(ev.ch - 1) * 128 + ev.note] = 1 if ev.type == "note_on" else 0
        self._sent_count += len(events)
        for tap in self._taps:
            tap(events)

    def silence(self) -> None:
        """Note-off for every sounding note, then All Notes Off on every channel used."""
        t = self.clock.now() + self.lead
        try:
            self._play(self.net.advance(t))  # what is due before the silence still plays
        finally:  # even if the model failed: the notes it knows of, then CC 123
            self._play(self.net.release_all())
            self.all_notes_off(t)

    def all_notes_off(self, t: float, channels: Iterable[int] | None = None) -> None:
        """All Notes Off (CC 123) on ``channels`` (default: every channel used) at ``t``."""
        for ch in sorted(self.channels_used if channels is None else channels):
            self._play([Event(t, self.net.beat, "control_change", "", ch, ALL_NOTES_OFF, 0)])

    def shutdown(self) -> None:
        """Silence, drain and close: no note is left hanging."""
        try:
            self.silence()
            self._send_status()
        finally:
            if self.event_log is not None:
                self.event_log.close()
            self.midi.close()

    # --- status --------------------------------------------------------------------------

    def status(self) -> dict:
        now = self.clock.now()
        elapsed = max(self.status_interval, now - (self._next_status - self.status_interval))
        lates = sorted(self._late_window)
        snap = self.net.snapshot()
        return {
            "t": now,
            "mono": self.clock.mono(),  # the monotonic reading at ``t``: maps logical time
            "epoch": self.clock.epoch,
            "clock": self.clock.info(),  # its domain, ratio to monotonic, mapping error
            "beat": self.net.beat,
            "tempo": self.net.tempo,
            "running": self.net.running,
            "neurons": len(snap["neurons"]),
            "activations": {n: v["a"] for n, v in snap["neurons"].items()},
            "fired": list(dict.fromkeys(self._fired)),
            "events": self._sent_count,
            "events_per_s": (self._sent_count - self._count_at_status) / elapsed,
            "late_ms_max": self._worst_late * 1e3,
            "late_ms_p99": lates[int(0.99 * (len(lates) - 1))] * 1e3 if lates else 0.0,
            "midi": f"{self.midi.api}:{self.midi.name}",
            "latency_ms": self.lead * 1e3,
            "port_late": self.midi.late,  # JACK: written after their frame
            "port_dropped": self.midi.dropped,  # JACK: no room in the buffer
            "port_xruns": self.midi.xruns,  # JACK: cycles the graph ran late
            "frame0": self.midi.frame0,  # JACK: the frame of logical 0
            # JACK: where the output goes, so a restarted engine can reconnect a virtual port
            "midi_connections": self.midi.connections(),
            "sounding": self.net.sounding(),
            "drawn": self.net.drawn(),
            "snapshot": snap,
            **{key: part() for key, part in self._status_parts.items()},
        }

    def _send_status(self) -> None:
        self._tell(Status(self.status()))
        self._fired.clear()
        self._count_at_status = self._sent_count
        self._worst_late = 0.0
        self._next_status = self.clock.now() + self.status_interval
        if self.event_log is not None:
            self.event_log.flush()

    def _tell(self, msg: object) -> None:
        try:
            self.conn.send(msg)
        except (OSError, EOFError, BrokenPipeError):
            self._quit = True  # nobody listens any more: finish and go silent


def _name(handler: object) -> str:
    """A handler's name for a fault line: ``OscServer._read`` rather than a repr."""
    return getattr(handler, "__qualname__", type(handler).__name__)
