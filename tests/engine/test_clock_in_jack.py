"""MIDI clock in over a real JACK server: a sender plays 24-PPQN clock at exact frames, at
120 then 133 BPM, with Start, Stop, Song Position and Continue; the engine's beat follows."""

from __future__ import annotations

import statistics
import threading

import pytest

from engine import protocol as P
from engine.protocol import Status
from engine.runtime.process import EngineHandle, EngineOptions
from tests.engine.test_realtime import wait_for
from tests.jack_devices import ClockSender


@pytest.fixture
def clock_sender(rt_jack_server):
    sender = ClockSender(rt_jack_server, 120.0)
    try:
        yield sender
    finally:
        sender.close()


def _ons(receiver) -> list[int]:
    return [f for f, d in receiver.received_frames() if d[0] == 0x90 and d[2]]


def test_the_engine_follows_midi_clock_in_with_start_stop_and_song_position(
    rt_midi_receiver, clock_sender
):
    statuses: list[dict] = []
    lock = threading.Lock()

    def on_message(m: object) -> None:
        if isinstance(m, Status):
            with lock:
                statuses.append(m.data)

    handle = EngineHandle(
        EngineOptions(
            midi_api="jack", port="lcrecv", clock_in="lcclock", tempo=90.0, status_interval=0.05
        ),
        on_message,
    )
    handle.start()
    rate = clock_sender.rate

    def sync() -> dict:
        with lock:
            return statuses[-1].get("sync", {}) if statuses else {}

    try:
        ack = handle.request(
            P.Batch((P.Stop(), P.DefineNeuron("beat", {"note": 60, "rate": 1.0, "dur": 0.1}))),
            timeout=10,
        )
        assert ack.ok
        assert wait_for(lambda: sync().get("authority") == "clock_in", 10), sync()
        # the clock runs, stopped: our tempo follows it, the network waits
        assert wait_for(lambda: abs(statuses[-1]["tempo"] - 120.0) < 0.5, 5)
        clock_sender.before_next_pulse(b"\xfa")  # Start: the next pulse is beat 0
        assert wait_for(lambda: statuses[-1]["running"], 5)
        # 4 notes from two beats on (see the phase check below)
        assert wait_for(lambda: len(_ons(rt_midi_receiver)) >= 6, 10), (
            sync(),
            statuses[-1]["beat"],
        )
        start = next(f for f, d in clock_sender.sent if d == b"\xfa")
        clock_sender.set_bpm(133.0)
        changed = clock_sender.pulses[-1]
        assert wait_for(lambda: len([f for f in _ons(rt_midi_receiver) if f > changed]) >= 6, 10), (
            sync(),
            {k: statuses[-1][k] for k in ("tempo", "beat", "running", "port_late", "frame0")},
            changed,
            _ons(rt_midi_receiver),
        )
        clock_sender.before_next_pulse(b"\xfc")  # Stop
        assert wait_for(lambda: not statuses[-1]["running"], 5)
        stopped = len(_ons(rt_midi_receiver))
        # Song Position: 2 sixteenths = half a beat in; Continue carries on there
        clock_sender.before_next_pulse(bytes([0xF2, 2, 0]), b"\xfb")
        assert wait_for(lambda: len(_ons(rt_midi_receiver)) >= stopped + 4, 10)
        final = sync()
    finally:
        handle.stop()
    ons = _ons(rt_midi_receiver)
    ms = rate / 1000
    stop = next(f for f, d in clock_sender.sent if d == b"\xfc")
    cont = next(f for f, d in clock_sender.sent if d == b"\xfb")

    def phases(notes: list[int], origin: float, spb: float) -> list[float]:
        """Where the notes fall in the clock's beat (0..1), beat 0 at ``origin``."""
        return [((f - origin) / spb) % 1.0 for f in notes]

    def spread(ph: list[float], around: float) -> float:
        """The largest circular distance of ``ph`` from ``around``, in beats."""
        return max(abs((p - around + 0.5) % 1.0 - 0.5) for p in ph)

    # 120 BPM from Start: the pulse after Start is the clock's beat 0; from two beats on
    # (the contract: the tempo is estimated from the pulses, settled after 2 beats) every
    # note keeps one place in the clock's beat (the network's own phase), to the millisecond
    spb = rate * 60 / 120
    before = [f for f in ons if start + 2 * spb < f < changed]
    ph = phases(before, start, spb)
    assert len(before) >= 3 and spread(ph, ph[0]) * spb <= ms, ph
    # after the change to 133, two beats on: our beat within 1 %
    late = [f for f in ons if changed + 2 * rate * 60 / 133 < f < stop]
    gaps = [b - a for a, b in zip(late, late[1:], strict=False)]
    # (the median: a glide after the estimate settles may stretch one gap, see the README)
    assert len(gaps) >= 3 and abs(statistics.median(gaps) / (rate * 60 / 133) - 1) <= 0.01, gaps
    # Stop stopped the notes until Continue
    assert not [f for f in ons if stop + rate // 10 < f < cont]
    # Continue at song position 2 sixteenths: the continue's pulse is the clock's beat 0.5,
    # and the notes keep the place in the clock's beat they had before the stop
    spb = rate * 60 / 133
    resumed = [f for f in ons if f > cont]
    assert len(resumed) >= 3 and spread(phases(resumed, cont - spb / 2, spb), ph[0]) * spb <= 2 * ms
    assert final["starts"] == 1 and final["stops"] == 1 and final["positions"] == 1
    assert final["continues"] == 1
