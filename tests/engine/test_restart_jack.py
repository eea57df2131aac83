"""A whole gig's restarts on a real JACK server: every restart silences what was sounding."""

from __future__ import annotations

import os
import signal
import time

from engine.protocol import Batch, DefineNeuron, Status
from engine.runtime.process import EngineHandle, EngineOptions
from tests.engine.test_realtime import unmatched_note_ons, wait_for

RESTARTS = 20


def test_every_restart_silences_every_sounding_note_at_the_receiver(midi_receiver):
    statuses: list[dict] = []
    handle = EngineHandle(
        EngineOptions(midi_api="jack", port="lcrecv", osc_port=0, status_interval=0.05),
        lambda m: isinstance(m, Status) and statuses.append(m.data),
    )
    handle.start()
    network = Batch(
        (  # long notes on three channels: something is always sounding
            DefineNeuron("pad", {"note": 60, "rate": 4.0, "dur": 8.0}),
            DefineNeuron("bass", {"note": 40, "rate": 2.0, "dur": 3.0, "ch": 2}),
            DefineNeuron("hat", {"note": 42, "rate": 8.0, "dur": 0.1, "ch": 10}),
        )
    )
    kill_to_note: list[float] = []
    try:
        assert handle.request(network, timeout=10).ok
        for n in range(RESTARTS):
            pid = handle.pid
            assert pid is not None
            # the engine runs and has sent its snapshot (a restart restores from it)
            assert wait_for(
                lambda pid=pid: handle.last_status is not None and handle._status_pid == pid, 10
            )
            assert wait_for(lambda: unmatched_note_ons(midi_receiver.received()) != [], 10)
            before = midi_receiver.received()
            killed_at = time.perf_counter()
            os.kill(pid, signal.SIGKILL)
            assert wait_for(lambda pid=pid: handle.pid != pid and handle.alive(), 10)
            sounding = unmatched_note_ons(before)
            assert sounding, "nothing was sounding"

            start = len(before)

            def new_note_on(start: int = start) -> int | None:
                got = midi_receiver.received()
                for i in range(start, len(got)):
                    d = got[i][1]
                    if d[0] & 0xF0 == 0x90 and d[2] > 0:
                        return i
                return None

            assert wait_for(lambda: new_note_on() is not None, 10), f"restart {n}: no new note"
            first = new_note_on()
            assert first is not None
            got = midi_receiver.received()
            kill_to_note.append(got[first][0] - killed_at)
            # what was sounding is silenced before the new engine plays
            left = unmatched_note_ons(got[:first])
            assert not set(left) & set(sounding), f"restart {n}: {left} left sounding"
    finally:
        handle.stop()
    kill_to_note.sort()
    print(
        f"kill to next note over {RESTARTS} restarts: "
        f"p50 {kill_to_note[len(kill_to_note) // 2] * 1e3:.0f} ms, max {kill_to_note[-1] * 1e3:.0f} ms"
    )
