"""Parameter processes in the real engine: a live session with walks, choices, a chain and
jitter replays offline to the same notes; a chain learns from MIDI played into the engine
over a real JACK server, and keeps what it learned through an engine restart."""

from __future__ import annotations

import os
import signal
import time

from engine import protocol as P
from engine.record.recorder import prepare
from engine.record.recording import load, replay_events
from engine.runtime.process import EngineHandle, EngineOptions
from livecode.language.interpreter import Interpreter
from livecode.language.sessionfile import file_reader
from livecode.repl.live import LiveSession
from tests.engine.osc_rig import wait_for
from tests.engine.test_midi_in_jack import midi_sender, ons, start  # noqa: F401 - fixture
from tests.engine.test_recorder import notes
from tests.livecode.test_processes import TUNE, midi_file


def test_a_live_session_with_processes_replays_offline_to_the_same_notes(tmp_path):
    midi_file(tmp_path / "tune.mid", [(1, TUNE)])
    path = prepare(str(tmp_path / "gig.sqlite"))
    handle = EngineHandle(
        EngineOptions(midi_api="none", osc_port=0, record=path, seed=11, status_interval=0.05)
    )
    live = LiveSession(Interpreter(read_file=file_reader(str(tmp_path))), handle, lambda s: None)
    live.recording_from_start(path)
    handle.start()
    try:
        assert wait_for(lambda: handle.last_status is not None, 10)
        live.submit(
            "lead = neuron(60, rate=8, dur=0.05, jitter=0.05)\n"
            'lead.note = markov("tune.mid", order=2)\n'
            "lead.vel = choose([60, 90, 120], [1, 2, 1])\n"
            "hat = neuron(42, rate=6, dur=0.02, ch=10)\n"
            "hat.rate = walk(4, 12, step=1)\nhat.vel = walk(40, 110, step=7)"
        )
        time.sleep(0.5)
        live.submit("lead.dur = choose([0.05, 0.1])\ntempo(150)")
        time.sleep(0.5)
    finally:
        handle.stop()
    rec = load(path)
    recorded = notes(rec.events)
    assert len({n[4] for n in recorded if n[2] == "lead"}) >= 3  # the chain moved
    assert len({n[5] for n in recorded if n[2] == "hat" and n[1] == "note_on"}) >= 3
    assert notes(replay_events(rec).events) == recorded


LEARNER = P.Batch(
    (
        P.DefineNeuron("keys", {"rate": 0.0, "mute": True}),
        P.Listen("keys", 1),
        P.DefineNeuron("echo", {"note": 30, "rate": 8.0, "ch": 2, "dur": 0.05}),
        P.Markov("echo", "note", 1, src="keys", memory=64, call="markov(keys, memory=64)"),
    )
)


def test_a_chain_learns_from_notes_played_over_jack_and_survives_a_restart(
    midi_receiver,
    midi_sender,  # noqa: F811 - the fixture
    tmp_path,
):
    statuses: list[dict] = []
    handle = start(tmp_path, statuses)
    try:
        assert handle.request(LEARNER, timeout=10).ok
        midi_sender.connect()
        assert wait_for(lambda: ons(midi_receiver, 2)[-3:] == [30, 30, 30])  # its own note
        phrase = [48, 52, 55, 52, 48, 55, 52, 55]
        for note in phrase:
            midi_sender.send([0x90, note, 100], [0x80, note, 0])
        assert wait_for(
            lambda: "learned 7 transitions" in statuses[-1]["drawn"].get("echo.note", "")
        )
        heard = len(ons(midi_receiver, 2))
        assert wait_for(lambda: len(ons(midi_receiver, 2)) > heard + 20)
        answer = ons(midi_receiver, 2)[heard + 4 :]
        assert set(answer) <= {48, 52, 55} and len(set(answer)) >= 2  # the performer's notes
        # the engine dies: the new one starts from the last status, chain and all
        first = handle.pid
        os.kill(first, signal.SIGKILL)
        assert wait_for(lambda: handle.pid != first and handle.alive(), 5)
        before = len(ons(midi_receiver, 2))
        assert wait_for(lambda: len(ons(midi_receiver, 2)) > before + 20, 5)
        assert set(ons(midi_receiver, 2)[before + 4 :]) <= {48, 52, 55}
        assert wait_for(lambda: "learned 7 transitions" in handle.last_status["drawn"]["echo.note"])
    finally:
        handle.stop()
