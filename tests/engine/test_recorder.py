"""Recording in the engine process: a live session replays to the same notes, SIGKILL loses
at most 250 ms, an engine restart appends to the same file, the schema and the op codec."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from engine.protocol import (
    Batch,
    Connect,
    DefineNeuron,
    Listen,
    Map,
    NoteIn,
    SetParam,
    Tempo,
)
from engine.record.recorder import RecordError, ops_from_json, ops_to_json, prepare
from engine.record.recording import load, replay_events
from engine.runtime.process import EngineHandle, EngineOptions
from livecode.language.interpreter import Interpreter
from livecode.repl.live import LiveSession
from tests.engine.osc_rig import free_port, message, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def notes(events) -> list[tuple]:
    """Note events as comparable tuples (logical time to the nanosecond)."""
    return [
        (round(e.t, 9), e.type, e.neuron, e.ch, e.note, e.vel)
        for e in events
        if e.type in ("note_on", "note_off")
    ]


def test_ops_round_trip_through_json():
    ops = (
        DefineNeuron("a", {"note": (60, 62), "rate": 2.0, "mute": False}),
        SetParam("a", "vel", 90),
        Connect("a", "b", -0.25, 0.5, "cont"),
        Tempo(96.5),
        Map("osc", "/1/fader1", "a", "thr", 0.5, 2.0, "exp", 1),
        Listen("a", 1, 36, 48),
        NoteIn(10, 36, 100),
    )
    back = ops_from_json(ops_to_json(ops))
    assert [type(o) for o in back] == [type(o) for o in ops]
    assert back[1:] == ops[1:]
    assert list(back[0].params["note"]) == [60, 62]


def test_ops_from_json_makes_only_protocol_ops():
    with pytest.raises(RecordError, match="unknown operation"):
        ops_from_json('[{"op": "system", "cmd": "rm -rf /"}]')


def test_prepare_refuses_an_existing_recording(tmp_path):
    path = tmp_path / "gig.sqlite"
    prepare(str(path))
    with pytest.raises(RecordError, match="already exists"):
        prepare(str(path))
    assert prepare(str(path), fresh=False) == str(path)
    with pytest.raises(RecordError):
        prepare(str(tmp_path / "no" / "such" / "dir.sqlite"))


def test_live_session_replays_offline_to_the_recorded_notes(tmp_path):
    """REPL blocks through the real interpreter and engine, an OSC change over real UDP, a
    block the interpreter refused and one the engine refused: all recorded; the offline
    replay gives the recorded notes exactly."""
    path = prepare(str(tmp_path / "gig.sqlite"))
    port = free_port()
    said: list[str] = []
    handle = EngineHandle(
        EngineOptions(midi_api="none", osc_port=port, record=path, seed=7, status_interval=0.05)
    )
    live = LiveSession(Interpreter(), handle, said.append)
    live.recording_from_start(path)
    handle.start()
    sock = __import__("socket").socket(2, 2)  # AF_INET, SOCK_DGRAM
    try:
        assert wait_for(lambda: handle.last_status is not None, 10)
        live.submit('a = neuron(60, rate=8, dur=0.1)\nb = neuron("E4", rate=3, prob=0.6)')
        live.submit("a >> b @ 0.3\nc = neuron(67, rate=5, leak=0.5, thr=2)")
        time.sleep(0.4)
        live.submit("c = neuron(67, rate=")  # the interpreter refuses it: sent as refused
        live.submit("a.rate = 5\ntempo(150)")
        time.sleep(0.3)
        sock.sendto(message("/neuron/b/rate", 6.5), ("127.0.0.1", port))
        assert wait_for(
            lambda: handle.last_status["snapshot"]["neurons"]["b"]["params"]["rate"] == 6.5, 5
        )
        bad = handle.request(Batch((SetParam("zz", "rate", 2.0),), "repl", "zz.rate = 2"))
        assert not bad.ok
        time.sleep(0.4)
    finally:
        sock.close()
        handle.stop()
    rec = load(path)
    assert [s.kind for s in rec.segments] == ["start"]
    assert rec.segments[0].t_end is not None and rec.segments[0].ending == "quit"
    sources = [(b.source, b.ok) for b in rec.blocks]
    assert ("osc", True) in sources
    refused = [b for b in rec.blocks if not b.ok]
    assert [b.text for b in refused] == ["c = neuron(67, rate=", "zz.rate = 2"]
    assert all(b.error for b in refused)
    assert "no neuron named 'zz'" in refused[1].error
    assert [b.text for b in rec.blocks if b.source == "repl" and b.ok][0].startswith("a = neuron")
    recorded = notes(rec.events)
    assert len(recorded) > 30
    assert notes(replay_events(rec).events) == recorded
    assert rec.events[-1].type == "control_change"  # the engine's All Notes Off, recorded too


def test_record_starts_and_stops_mid_session(tmp_path):
    """record() in a block: a segment from a snapshot (the block itself is in it);
    record(False) ends it; the replay matches (no delayed pulses in flight)."""
    path = str(tmp_path / "mid.sqlite")
    handle = EngineHandle(EngineOptions(midi_api="none", osc_port=0, status_interval=0.05))
    said: list[str] = []
    live = LiveSession(Interpreter(), handle, said.append)
    handle.start()
    try:
        assert wait_for(lambda: handle.last_status is not None, 10)
        live.submit("a = neuron(60, rate=6, dur=0.1); b = neuron(64, rate=2.5)")
        time.sleep(0.3)
        live.submit(f'record("{path}")\na.rate = 7')
        assert live.recording == path
        time.sleep(0.5)
        live.submit("b.rate = 4")
        time.sleep(0.3)
        live.submit("record(False)")
        assert live.recording is None
        live.submit("a.rate = 1")  # after the recording: not in it
        time.sleep(0.2)
    finally:
        handle.stop()
    rec = load(path)
    assert [s.kind for s in rec.segments] == ["resume"]
    assert rec.segments[0].t0 > 0.2
    texts = [b.text for b in rec.blocks]
    assert texts[0].startswith("record(") and texts[-1] == "b.rate = 4"
    # notes sounding when the recording started end in it, but a snapshot holds no
    # sounding notes: their note-offs are the one thing the replay does not play
    sounding: set[tuple] = set()
    started = []
    for n in notes(rec.events):
        key = (n[3], n[4])
        if n[1] == "note_on":
            sounding.add(key)
        elif key not in sounding:
            continue
        started.append(n)
    replayed = notes(replay_events(rec).events)
    end = rec.segments[0].t_end
    assert rec.segments[0].ending == "stop"
    assert replayed[: len(started)] == started
    # the replay ends the notes still sounding when record(False) stopped the recording
    assert all(n[1] == "note_off" and n[0] == round(end, 9) for n in replayed[len(started) :])
    assert any("recording to" in line for line in said)


def test_engine_restart_appends_to_the_same_recording(tmp_path):
    path = prepare(str(tmp_path / "crash.sqlite"))
    handle = EngineHandle(
        EngineOptions(midi_api="none", osc_port=0, record=path, status_interval=0.05)
    )
    handle.start()
    try:
        assert wait_for(lambda: handle.last_status is not None, 10)
        handle.request(
            Batch(
                (
                    DefineNeuron("a", {"note": 60, "rate": 8.0, "dur": 0.1}),
                    DefineNeuron("b", {"note": 62, "rate": 3.0}),
                ),
                "repl",
                "...",
            )
        )
        time.sleep(0.6)
        first = handle.pid
        os.kill(first, signal.SIGKILL)
        assert wait_for(
            lambda: handle.pid != first and handle.last_status is not None and handle.alive(), 10
        )
        time.sleep(0.3)
        ack = handle.request(Batch((SetParam("a", "rate", 4.0),), "repl", "a.rate = 4"))
        assert ack.ok
        time.sleep(0.5)
    finally:
        handle.stop()
    rec = load(path)
    assert [s.kind for s in rec.segments] == ["start", "restart"]
    dead, new = rec.segments
    assert dead.t_end is None and new.t_end is not None
    assert new.t0 >= dead.last_time() - 0.3  # carries on the same logical time
    result = replay_events(rec)
    assert notes(result.per_segment[1]) == notes(new.events)
    last = round(dead.events[-1].t, 9)  # as notes() rounds
    assert [n for n in notes(result.per_segment[0]) if n[0] < last] == [
        n for n in notes(dead.events) if n[0] < last
    ]


DENSE = """tempo(240)
a = neuron(60, rate=16, dur=0.05)
b = neuron(64, rate=11, dur=0.05, phase=0.5)
"""


def test_sigkill_of_the_whole_program_loses_at_most_250_ms(tmp_path):
    """``livecode play --record`` killed (process group, SIGKILL) at a random moment: the
    file is consistent and holds every note up to at most 250 ms before the kill."""
    session = tmp_path / "dense.neu"
    session.write_text(DENSE)
    path = tmp_path / "kill.sqlite"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "livecode.cli",
            "play",
            str(session),
            "--midi-api",
            "none",
            "--audio",
            "none",
            "--osc-port",
            "0",
            "--record",
            str(path),
        ],
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )

    def recorded() -> int:
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                return db.execute("SELECT count(*) FROM events").fetchone()[0]
            finally:
                db.close()
        except sqlite3.Error:
            return 0

    try:
        assert wait_for(lambda: recorded() > 0, 20), proc.stderr.read1()  # type: ignore[union-attr]
        time.sleep(random.uniform(0.2, 1.5))
        killed = time.perf_counter()
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait(10)
    db = sqlite3.connect(str(path))
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    rec = load(str(path))
    (seg,) = rec.segments
    assert seg.t_end is None  # it never ended cleanly
    lost = killed - (seg.epoch + seg.events[-1].t)  # both on perf_counter (CLOCK_MONOTONIC)
    assert lost <= 0.25, f"the last {lost * 1e3:.0f} ms before the kill were lost"
    # and what is there is consistent: exactly the model's notes up to that point
    last = round(seg.events[-1].t, 9)  # as notes() rounds
    replayed = [n for n in notes(replay_events(rec).events) if n[0] < last]
    assert replayed == [n for n in notes(seg.events) if n[0] < last]
    assert len(replayed) > 20


SHORT = [
    (
        0.0,
        Batch(
            (
                DefineNeuron("a", {"note": 60, "rate": 6.0, "dur": 0.1}),
                DefineNeuron("b", {"note": 64, "rate": 2.5, "prob": 0.7}),
                Connect("a", "b", 0.2, 0.25),
            ),
            "repl",
            "a = ...; b = ...",
        ),
    ),
    (0.6, Batch((SetParam("a", "rate", 9.0), Tempo(150.0)), "osc", "")),
    (1.1, Batch((SetParam("b", "rate", 4.0),), "repl", "b.rate = 4")),
]


@pytest.mark.parametrize("speed", [1.0, 4.0])
def test_live_replay_plays_the_recorded_notes(tmp_path, speed):
    """``replay`` into a fresh engine: each batch scheduled at its recorded time gives the
    recorded notes at the same logical times (divided by ``speed``)."""
    from tests.livecode.test_replay_export import make_recording

    path = str(tmp_path / "short.sqlite")
    played = make_recording(path, SHORT, end=1.6, seed=3)
    events = tmp_path / "replayed.jsonl"
    handle = EngineHandle(
        EngineOptions(
            midi_api="none",
            osc_port=0,
            replay=path,
            speed=speed,
            seconds=1.6 / speed,
            events=str(events),
        )
    )
    handle.start()
    try:
        assert handle.wait(20)
    finally:
        handle.stop()
    got = [json.loads(x) for x in events.read_text().splitlines()]
    got = [
        (x["t"] * speed, x["type"], x["neuron"], x["note"])
        for x in got
        if x["type"] != "control_change" and x["t"] < 1.6 / speed - 1e-6
    ]
    want = [
        (e.t, e.type, e.neuron, e.note)
        for e in played
        if e.type != "control_change" and e.t < 1.6 - 1e-6
    ]
    assert [g[1:] for g in got] == [w[1:] for w in want]
    assert [g[0] for g in got] == pytest.approx([w[0] for w in want], abs=1e-6)
    assert len(want) > 15
