"""A stop on JACK silences exactly the channels that played: All Notes Off once on each,
and nothing on the others (issue 13 saw 16 extra All Notes Off after a stop)."""

from __future__ import annotations

from engine.protocol import Batch, DefineNeuron
from tests.engine.test_realtime import start_engine, wait_for


def test_a_stop_sends_all_notes_off_once_per_channel_played(midi_receiver, tmp_path):
    handle = start_engine(tmp_path)
    try:
        batch = Batch(
            (
                DefineNeuron("a", {"note": 60, "rate": 8.0, "dur": 0.05}),
                DefineNeuron("b", {"note": 40, "rate": 8.0, "dur": 0.05, "ch": 3}),
            )
        )
        assert handle.request(batch, timeout=10).ok
        received = lambda: [d for _, d in midi_receiver.received()]  # noqa: E731
        assert wait_for(lambda: {d[0] for d in received()} >= {0x90, 0x92}, 10)
    finally:
        handle.stop()
    assert wait_for(lambda: any(d[0] & 0xF0 == 0xB0 and d[1] == 123 for d in received()), 5)
    offs = sorted(d[0] & 0x0F for d in received() if d[0] & 0xF0 == 0xB0 and d[1] == 123)
    assert offs == [0, 2], offs
