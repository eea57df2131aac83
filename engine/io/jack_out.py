"""Sample-accurate MIDI out through JACK (optional extra ``livecode[jack]``, JACK-Client).

The engine runs ``latency`` seconds ahead of the JACK clock and queues each message
with its logical time; the port's process callback writes it at its exact frame
offset in the cycle that contains it. When a synth receives a note then no longer
depends on when Python woke up, only on the frame the model computed.

Logical time here *is* JACK's frame clock: ``t`` seconds sits at frame
``frame0 + round(t * samplerate)``. :class:`JackClock` gives the engine that time: every
process cycle anchors a :class:`~engine.runtime.clocks.ClockMap` from the monotonic
clock to the frame clock (the cycle's frames are exact; JACK's own estimate of the
current frame wanders by tens of ms on a non-realtime dummy server), so an arrival
stamped on the monotonic clock lands on the right frame however the two clocks drift.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections import deque

import jack
import mido

from engine.io.midi_base import (
    SETTLE_SECONDS,
    MidiOut,
    MidiUnavailable,
    PortNotFound,
    quiet_stderr,
)
from engine.runtime.clock import MappedClock
from engine.runtime.clocks import ClockMap

__all__ = ["JackOut", "JackClock", "open_jack_out", "raise_priority"]


class JackOut(MidiOut):
    """A JACK MIDI output port that writes each message at the frame of its logical time."""

    api = "jack"

    def __init__(
        self,
        client_name: str = "livecode",
        port: str | None = None,
        latency: float | None = None,
        servername: str | None = None,
        reconnect: tuple[str, ...] = (),
    ) -> None:
        with quiet_stderr():
            try:
                self.client = jack.Client(client_name, no_start_server=True, servername=servername)
            except jack.JackError as exc:
                raise MidiUnavailable(f"jack: {exc}") from exc
        if reconnect or self.client.name != client_name:
            # A restart: the engine that died may still be registered, its output and its
            # input (NAME-in). Until JACK removes a dead client its cycles stall the graph
            # after it, and what this port writes meanwhile (the dead engine's note-offs)
            # never reaches the synth.
            self._wait_gone(client_name)
        self.rate = self.client.samplerate
        self.period = self.client.blocksize
        self.latency = 2 * self.period / self.rate if latency is None else latency
        self.port = self.client.midi_outports.register(client_name)
        self.frame0: int = 0  # frame of logical time 0; set by JackClock
        self._queue: deque[tuple[int, bytes]] = deque()
        self.late = 0  # messages written after their frame (queued too late)
        self.dropped = 0  # messages JACK's port buffer had no room for
        self._prioritised = False
        self.cycle: tuple[int, float] | None = None  # (start frame, perf_counter) of the last cycle
        # monotonic -> frame clock (seconds); a stalled server's frames stop one period
        # after its last cycle
        self.clock_map = cycle_map(self.rate, self.period)
        self.client.set_process_callback(self._process)
        self.client.set_xrun_callback(self._xrun)
        # The process callback runs on JACK's thread and needs the GIL; by default a busy
        # engine thread keeps it up to 5 ms, longer than a period, and JACK then replays
        # the port's previous buffer. Hand the GIL over within a fraction of a period.
        sys.setswitchinterval(min(sys.getswitchinterval(), self.period / self.rate / 4))
        self.client.activate()
        self.name = self.port.name
        for target in reconnect:  # a restarted engine takes back its predecessor's cables
            try:
                self.client.connect(self.port, target)
            except jack.JackError:
                pass  # that synth is gone; the others are still worth reaching
        if port is not None:
            targets = [
                p.name
                for p in self.client.get_ports(is_midi=True, is_input=True)
                if port.lower() in p.name.lower()
            ]
            if not targets:
                there = [p.name for p in self.client.get_ports(is_midi=True, is_input=True)]
                self.client.close()
                raise PortNotFound("jack", port, "MIDI input", there)
            try:
                if not self.port.is_connected_to(targets[0]):  # a reconnect may have done it
                    self.client.connect(self.port, targets[0])
            except jack.JackError as exc:
                self.client.close()
                raise MidiUnavailable(f"jack: cannot connect to {targets[0]!r}: {exc}") from exc
            self.name = targets[0]
        if reconnect or port is not None:
            # A connection is live from a later cycle on; a restarted engine's first
            # messages are the note-offs of its predecessor and must not go missing.
            self._settle()

    def _wait_gone(self, name: str, timeout: float = 3.0) -> None:
        """Wait until no client ``name`` or ``name-in`` (a dead engine's) has ports left."""
        pattern = "^" + re.escape(name) + r"(-in(-\d+)?)?:"
        deadline = time.monotonic() + timeout
        while self.client.get_ports(pattern) and time.monotonic() < deadline:
            time.sleep(0.01)

    def _settle(self, cycles: int = 4, timeout: float = 1.0) -> None:
        """Wait until JACK has run a few cycles since the connections were made."""
        deadline = time.monotonic() + timeout
        seen, count = self.cycle, 0
        while count < cycles and time.monotonic() < deadline:
            time.sleep(self.period / self.rate)
            if self.cycle is not seen:
                seen, count = self.cycle, count + 1
        time.sleep(SETTLE_SECONDS)

    def _process(self, frames: int) -> None:
        # JACK's real-time thread: only pop, compute an offset and write.
        if not self._prioritised:
            self._prioritised = True
            raise_priority()
        self.port.clear_buffer()
        start = self.client.last_frame_time
        note_cycle(self, start, frames)
        end = start + frames
        queue = self._queue
        offset = 0  # JACK refuses an event earlier than the one before it in the cycle
        while queue and queue[0][0] < end:
            frame, data = queue.popleft()
            if frame < start + offset:
                self.late += frame < start
                frame = start + offset
            offset = frame - start
            try:
                self.port.write_midi_event(offset, data)
            except jack.JackError:
                self.dropped += 1  # buffer full: lose this message, never the callback

    def _xrun(self, delay_usecs: float) -> None:
        # JACK's notification thread: a cycle of the graph ran late (messages of that cycle
        # may be lost or a period late); counted for the status and the bench
        self.xruns += 1

    def clock(self, epoch: float | None = None) -> JackClock:
        """Logical time on this port's frame clock (it also fixes :attr:`frame0`)."""
        return JackClock(self, epoch)

    def connections(self) -> list[str]:
        """The ports this output is connected to (so a new engine can reconnect them)."""
        return [p.name for p in self.client.get_all_connections(self.port)]

    def send_at(self, data: list[int], t: float) -> None:
        self._queue.append((self.frame0 + round(t * self.rate), bytes(data)))

    def send_bytes(self, data: list[int]) -> None:
        self._queue.append((0, bytes(data)))  # frame 0 is long past: the next cycle

    def send(self, msg: mido.Message) -> None:
        self.send_bytes(msg.bytes())

    def close(self) -> None:
        deadline = time.monotonic() + 1.0
        while self._queue and time.monotonic() < deadline:
            time.sleep(self.period / self.rate)
        time.sleep(2 * self.period / self.rate)  # the last cycle reaches the port
        self.client.deactivate()
        self.client.close()


def raise_priority(priority: int = 30) -> None:
    """Put the calling thread (JACK's, which a non-realtime server leaves at normal
    priority) at SCHED_FIFO ``priority``, by default above the engine loop, where the OS
    allows; carry on quietly where not. A thread that is realtime already (a realtime
    server's, above this) is left as it is."""
    try:
        if os.sched_getscheduler(0) == os.SCHED_OTHER:  # type: ignore[attr-defined]
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        pass  # not allowed: a late cycle then repeats the port's previous buffer


def cycle_map(rate: int, period: int) -> ClockMap:
    """The monotonic clock -> a JACK client's frame clock (seconds), anchored at each of its
    cycles: a stalled server's frames stop one period after its last cycle."""
    return ClockMap(hold=period / rate)


def note_cycle(out: JackOut, start: int, frames: int) -> None:
    """A JACK client's process callback began the cycle at frame ``start``: note when (the
    ``cycle`` read by :class:`JackClock` and ``_settle``, one tuple so it is read whole) and
    anchor its ``clock_map``: at this instant the frame counter reads the end of this
    cycle's buffer, the earliest frame a message can still be written at."""
    wall = time.perf_counter()
    out.cycle = (start, wall)
    out.clock_map.anchor(wall, (start + frames) / out.rate)


LAG_SAMPLES = 20  # cycles sampled by JackClock.wall (one a call): short, as the clocks drift


class JackClock(MappedClock):
    """Logical time read off JACK's frame clock, carried on from ``epoch``.

    ``epoch`` is a monotonic reading, as for :class:`~engine.runtime.clock.Clock`, so a
    restarted engine continues the logical time of the one before. ``now()`` is the
    earliest frame a message can still be written at: the end of the last cycle's
    buffer, plus the wall time since (at most one period more: a stalled server's
    frames stop).
    """

    domain = "jack"

    def __init__(self, out: JackOut, epoch: float | None = None) -> None:
        deadline = time.monotonic() + 1.0
        while not len(out.clock_map) and time.monotonic() < deadline:
            time.sleep(out.period / out.rate)  # the first cycle anchors the map
        if not len(out.clock_map):  # no cycle yet: JACK's own estimate, good to a few ms
            out.clock_map.anchor(
                time.perf_counter(), (out.client.frame_time + out.period) / out.rate
            )
        super().__init__(out.clock_map, epoch)
        self.out = out
        self.rate = out.rate
        self.period = out.period
        out.frame0 = round(self.origin * self.rate)
        self.origin = out.frame0 / self.rate  # logical 0 on a whole frame
        # monotonic minus logical time at recent cycle starts, sampled by wall()
        self._lags: deque[float] = deque(maxlen=LAG_SAMPLES)

    def wall(self, t: float) -> float:
        """The monotonic reading at which logical ``t``'s frame is due: through the
        earliest-woken of the recent cycles (a callback is woken late, never early, so the
        earliest is the closest to the frame's true time; the map's anchors carry each
        cycle's wake-up delay)."""
        cycle = self.out.cycle
        if cycle is None:
            return super().wall(t)
        start, woke = cycle
        self._lags.append(woke - (start - self.out.frame0) / self.rate)
        return t + min(self._lags)


def open_jack_out(
    virtual: str, port: str | None, latency: float | None, reconnect: tuple[str, ...] = ()
) -> tuple[JackOut, str]:
    out = JackOut(virtual, port, latency, reconnect=reconnect)
    return out, (
        f"MIDI out: sample-accurate JACK port {out.name!r}, "
        f"{out.latency * 1e3:.2f} ms ahead ({out.period} frames at {out.rate} Hz)"
    )
