"""MIDI into the engine over a real JACK server: notes, CCs, bad input, a flood, clock out."""

from __future__ import annotations

import threading
from collections import deque

import pytest

from engine import protocol as P
from engine.protocol import Status
from engine.record.eventlog import read_jsonl
from engine.runtime.process import EngineHandle, EngineOptions
from tests.engine.test_realtime import unmatched_note_ons, wait_for


class MidiSender:
    """A JACK client with one MIDI output that writes queued messages, ``per_cycle`` a cycle."""

    def __init__(self, server, name: str = "lcsend", per_cycle: int = 20) -> None:
        import jack

        self.client = jack.Client(name, servername=server.name, no_start_server=True)
        self.port = self.client.midi_outports.register("out")
        self.per_cycle = per_cycle
        self._queue: deque[bytes] = deque()
        self.written = 0
        self.client.set_process_callback(self._process)
        self.client.activate()

    def _process(self, frames: int) -> None:
        self.port.clear_buffer()
        for _ in range(min(self.per_cycle, len(self._queue))):
            self.port.write_midi_event(0, self._queue.popleft())
            self.written += 1

    def connect(self, target: str = "livecode-in", timeout: float = 10) -> None:
        def found():
            return [p.name for p in self.client.get_ports(target, is_midi=True, is_input=True)]

        assert wait_for(lambda: bool(found()), timeout), f"no JACK input port {target!r}"
        self.client.connect(self.port, found()[0])

    def send(self, *messages: bytes | list[int]) -> None:
        self._queue.extend(bytes(m) for m in messages)

    def drained(self) -> bool:
        return not self._queue

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()


@pytest.fixture
def midi_sender(jack_server):
    sender = MidiSender(jack_server)
    try:
        yield sender
    finally:
        sender.close()


def start(tmp_path, statuses: list, **config) -> EngineHandle:
    cfg = EngineOptions(
        midi_api="jack",
        port="lcrecv",
        events=str(tmp_path / "ev.jsonl"),
        status_interval=0.05,
        **config,
    )
    lock = threading.Lock()

    def on_message(m: object) -> None:
        if isinstance(m, Status):
            with lock:
                statuses.append(m.data)

    handle = EngineHandle(cfg, on_message)
    handle.start()
    return handle


def params(statuses: list, name: str) -> dict:
    return statuses[-1]["snapshot"]["neurons"][name]["params"] if statuses else {}


def ons(receiver, ch: int) -> list[int]:
    return [d[1] for _, d in receiver.received_frames() if d[0] == 0x90 | (ch - 1) and d[2]]


NETWORK = P.Batch(
    (
        P.DefineNeuron("keys", {"rate": 0.0, "mute": True}),
        P.Listen("keys", 1, 36, 84),
        P.DefineNeuron("n1", {"note": 50, "rate": 0.0, "ch": 2, "dur": 0.05}),
        P.Connect("keys", "n1", 1.0),
        P.Follow("n1", "note", "keys", 7),
        P.DefineNeuron("n2", {"note": 40, "rate": 0.5, "ch": 3}),
        P.Map("cc", "1/74", "n2", "rate", 0.25, 8.0, "exp"),
        P.DefineNeuron("pad", {"note": 70, "rate": 0.0, "ch": 4, "dur": 0.05}),
        P.Map("cc", "0/64", "pad", "fire"),
        P.Map("note", "10/36", "pad", "fire"),
    )
)


