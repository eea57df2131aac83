"""MIDI clock out: 24 pulses per beat from the network's tempo map, with start and stop.

:class:`ClockOut` is one of the engine's timers: the time of pulse ``k`` is the exact time
of beat ``k/24`` on the network's current tempo segment (``Network.sec_at``), so a tempo
change moves only the pulses still to come, as it moves the notes. Pulses go to the output
port with ``send_at`` like notes (sample-accurate on JACK). ``0xFA`` (start) is sent when
the clock is turned on while the network runs, or the network starts while the clock is
on; ``0xFC`` (stop) when either stops. Past the song's first beat, the start is a Song
Position Pointer (``0xF2``, the position in sixteenths) and a continue (``0xFB``), and the
pulses begin on that sixteenth, so a follower comes in at the network's place. A restarted engine carries on its pulses without
a new start, so a drum machine that was following keeps its place.
"""

from __future__ import annotations

import math

from engine.protocol import Ack, Batch
from engine.runtime.hooks import EngineHooks

__all__ = ["ClockOut", "PPQN", "TICK", "START", "STOP", "CONTINUE", "SONG_POSITION"]

PPQN = 24
TICK, START, CONTINUE, STOP, SONG_POSITION = 0xF8, 0xFA, 0xFB, 0xFC, 0xF2
SIXTEENTH = PPQN // 4  # pulses per Song Position step
SPP_WRAP = 1 << 14  # the pointer is 14 bits of sixteenths (1024 bars of 4/4)
_EPS = 1e-9


class ClockOut:
    """Sends MIDI clock for an engine's loop while ``net.clock_out`` is on."""

    engine: EngineHooks  # set by attach()

    def __init__(self) -> None:
        self.k = 0  # the next pulse, at beat k / PPQN
        self.active = False  # pulses are being sent (clock on and network running)
        self.ticks = 0
        self.starts = 0
        self.stops = 0

    def attach(self, engine: EngineHooks, announce: bool = True) -> None:
        """Serve ``engine``; ``announce`` sends a start now if the clock is already on."""
        self.engine = engine
        engine.add_timer(self.next_time, self.play)
        engine.watch(self._watched)
        engine.add_status("clock_out", self.status)
        self._sync(engine.clock.now() + engine.lead, announce)

    def next_time(self) -> float:
        if not self.active:
            return math.inf
        return self.engine.net.sec_at(self.k / PPQN)

    def play(self, t: float) -> None:
        """Send every pulse due up to ``t`` (logical seconds)."""
        net, midi = self.engine.net, self.engine.midi
        while self.active:
            when = net.sec_at(self.k / PPQN)
            if when > t + _EPS:
                return
            midi.send_at([TICK], when)
            self.k += 1
            self.ticks += 1

    def _watched(self, batch: Batch, ack: Ack) -> None:
        if ack.ok:
            self._sync(ack.t, True)

    def _sync(self, t: float, announce: bool) -> None:
        net = self.engine.net
        active = net.clock_out and net.running
        if active == self.active:
            return
        self.active = active
        if active:
            # the first pulse at or after the start message, on a sixteenth
            k = math.ceil(max(net.beat, net.beat_at(t)) * PPQN - 1e-6)
            self.k = -(-k // SIXTEENTH) * SIXTEENTH
            if announce:
                position = (self.k // SIXTEENTH) % SPP_WRAP
                if position:
                    self.engine.midi.send_at([SONG_POSITION, position & 0x7F, position >> 7], t)
                    self.engine.midi.send_at([CONTINUE], t)
                else:
                    self.engine.midi.send_at([START], t)
                self.starts += 1
        else:
            self.engine.midi.send_at([STOP], t)
            self.stops += 1

    def status(self) -> dict:
        return {
            "on": bool(self.engine.net.clock_out),
            "active": self.active,
            "ticks": self.ticks,
            "starts": self.starts,
            "stops": self.stops,
        }
