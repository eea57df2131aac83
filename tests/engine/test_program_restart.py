"""A restarted engine tells its new port the channels' programs, volumes and pans before it
plays a note (a synth on the port may have been restarted too)."""

from __future__ import annotations

import os
import signal

from engine.protocol import Batch, DefineNeuron, Mix, Program
from tests.engine.test_realtime import start_engine, wait_for

SETUP = (bytes([0xC1, 33]), bytes([0xB1, 7, 90]), bytes([0xB1, 10, 32]))


def test_a_restarted_engine_resends_programs_volumes_and_pans(midi_receiver, tmp_path):
    handle = start_engine(tmp_path)
    try:
        batch = Batch(
            (
                Program(2, "Fingered Bass"),
                Mix(2, volume=90, pan=-0.5),
                DefineNeuron("bass", {"note": 40, "rate": 4.0, "ch": 2, "dur": 0.1}),
            )
        )
        assert handle.request(batch, timeout=10).ok
        received = lambda: [d for _, d in midi_receiver.received()]  # noqa: E731
        assert wait_for(lambda: all(m in received() for m in SETUP))
        assert wait_for(lambda: handle.last_status and handle.last_status["neurons"] == 1)
        first = handle.pid
        before = len(received())
        os.kill(first, signal.SIGKILL)
        assert wait_for(lambda: handle.pid != first and handle.alive(), 10)

        def restarted() -> list[bytes]:
            """What came from the new engine: from its silence (All Notes Off) on (a spare
            engine takes over within a few tenths: it may have played before we look)."""
            after = received()[before:]
            start = next(
                (i for i, d in enumerate(after) if d[0] & 0xF0 == 0xB0 and d[1] == 123), None
            )
            return [] if start is None else after[start:]

        assert wait_for(lambda: any(d[0] == 0x91 and d[2] for d in restarted()), 10), (
            handle.pid,
            handle.alive(),
            " ".join(d.hex() for d in received()[before:][:80]),
        )
        after = restarted()
        first_note = next(i for i, d in enumerate(after) if d[0] == 0x91 and d[2])
        assert all(m in after[:first_note] for m in SETUP), " ".join(
            d.hex() for d in received()[before:][:80]
        )
    finally:
        handle.stop()