def test_notes_and_ccs_play_into_the_network(midi_receiver, midi_sender, tmp_path):
    statuses: list[dict] = []
    handle = start(tmp_path, statuses)
    try:
        assert handle.request(NETWORK, timeout=10).ok
        midi_sender.connect()
        # the mapped parameter follows the controller
        midi_sender.send([0xB0, 74, 127])
        assert wait_for(lambda: params(statuses, "n2").get("rate") == 8.0)
        midi_sender.send([0xB0, 74, 0])
        assert wait_for(lambda: params(statuses, "n2").get("rate") == 0.25)
        # an input neuron fires and drives n1, which plays what keys heard, a fifth up
        midi_sender.send([0x90, 60, 100])
        assert wait_for(lambda: ons(midi_receiver, 2) == [67])
        # running status: two more note-ons (and a note-off as velocity 0) in one event
        midi_sender.send([0x90, 62, 90, 64, 90, 64, 0], [0x80, 60, 0])
        assert wait_for(lambda: ons(midi_receiver, 2) == [67, 69, 71])
        # fire on a CC press (any channel) and on a note; a held pedal fires once
        midi_sender.send([0xB5, 64, 127], [0xB5, 64, 120], [0xB5, 64, 0], [0x99, 36, 80])
        assert wait_for(lambda: ons(midi_receiver, 4) == [70, 70])
        # bad input: SysEx, an unmapped channel, a stray data byte, a cut-off message
        midi_sender.send([0xF0, 0x7E, 0x7F, 0x09, 0x01, 0xF7], [0x94, 60, 100], [0x40], [0xB0, 74])
        assert wait_for(lambda: statuses[-1]["midi_in"]["dropped"]["sysex"] == 1)
        assert wait_for(lambda: statuses[-1]["midi_in"]["dropped"]["malformed"] == 2)
        assert handle.request(P.Batch((P.SetParam("n2", "vel", 90),))).ok  # still alive
    finally:
        handle.stop()
    counters = statuses[-1]["midi_in"]
    assert counters["running_status"] >= 2 and counters["dropped"]["unmapped"] == 1
    assert counters["dropped"]["overflow"] == 0 and counters["dropped"]["refused"] == 0
    assert "keys" in {n for s in statuses for n in s["fired"]}  # silent, but in the activity
    logged = [e for e in read_jsonl(str(tmp_path / "ev.jsonl")) if e["type"] == "note_on"]
    assert [e["note"] for e in logged if e["neuron"] == "n1"] == [67, 69, 71]
    assert unmatched_note_ons(midi_receiver.received()) == []


def test_a_flood_leaves_the_engine_alive_and_on_time(midi_receiver, midi_sender, tmp_path):
    statuses: list[dict] = []
    handle = start(tmp_path, statuses)
    net = P.Batch(
        (
            P.DefineNeuron("m", {"note": 48, "rate": 8.0, "dur": 0.05, "ch": 5}),
            P.DefineNeuron("x", {"note": 50, "rate": 0.0}),
            P.Map("cc", "1/1", "x", "thr", 0.5, 2.0),
            P.DefineNeuron("keys", {"rate": 0.0, "mute": True}),
            P.Listen("keys", 2),
        )
    )
    try:
        assert handle.request(net, timeout=10).ok
        midi_sender.connect()
        flood = []
        for i in range(10_000):
            kind = i % 10
            if kind < 7:
                flood.append([0xB0, 1, i % 128])  # mapped: coalesced
            elif kind == 7:
                flood.append([0xB3, 7, i % 128])  # unmapped controller
            elif kind == 8:
                flood.append([0x91, 36 + i % 48, 1 + i % 127])  # an input neuron fires
            else:
                flood.append([0xF0, 1, 2, 3, 0xF7])
        midi_sender.send(*flood)
        assert wait_for(midi_sender.drained, 20)
        assert midi_sender.written == 10_000

        def settled() -> bool:  # everything that arrived is handled, nothing more comes
            a = statuses[-1]["midi_in"]
            time_before = len(statuses)
            wait_for(lambda: len(statuses) > time_before + 4, 2)
            b = statuses[-1]["midi_in"]
            return b["pending"] == 0 and a["received"] == b["received"]

        assert wait_for(settled, 20)
        assert handle.alive()
        assert handle.request(P.Batch((P.SetParam("x", "vel", 90),)), timeout=2).ok
    finally:
        handle.stop()
    c = statuses[-1]["midi_in"]
    # A loaded machine's JACK server may drop a cycle's events (an xrun): most arrive, and
    # every one that arrived is accounted for
    assert c["received"] >= 5_000, c
    assert c["received"] == c["ccs"] + c["notes"] + c["dropped"]["sysex"] + c["ignored"]
    assert c["dropped"]["overflow"] == c["dropped"]["refused"] == c["dropped"]["malformed"] == 0
    # every kind is there in its share of what arrived: a lost cycle (20 messages, the
    # kinds interleaved every 10) loses two of each; the mapped controllers were coalesced
    share = c["received"] / 10
    assert c["dropped"]["unmapped"] >= 0.9 * share and c["notes"] >= 0.9 * share
    assert c["coalesced"] > 0
    # the metronome kept its exact frames all along
    frame0, rate = statuses[-1]["frame0"], midi_receiver.rate
    logged = [
        e
        for e in read_jsonl(str(tmp_path / "ev.jsonl"))
        if e["neuron"] == "m" and e["type"] == "note_on"
    ]
    got = [f for f, d in midi_receiver.received_frames() if d[0] == 0x94]
    assert len(got) == len(logged) >= 8
    period = midi_receiver.period
    assert all(
        abs(f - (frame0 + round(e["t"] * rate))) <= period for f, e in zip(got, logged, strict=True)
    )


