"""MIDI clock in: follow an external 24-PPQN clock (a drum machine, a DAW) as the tempo
authority, with Start, Stop, Continue and Song Position Pointer.

:class:`ClockFollower` is pure: it takes real-time messages with their arrival times
(logical seconds) and gives a beat line. Its tempo estimator is a least-squares line
through the arrival times of the last ``WINDOW`` pulses (one beat): the slope is the pulse
period, and the fitted time of the newest pulse, not its raw arrival, anchors the beat, so
arrival jitter is averaged over the window instead of passed on. After a tempo change the
window holds only new pulses one beat later. A gap of more than ``GAP`` seconds empties it
(the clock stopped and came back).

A pulse can go missing on the way (a JACK cycle the port's callback ran too late for, a
byte dropped) or be read twice (a late JACK 2 callback re-reading a buffer). Positions
are counted in pulses, so either would move the beat by a pulse (21 ms at 120 BPM) for
good. A pulse stamped at or before the one before it is the same pulse again; a gap of
whole periods (2, 3, ... within ``LOST_TOLERANCE``) of a steady clock counts the pulses
lost in it, unless the next gap is as long: then the clock slowed, and the count is
taken back.

Position: after Start the next pulse is beat 0; Song Position (in sixteenths, six pulses)
sets where the next Continue carries on; a Continue without one carries on where Stop
left it. Between Stop and Start the clock's tempo is still followed, its phase is not.

:class:`ClockInSource` opens the port (JACK-Client on JACK, stamped by frame; rtmidi
elsewhere, stamped on arrival), queues what its thread hands over, wakes the loop, and is
the :class:`engine.runtime.tempo_authority.TempoSource` for MIDI clock in.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

from engine.io.midi_base import MidiInPort, MidiUnavailable
from engine.protocol import ClockIn
from engine.runtime.hooks import EngineHooks
from engine.runtime.tempo_authority import Line
from engine.runtime.wake import Wake

__all__ = ["ClockFollower", "ClockInSource", "WINDOW", "GAP"]

WINDOW = 24  # pulses in the tempo estimate: one beat
GAP = 0.5  # seconds without a pulse: the clock stopped
LOST_TOLERANCE = 0.2  # periods: a gap this close to a whole number of them lost pulses
STEADY = 1 / 8  # periods: a clock whose fit's rms error is below this may have lost some
TICK, START, CONTINUE, STOP, SONG_POSITION = 0xF8, 0xFA, 0xFB, 0xFC, 0xF2
PPQN = 24


class ClockFollower:
    """MIDI real-time messages with their arrival times in, a beat line out."""

    def __init__(self) -> None:
        self.ticks: deque[tuple[int, float]] = deque(maxlen=WINDOW)  # (count, time)
        self.count = 0  # pulses seen
        self.base = 0  # the count of the pulse at song position 0
        self.playing: bool | None = None  # None: no transport message yet
        self.resume_at = 0  # the pulse position a Continue carries on at
        self.fit: tuple[float, float] | None = None  # (a, b): time of pulse c = a + b*c
        self.jitter = 0.0  # rms distance of the pulses from the fitted line, seconds
        self.starts = self.stops = self.continues = self.positions = 0
        self.lost = 0  # pulses counted as lost on the way
        self.repeated = 0  # pulses read twice, ignored
        self._guessed = 0  # pulses the last gap was taken to have lost (0: none)

    def feed(self, data: bytes | list[int], t: float) -> None:
        if not data:
            return
        status = data[0]
        if status == TICK:
            if self.ticks and t <= self.ticks[-1][1]:
                self.repeated += 1  # the same pulse again
                return
            if self.ticks and t - self.ticks[-1][1] > GAP:
                self.ticks.clear()
            on = self._pulses_to(t)  # first: it may take back the last gap's guess
            self.count += on
            self.ticks.append((self.count, t))
            self._fit()
        elif status == START:
            self.playing, self.base, self.resume_at = True, self.count + 1, 0
            self.starts += 1
        elif status == CONTINUE:
            self.playing, self.base = True, self.count + 1 - self.resume_at
            self.continues += 1
        elif status == STOP:
            if self.playing:
                self.resume_at = self.count + 1 - self.base
            self.playing = False
            self.stops += 1
        elif status == SONG_POSITION and len(data) >= 3:
            self.resume_at = ((data[1] & 0x7F) | (data[2] & 0x7F) << 7) * (PPQN // 4)
            self.positions += 1

    def _pulses_to(self, t: float) -> int:
        """How many pulses on from the last one the pulse at ``t`` is (see the module)."""
        guessed, self._guessed = self._guessed, 0
        if self.fit is None or not self.ticks:
            return 1
        period = self.fit[1]
        gap = (t - self.ticks[-1][1]) / period
        whole = round(gap)
        if whole < 2 or abs(gap - whole) > LOST_TOLERANCE or self.jitter > STEADY * period:
            return 1
        if guessed:
            # two long gaps in a row: the clock slowed down, nothing was lost
            self.count -= guessed
            self.lost -= guessed
            self.ticks.clear()
            return 1
        self._guessed = whole - 1
        self.lost += whole - 1
        return whole

    def _fit(self) -> None:
        n = len(self.ticks)
        if n < 3:
            self.fit = None
            return
        mc = sum(c for c, _ in self.ticks) / n
        mt = sum(t for _, t in self.ticks) / n
        var = sum((c - mc) ** 2 for c, _ in self.ticks)
        b = sum((c - mc) * (t - mt) for c, t in self.ticks) / var
        if b <= 0:
            self.fit = None
            return
        a = mt - b * mc
        self.fit = (a, b)
        self.jitter = math.sqrt(sum((t - a - b * c) ** 2 for c, t in self.ticks) / n)

    def line(self, t: float) -> Line | None:
        """The clock's beat line at ``t``; None without a recent, steady clock."""
        if self.fit is None or t - self.ticks[-1][1] > GAP:
            return None
        a, b = self.fit
        beat = ((t - a) / b - self.base) / PPQN
        return Line(t, beat, b * PPQN, phase=bool(self.playing))

    @property
    def tempo(self) -> float | None:
        return None if self.fit is None else 60.0 / (self.fit[1] * PPQN)


