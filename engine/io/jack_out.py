"""Sample-accurate MIDI out through JACK (optional extra ``livecode[jack]``, JACK-Client).

The engine runs ``latency`` seconds ahead of the JACK clock and queues each message
with its logical time; the port's process callback writes it at its exact frame
offset in the cycle that contains it. When a synth receives a note then no longer
depends on when Python woke up, only on the frame the model computed.

Logical time here *is* JACK's frame clock: ``t`` seconds sits at frame
``frame0 + round(t * samplerate)``. :class:`JackClock` gives the engine that time.
"""

from __future__ import annotations

import os
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
from engine.runtime.clock import Clock

__all__ = ["JackOut", "JackClock", "open_jack_out"]


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
        self.client.set_process_callback(self._process)
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
            _raise_priority()
        self.port.clear_buffer()
        start = self.client.last_frame_time
        self.cycle = (start, time.perf_counter())  # one tuple: read whole by the clock
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


def _raise_priority() -> None:
    """Put the calling thread (JACK's, which a non-realtime server leaves at normal
    priority) above the engine loop, where the OS allows; carry on quietly where not."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(30))  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        pass  # not allowed: a late cycle then repeats the port's previous buffer


LAG_SAMPLES = 20  # cycles sampled by JackClock.wall (one a call): short, as the clocks drift


class JackClock(Clock):
    """Logical time read off JACK's frame clock, carried on from ``epoch``.

    ``epoch`` is a ``perf_counter`` reading, as for :class:`Clock`, so a restarted engine
    continues the logical time of the one before.
    """

    def __init__(self, out: JackOut, epoch: float | None = None) -> None:
        super().__init__(epoch)
        self.out = out
        self.rate = out.rate
        self.period = out.period
        elapsed = time.perf_counter() - self.epoch
        out.frame0 = out.client.frame_time - round(elapsed * self.rate)
        # perf_counter minus logical time at recent cycle starts, sampled by wall()
        self._lags: deque[float] = deque(maxlen=LAG_SAMPLES)

    def wall(self, t: float) -> float:
        """The ``perf_counter`` reading at which logical ``t``'s frame is due: through the
        earliest-woken of the recent cycles (a callback is woken late, never early)."""
        cycle = self.out.cycle
        if cycle is None:
            return super().wall(t)
        start, woke = cycle
        self._lags.append(woke - (start - self.out.frame0) / self.rate)
        return t + min(self._lags)

    def now(self) -> float:
        # The earliest frame a message can still be written at: the cycle after the one
        # that last ran, plus the wall time since it ran (at most one period more).
        # JACK's own estimate of the current frame (jack_frame_time) wanders by tens of
        # ms on a non-realtime dummy server; the cycle starts are exact.
        cycle = self.out.cycle
        if cycle is None:
            frame = self.out.client.frame_time + self.period
        else:
            start, wall = cycle
            ahead = min(self.period, (time.perf_counter() - wall) * self.rate)
            frame = start + self.period + max(0.0, ahead)
        return (frame - self.out.frame0) / self.rate

    def wait_until(self, t: float) -> None:
        # Plain sleeps: the engine is ``latency`` ahead, and a spin would hold the GIL
        # that JACK's process callback needs.
        while True:
            remaining = t - self.now()
            if remaining <= 0:
                return
            time.sleep(min(remaining, 0.0005))


def open_jack_out(
    virtual: str, port: str | None, latency: float | None, reconnect: tuple[str, ...] = ()
) -> tuple[JackOut, str]:
    out = JackOut(virtual, port, latency, reconnect=reconnect)
    return out, (
        f"MIDI out: sample-accurate JACK port {out.name!r}, "
        f"{out.latency * 1e3:.2f} ms ahead ({out.period} frames at {out.rate} Hz)"
    )
