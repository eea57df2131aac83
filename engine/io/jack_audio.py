"""JACK audio out (optional extra ``livecode[jack]``, JACK-Client): two ports, sample-accurate.

The process callback renders the synth for each cycle, applying every message at the frame
of its logical time on JACK's frame clock (``frame0 + round(t * rate)``), the clock the
sample-accurate MIDI port uses too: a note sounds on the frame the model computed, and on
the same frame as its MIDI copy. The ports connect to the system's playback ports when
the server has them. If the engine process dies, even by SIGKILL, the server removes its
client and ports with it, so no sound is left hanging.
"""

from __future__ import annotations

import sys
import time
from typing import cast

import jack

from engine.io.audio_base import (
    RELEASE_WAIT,
    AudioOut,
    AudioUnavailable,
    FrameMap,
    SynthFactory,
)
from engine.io.jack_out import JackClock, JackOut, cycle_map, note_cycle, raise_priority
from engine.io.midi_base import quiet_stderr
from engine.runtime.clock import Clock

__all__ = ["JackAudioOut", "JackFrameClock", "jack_playback_ports"]


class JackAudioOut(AudioOut):
    """A JACK client ``NAME`` with ports ``left`` and ``right``."""

    kind = "jack"

    def __init__(
        self,
        synth_factory: SynthFactory,
        client_name: str = "livecode-audio",
        latency: float | None = None,
        connect: bool = True,
        reconnect: tuple[str, ...] = (),
    ) -> None:
        self.client = _open_client(client_name)
        self.rate = self.client.samplerate
        self.period = self.client.blocksize
        super().__init__(synth_factory(self.rate))
        self.latency = 2 * self.period / self.rate if not latency else latency
        self.frame0 = 0  # set by the JackClock the engine plays on
        self.cycle: tuple[int, float] | None = None  # (start frame, perf_counter) of the last
        self.clock_map = cycle_map(self.rate, self.period)
        self.map: FrameMap | None = None  # paced: when the engine's clock is not JACK's
        self._prioritised = False
        self.ports = [self.client.outports.register(side) for side in ("left", "right")]
        self.client.set_process_callback(self._process)
        self.client.set_xrun_callback(self._xrun)
        # As for JACK MIDI: hand the GIL to the process callback within a fraction of a period.
        sys.setswitchinterval(min(sys.getswitchinterval(), self.period / self.rate / 4))
        self.client.activate()
        self.name = f"{self.client.name}:left,right"
        if connect:
            self._connect_playback()
        for pair in reconnect:  # a restarted engine takes back its predecessor's cables
            side, _, target = pair.partition(">")
            port = self.ports[0] if side == "left" else self.ports[1]
            try:
                if not port.is_connected_to(target):
                    self.client.connect(port, target)
            except jack.JackError:
                pass  # that port is gone; the others are still worth reaching

    def _connect_playback(self) -> None:
        targets = jack_playback_ports(self.client)
        for port, target in zip(self.ports, targets, strict=False):
            try:
                self.client.connect(port, target)
            except jack.JackError:
                pass  # that port went away: the performer's patchbay can still connect ours
        if targets:
            self.name += " -> " + ",".join(targets[:2])

    def _xrun(self, delay: float) -> None:
        self.xruns += 1

    def _process(self, frames: int) -> None:
        # JACK's real-time thread: pop, render, copy. Nothing here waits on the engine.
        if not self._prioritised:
            self._prioritised = True
            raise_priority()
        start = self.client.last_frame_time
        note_cycle(cast(JackOut, self), start, frames)
        fmap, clock = self.map, self._clock
        if fmap is not None and clock is not None:
            fmap.place(start, clock.now())
            block = self.render_block(start, frames, fmap.frame_of)
        else:
            frame0 = self._frames_from.frame0  # type: ignore[attr-defined]
            rate = self.rate
            block = self.render_block(start, frames, lambda t: frame0 + round(t * rate))
        self.ports[0].get_array()[:] = block[:, 0]
        self.ports[1].get_array()[:] = block[:, 1]

    def clock(self, epoch: float | None = None) -> Clock:
        """Logical time on this client's frame clock (also fixes :attr:`frame0`)."""
        # JackClock reads client, rate, period, cycle and frame0: this output has them all.
        return JackClock(cast(JackOut, self), epoch)

    def attach(self, clock: Clock, frames_from: object | None = None) -> None:
        """On a JACK frame clock (this client's, or a JACK MIDI port's), play at exact
        frames; on any other clock (the system's), paced by a :class:`FrameMap`."""
        super().attach(clock, frames_from)
        own = isinstance(clock, JackClock) and clock.out is cast(JackOut, self)
        paced = frames_from is None and not own
        self.map = FrameMap(self.rate, lag=2 * self.period / self.rate + 0.002) if paced else None

    def connections(self) -> list[str]:
        """Where the ports go, as ``"left>target"`` (so a new engine can reconnect them)."""
        return [
            f"{side}>{p.name}"
            for side, port in zip(("left", "right"), self.ports, strict=True)
            for p in self.client.get_all_connections(port)
        ]

    def status(self) -> dict:
        return {**super().status(), "connections": self.connections()}

    def close(self) -> None:
        deadline = time.monotonic() + 1.0
        while self.pending() and time.monotonic() < deadline:
            time.sleep(self.period / self.rate)
        time.sleep(RELEASE_WAIT)  # the release tails reach the ports
        self.client.deactivate()
        self.client.close()
        super().close()


class JackFrameClock:
    """A JACK client without ports in the engine process, whose only work is to note each
    cycle's start: the engine's clock when the audio plays on JACK in its own process and
    no JACK MIDI port gives the clock. It reads as a :class:`JackOut` to :class:`JackClock`
    (``client``, ``rate``, ``period``, ``cycle``, ``clock_map``, ``frame0``)."""

    def __init__(self, client_name: str) -> None:
        self.client = _open_client(client_name)
        self.rate = self.client.samplerate
        self.period = self.client.blocksize
        self.frame0 = 0
        self.cycle: tuple[int, float] | None = None
        self.clock_map = cycle_map(self.rate, self.period)
        self.client.set_process_callback(self._process)
        sys.setswitchinterval(min(sys.getswitchinterval(), self.period / self.rate / 4))
        self.client.activate()

    def _process(self, frames: int) -> None:
        note_cycle(cast(JackOut, self), self.client.last_frame_time, frames)

    def clock(self, epoch: float | None) -> JackClock:
        return JackClock(cast(JackOut, self), epoch)

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()


def jack_playback_ports(client: jack.Client) -> list[str]:
    """The server's physical playback ports (none on a dummy server without them)."""
    return [p.name for p in client.get_ports(is_audio=True, is_input=True, is_physical=True)]


def _open_client(name: str) -> jack.Client:
    """A JACK client on the running server, or AudioUnavailable saying there is none."""
    with quiet_stderr():
        try:
            return jack.Client(name, no_start_server=True)
        except jack.JackError as exc:
            raise AudioUnavailable(f"no JACK server ({exc})") from exc