class ClockInSource:
    """MIDI clock in as the tempo authority: a port, a queue, a :class:`ClockFollower`."""

    kind = "clock_in"

    def __init__(
        self,
        spec: ClockIn,
        engine: EngineHooks,
        follow_now: Callable[[float], None],
    ) -> None:
        self.spec = spec
        self.engine = engine
        self.port: MidiInPort | None = None  # set once open: it pushes from its own thread
        self.follower = ClockFollower()
        self.follow_now = follow_now
        self._queue: deque[tuple[bytes, float]] = deque(maxlen=4096)
        self._wake = Wake()
        engine.add_input(self._wake, self._drain)

    def push(self, data: bytes, t: float) -> None:
        """The port's thread: queue one message with its logical arrival time."""
        self._queue.append((data, t))
        if data and data[0] != TICK:  # transport: handle it now, not at the next poll
            self._wake.ring()

    def _drain(self) -> None:
        self._wake.clear()
        self._feed()
        self.follow_now(self.engine.clock.now() + self.engine.lead)

    def _feed(self) -> None:
        while self._queue:
            data, t = self._queue.popleft()
            self.follower.feed(data, t)

    def line(self, t: float) -> Line | None:
        self._feed()
        return self.follower.line(t)

    def playing(self) -> bool | None:
        return self.follower.playing

    def push_tempo(self, bpm: float, t: float) -> None:
        pass  # the clock leads: the next estimate sets the tempo back

    def push_playing(self, running: bool, t: float) -> None:
        pass  # a MIDI clock cannot be told to start or stop

    def status(self) -> dict:
        f = self.follower
        return {
            "port": self.port.name if self.port is not None else "",
            "quantum": self.spec.quantum,
            "clock_tempo": f.tempo,
            "jitter_ms": f.jitter * 1e3,
            "pulses": f.count,
            "playing": f.playing,
            "starts": f.starts,
            "stops": f.stops,
            "continues": f.continues,
            "positions": f.positions,
            "lost_pulses": f.lost,
            "repeated_pulses": f.repeated,
        }

    def close(self) -> None:
        try:
            if self.port is not None:
                self.port.close()
        finally:
            self.engine.remove_input(self._wake)
            self._wake.close()


def open_clock_port(
    api: str,
    client: str,
    target: str,
    push: Callable[[bytes, float], None],
    now: Callable[[], float],
    frame_time: Callable[[int], float | None],
) -> MidiInPort:
    """An input connected to the existing port matching ``target``, handing each message
    and its logical arrival time to ``push``. On JACK ``frame_time(frame)`` turns a JACK
    frame into logical seconds (None if the engine's clock is not JACK's)."""
    if api == "jack":
        try:
            import jack  # noqa: F401 - JACK-Client, the extra livecode[jack]
        except (ImportError, OSError):
            pass  # rtmidi's JACK backend below
        else:
            return JackClockIn(client, target, push, now, frame_time)
    if api in ("none",):
        raise MidiUnavailable("MIDI is off (--midi-api none)")
    from engine.io.rtmidi_ports import RtMidiIn

    port = RtMidiIn(api, client, target)
    port._rt.ignore_types(sysex=True, timing=False, active_sense=True)
    port.sink = lambda index, data, arrival: push(bytes(data), now())
    return port


class JackClockIn(MidiInPort):
    """A JACK MIDI input connected to the output matching ``target``, each message stamped
    with its exact frame. The source is looked up before the client is activated: a
    missing one closes a client that never ran (closing an active client from the loop
    thread could wait on its callback, which waits for the GIL)."""

    def __init__(
        self,
        client: str,
        target: str,
        push: Callable[[bytes, float], None],
        now: Callable[[], float],
        frame_time: Callable[[int], float | None],
    ) -> None:
        super().__init__()
        import jack

        from engine.io.midi_base import quiet_stderr

        with quiet_stderr():
            try:
                self.client = jack.Client(client, no_start_server=True)
            except jack.JackError as exc:
                raise MidiUnavailable(f"jack: {exc}") from exc
        sources = [
            p.name
            for p in self.client.get_ports(is_midi=True, is_output=True)
            if target.lower() in p.name.lower()
        ]
        if not sources:
            self.client.close()
            raise MidiUnavailable(f"no jack MIDI output port matches {target!r}")
        self.push, self.now, self.frame_time = push, now, frame_time
        self.port = self.client.midi_inports.register(client)
        self.client.set_process_callback(self._process)
        self.client.activate()
        self.client.connect(sources[0], self.port)
        self.name = sources[0]

    def _process(self, frames: int) -> None:
        base = self.client.last_frame_time
        for offset, data in self.port.incoming_midi_events():
            t = self.frame_time(base + offset)
            self.push(bytes(data), self.now() if t is None else t)

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()