def test_clock_out_follows_the_tempo_with_start_and_stop(midi_receiver, tmp_path):
    statuses: list[dict] = []
    handle = start(tmp_path, statuses, clock_out=True, tempo=150.0)
    try:
        assert wait_for(lambda: len(_ticks(midi_receiver)) >= 40, 10)
        ack = handle.request(P.Batch((P.Tempo(100.0),)))
        assert ack.ok
        assert wait_for(lambda: len(_ticks(midi_receiver)) >= 100, 10)
        assert handle.request(P.Batch((P.Stop(),))).ok
        assert wait_for(lambda: midi_receiver.received_frames()[-1][1] == bytes([0xFC]))
        stopped = len(_ticks(midi_receiver))
        assert handle.request(P.Batch((P.Start(),))).ok
        assert wait_for(lambda: len(_ticks(midi_receiver)) >= stopped + 10, 10)
    finally:
        handle.stop()
    rate, period = midi_receiver.rate, midi_receiver.period
    frame0 = statuses[-1]["frame0"]
    got = midi_receiver.received_frames()
    kinds = [d[0] for _, d in got]
    # the first start goes out as the engine's port is connected, and may be too early
    # for the receiver: the engine's count says it was sent
    assert statuses[-1]["clock_out"]["starts"] == 2 and statuses[-1]["clock_out"]["stops"] == 1
    assert kinds.count(0xFC) == 1 and 0xFA in kinds[kinds.index(0xFC) :]
    change = frame0 + round(ack.t * rate)
    # (the first pulses may go out late, while the engine and its port start up)
    first = [f for f, d in got if d[0] == 0xF8 and f < change][2:]
    second = [f for f, d in got if d[0] == 0xF8 and change + 1200 < f < got[kinds.index(0xFC)][0]]
    for ticks, bpm in ((first, 150.0), (second, 100.0)):
        spacing = rate * 60.0 / bpm / 24
        gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
        assert len(gaps) >= 30
        # within one JACK period; a loaded server's xrun may delay a cycle now and then
        within = sum(abs(g - spacing) <= period for g in gaps) / len(gaps)
        assert within >= 0.95, (bpm, gaps)
        assert abs(sorted(gaps)[len(gaps) // 2] - spacing) <= 1, (bpm, gaps)
    assert not any(
        d[0] == 0xF8
        for f, d in got
        if got[kinds.index(0xFC)][0] < f < got[len(kinds) - kinds[::-1].index(0xFA) - 1][0]
    )


def _ticks(receiver) -> list[int]:
    return [f for f, d in receiver.received_frames() if d == bytes([0xF8])]
