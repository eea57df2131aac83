"""MIDI input without a MIDI system: the parser, the router, and the server on a fake port."""

from __future__ import annotations

import multiprocessing as mp
import threading

import pytest

from engine import protocol as P
from engine.io.midi_in import MAX_QUEUE, MidiInput, open_midi_inputs
from engine.io.midi_routes import MidiParser, MidiRouter, parse_address
from engine.model.network import ModelError, Network
from engine.runtime.clock import Clock
from engine.runtime.loop import Engine
from engine.runtime.midi_clock import START, STOP, TICK, ClockOut
from tests.engine.fakes import FakeIn, RecordingOut


def test_parser_running_status_sysex_realtime_and_garbage():
    p = MidiParser()
    assert p.feed([0x90, 60, 100, 61, 90, 62, 0]) == [
        ("note_on", 1, 60, 100, False),
        ("note_on", 1, 61, 90, True),
        ("note_off", 1, 62, 0, True),
    ]
    assert p.feed([63, 80]) == [("note_on", 1, 63, 80, True)]  # across packets
    assert p.feed([0xF0, 1, 0xF8, 2]) == [("realtime", 0, 0xF8, 0, False)]
    assert p.feed([3, 0xF7]) == [("sysex", 0, 0, 0, False)]  # SysEx across packets
    assert p.feed([60, 1]) == [("malformed", 0, 60, 0, False), ("malformed", 0, 1, 0, False)]
    assert p.feed([0xBF, 74]) == [("malformed", 0, 0, 0, False)]  # cut off
    assert p.feed([0xC2, 5, 0xE0, 0, 64, 0xF2, 1, 2, 0xF6]) == [
        ("other", 3, 5, 0, False),
        ("other", 1, 0, 64, False),
        ("system", 0, 0xF2, 0, False),
        ("system", 0, 0xF6, 0, False),
    ]
    assert p.feed([0xF0, 1, 2, 0x91, 40, 1]) == [
        ("sysex", 0, 0, 0, False),
        ("note_on", 2, 40, 1, False),
    ]


@pytest.mark.parametrize(
    "source,address,ok",
    [
        ("cc", "1/74", (1, 74)),
        ("cc", "0/1", (0, 1)),
        ("note", "10", (10, None)),
        ("note", "10/36", (10, 36)),
        ("cc", "17/1", None),
        ("cc", "1", None),
        ("note", "1/128", None),
        ("cc", "a/b", None),
        ("note", "1/2/3", None),
    ],
)
def test_addresses(source, address, ok):
    if ok is None:
        with pytest.raises(ValueError):
            parse_address(source, address)
        with pytest.raises(ModelError):
            Network().apply(P.Map(source, address, "", "tempo", 60, 180))
    else:
        assert parse_address(source, address) == ok


def _net() -> Network:
    net = Network()
    net.apply(
        P.Batch(
            (
                P.DefineNeuron("keys", {"rate": 0.0, "mute": True}),
                P.Listen("keys", 1),
                P.DefineNeuron("n1", {"rate": 0.0}),
                P.Map("cc", "1/74", "n1", "rate", 0.25, 8.0, "exp"),
                P.Map("cc", "0/64", "n1", "fire"),
                P.Map("note", "2", "n1", "vel", 1, 127),
                P.Map("note", "0/36", "n1", "fire"),
                P.Map("cc", "3/7", "", "tempo", 60, 180),
            )
        )
    )
    return net


def test_router_scales_controls_and_fires_on_the_rise():
    r = MidiRouter(_net())
    assert r.cc_params(1, 74, 127) == [P.SetParam("n1", "rate", 8.0)]
    assert r.cc_params(1, 74, 0) == [P.SetParam("n1", "rate", 0.25)]
    assert r.cc_params(2, 74, 0) == [] and r.cc_maps(2, 74) == []
    assert r.cc_params(3, 7, 127) == [P.Tempo(180.0)]
    assert r.cc_fires(9, 64, 127) == ([P.Fire("n1")], True)
    assert r.cc_fires(9, 64, 100) == ([], True)  # still held: no second press
    assert r.cc_fires(9, 64, 0) == ([], True)
    assert r.cc_fires(9, 64, 64) == ([P.Fire("n1")], True)
    ops, heard = r.note_ops(1, 60, 100)
    assert ops == [P.NoteIn(1, 60, 100)] and heard == ["keys"]
    ops, heard = r.note_ops(2, 36, 127)
    assert ops == [P.SetParam("n1", "vel", 127), P.Fire("n1")] and heard == []
    assert r.note_ops(5, 37, 1) == ([], [])


