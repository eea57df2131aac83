"""The sample-accurate JACK port: notes land on their exact frames."""

from __future__ import annotations

from engine.protocol import Batch, DefineNeuron, Fire, Status
from engine.record.eventlog import read_jsonl
from engine.runtime.process import EngineHandle, EngineOptions
from tests.engine.test_realtime import note_ons, unmatched_note_ons, wait_for


def start(tmp_path, statuses: list, **config) -> EngineHandle:
    cfg = EngineOptions(
        midi_api="jack",
        port="lcrecv",
        events=str(tmp_path / "ev.jsonl"),
        status_interval=0.1,
        **config,
    )
    handle = EngineHandle(cfg, lambda m: isinstance(m, Status) and statuses.append(m.data))
    handle.start()
    return handle


def network() -> Batch:
    # Rates that put notes between frames and between periods, with a leak (log times).
    return Batch(
        (
            DefineNeuron("a", {"note": 60, "rate": 3.3, "dur": 0.11}),
            DefineNeuron("b", {"note": 64, "rate": 2.0, "leak": 0.7, "dur": 0.3, "ch": 2}),
            DefineNeuron("c", {"note": 67, "rate": 5.13, "dur": 0.05, "ch": 3}),
        )
    )


def test_notes_arrive_on_their_exact_frames(midi_receiver, tmp_path):
    statuses: list[dict] = []
    handle = start(tmp_path, statuses)
    try:
        assert handle.request(network(), timeout=10).ok
        assert wait_for(lambda: len(note_ons(midi_receiver.received())) >= 40, 10)
    finally:
        handle.stop()
    frame0 = statuses[-1]["frame0"]
    assert statuses[-1]["latency_ms"] > 0 and frame0 is not None
    rate = midi_receiver.rate
    logged = [e for e in read_jsonl(str(tmp_path / "ev.jsonl")) if e["type"] != "control_change"]
    received = [(f, d) for f, d in midi_receiver.received_frames() if d[0] & 0xF0 != 0xB0]
    intended = {
        (
            frame0 + round(e["t"] * rate),
            bytes(
                [(0x90 if e["type"] == "note_on" else 0x80) | (e["ch"] - 1), e["note"], e["vel"]]
            ),
        )
        for e in logged
    }
    assert len(logged) >= 80
    # Every message that arrived arrived on its exact frame...
    on_frame = set(received) & intended
    off = [(f, d.hex()) for f, d in received if (f, d) not in intended]
    # ...but for a repeated buffer: when the port's Python callback misses a cycle (it
    # needs the GIL), JACK plays the port's previous buffer again, one period later.
    period = midi_receiver.period
    repeated = [(f, d) for f, d in off if (f - period, bytes.fromhex(d)) in on_frame]
    off = [m for m in off if m not in repeated]
    assert off == [], f"{len(off)} messages off their frames: {off[:5]}"
    assert len(repeated) <= 0.02 * len(logged), repeated
    # ...and all arrived, but for the rare cycle a non-realtime server on this shared
    # machine drops when a Python client (the port's callback, or the receiver) is late.
    assert len(received) >= 0.98 * len(logged)
    assert statuses[-1]["port_late"] == 0
    assert unmatched_note_ons(midi_receiver.received()) == []


def test_a_patch_lands_after_the_latency(midi_receiver, tmp_path):
    statuses: list[dict] = []
    handle = start(tmp_path, statuses, latency=0.05)
    try:
        assert handle.request(Batch((DefineNeuron("x", {"note": 50, "rate": 0.0}),)), timeout=10).ok
        assert wait_for(lambda: bool(statuses))
        ack = handle.request(Batch((Fire("x"),)))
        assert ack.ok
        assert wait_for(lambda: any(d[1] == 50 for _, d in midi_receiver.received_frames()))
    finally:
        handle.stop()
    frame0 = statuses[-1]["frame0"]
    fired = [f for f, d in midi_receiver.received_frames() if d[0] & 0xF0 == 0x90 and d[1] == 50]
    # Applied at "now + latency" on the JACK clock, and played on exactly that frame.
    assert fired == [frame0 + round(ack.t * midi_receiver.rate)]
    logged = [e for e in read_jsonl(str(tmp_path / "ev.jsonl")) if e["type"] == "note_on"]
    assert logged[0]["t"] == ack.t or abs(logged[0]["t"] - ack.t) < 1e-9
    assert unmatched_note_ons(midi_receiver.received()) == []


def test_a_restarted_engine_reconnects_its_virtual_port(midi_receiver, tmp_path):
    import os
    import signal

    statuses: list[dict] = []
    cfg = EngineOptions(midi_api="jack", virtual="lcvirt", status_interval=0.1)
    handle = EngineHandle(cfg, lambda m: isinstance(m, Status) and statuses.append(m.data))
    handle.start()
    try:
        # The performer's patchbay connects the engine's virtual port to the synth.
        assert wait_for(lambda: bool(statuses), 10)
        midi_receiver.connect("lcvirt:lcvirt")
        assert handle.request(
            Batch((DefineNeuron("pad", {"note": 60, "rate": 4.0, "dur": 8.0}),)), 5
        ).ok
        assert wait_for(lambda: len(note_ons(midi_receiver.received())) >= 2)
        assert wait_for(lambda: statuses[-1]["midi_connections"] == ["lcrecv:in"])
        first = handle.pid
        os.kill(first, signal.SIGKILL)
        # The new engine's port is a new port: it reconnects and plays on.
        count = len(note_ons(midi_receiver.received()))
        assert wait_for(
            lambda: handle.pid != first and len(note_ons(midi_receiver.received())) > count + 2, 5
        )
        # (Its first act is the dead engine's note-offs and All Notes Off; while JACK is
        # still removing the dead client they can miss the new connection, so this test
        # only asks that nothing is left hanging in the end.)
    finally:
        handle.stop()
    assert unmatched_note_ons(midi_receiver.received()) == []


def test_the_status_counts_the_cycles_the_graph_ran_late(midi_receiver, tmp_path):
    statuses: list[dict] = []
    handle = start(tmp_path, statuses)
    try:
        assert handle.request(network(), timeout=10).ok
        assert wait_for(lambda: len(statuses) >= 2, 10)
        before = statuses[-1]["port_xruns"]
        midi_receiver.stall(0.05)  # a client late by ten periods
        assert wait_for(lambda: statuses[-1]["port_xruns"] > before, 5), statuses[-1]["port_xruns"]
    finally:
        handle.stop()