class _Rig:
    """A real Engine on a recording port, a fake MIDI input, the loop driven by hand."""

    def __init__(self, net: Network) -> None:
        self.parent, child = mp.Pipe()
        self.out = RecordingOut()
        self.engine = Engine(child, self.out, net, Clock())
        self.port = FakeIn()
        self.input = MidiInput([self.port])
        self.input.attach(self.engine)

    def drain_all(self) -> None:
        while self.input._queue:
            self.input.drain()

    @property
    def counters(self) -> dict:
        return self.input.status()


def test_server_coalesces_ccs_in_order_with_notes_and_counts_everything():
    rig = _Rig(_net())
    rig.port.send([0xB0, 74, 0])
    rig.port.send([0xB0, 74, 127])  # supersedes the first within one drain
    rig.port.send([0x90, 60, 100, 61, 100])  # running status; applied after the CC
    rig.port.send([0xF0, 1, 2, 0xF7])
    rig.port.send([0x95, 60, 100])  # nobody listens on channel 6
    rig.port.send([0xB5, 1, 2])  # nothing mapped
    rig.port.send([0x80, 60, 0])
    rig.drain_all()
    net = rig.engine.net
    assert net.params("n1")["rate"] == 8.0
    c = rig.counters
    assert c["received"] == 8 and c["ccs"] == 3 and c["notes"] == 3
    assert c["coalesced"] == 1 and c["running_status"] == 1 and c["ignored"] == 1
    assert c["dropped"] == {"sysex": 1, "malformed": 0, "unmapped": 2, "overflow": 0, "refused": 0}
    assert rig.engine._fired.count("keys") == 2  # silent firings show in the activity


def test_flood_from_another_thread_overflows_counted_and_drains_in_slices():
    rig = _Rig(_net())

    def flood() -> None:
        for i in range(MAX_QUEUE + 500):
            rig.port.send([0xB0, 74, i % 128])

    t = threading.Thread(target=flood)
    t.start()
    t.join()
    assert rig.counters["dropped"]["overflow"] == 500
    rig.input.drain()  # one slice of at most DRAIN_SECONDS, then the loop plays what is due
    assert rig.counters["pending"] > 0
    rig.drain_all()
    c = rig.counters
    assert c["received"] == MAX_QUEUE and c["pending"] == 0
    assert rig.engine.net.params("n1")["rate"] == pytest.approx(
        0.25 * 32 ** ((MAX_QUEUE - 1) % 128 / 127)
    )


def test_open_midi_inputs_without_a_midi_system_says_so():
    ports, lines = open_midi_inputs("none", "livecode")
    assert ports == [] and lines == [("info", "MIDI in off, as MIDI out")]


def test_clock_out_on_a_recording_port():
    net = Network(tempo=120)
    parent, child = mp.Pipe()
    out = RecordingOut()
    sent: list[tuple[float, list[int]]] = []
    out.send_at = lambda data, t: sent.append((t, list(data)))  # type: ignore[method-assign]

    class Still(Clock):
        def now(self) -> float:
            return 0.0

    engine = Engine(child, out, net, Still())
    clock = ClockOut()
    clock.attach(engine)
    assert sent == [] and clock.next_time() == float("inf")
    engine.apply(P.Batch((P.MidiClock(True),)), 0.0)
    engine._advance(1.0)
    assert sent[0] == (0.0, [START])
    ticks = [t for t, d in sent if d == [TICK]]
    assert ticks == pytest.approx([k * 0.5 / 24 for k in range(49)])
    engine.apply(P.Batch((P.Tempo(60),)), 1.0)
    sent.clear()
    engine._advance(2.0)
    assert [t for t, _ in sent] == pytest.approx([1.0 + k / 24 for k in range(1, 25)])
    engine.apply(P.Batch((P.Stop(),)), 2.0)
    assert sent[-1] == (2.0, [STOP])
    assert clock.next_time() == float("inf")
