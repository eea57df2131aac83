"""Connections with several taps: one pulse per tap, exact, across the model, the language,
save, OSC and recordings."""

from __future__ import annotations

import json

import pytest

from engine import protocol as P
from engine.io.osc_routes import Drop, Router
from engine.model.network import Network
from engine.model.state import NetState
from engine.record.recorder import ops_from_json, ops_to_json
from livecode.language.errors import BadValue
from livecode.language.interpreter import Interpreter
from livecode.language.session_text import listing, session_text

CLOCK = P.DefineNeuron("bar", {"thr": 4.0, "phase": 1.0, "mute": True})
HAT = P.DefineNeuron("hat", {"rate": 0.0, "note": 42})


def _onsets(net: Network, beats: float) -> list[float]:
    out = net.advance(beats * 60.0 / net.tempo)
    return [e.beat for e in out if e.type == "note_on" and e.neuron == "hat"]


def test_each_tap_delivers_its_own_pulse_at_its_exact_time():
    net = Network()
    first = net.apply(P.Batch((CLOCK, HAT, P.Connect("bar", "hat", 1.0, (0.0, 0.75, 2.5)))))
    got = [e.beat for e in first if e.type == "note_on"] + _onsets(net, 4 * 64)
    want = [bar * 4 + d for bar in range(64) for d in (0.0, 0.75, 2.5)] + [256.0]
    assert len(got) == len(want)
    assert max(abs(a - b) for a, b in zip(got, want, strict=True)) < 1e-9


def test_taps_weights_add_up_where_pulses_meet():
    # two taps of 0.6 reach the hat 0.5 beats apart: only the second one crosses
    net = Network()
    net.apply(P.Batch((CLOCK, HAT, P.Connect("bar", "hat", [0.6, 0.6], [1.0, 1.5]))))
    assert _onsets(net, 8) == [1.5, 5.5]


def test_taps_are_normalised_sorted_and_checked():
    c = P.Connect("a", "b", [0.2, 0.3], [1.5, 0.5]).check({"a", "b"})
    assert (c.w, c.delay) == ((0.3, 0.2), (0.5, 1.5))
    assert P.Connect("a", "b", 0.4, [0.5, 1.0]).check({"a", "b"}).w == (0.4, 0.4)
    assert P.Connect("a", "b", [0.4], [0.5]).check({"a", "b"}).delay == 0.5
    for w, delay, kind, why in [
        ([0.1, 0.2], 0.5, "pulse", "list of delays"),
        ([0.1, 0.2], [0.5], "pulse", "one weight per tap"),
        (0.1, [0.5, 0.5], "pulse", "distinct"),
        (0.1, [0.5, -1.0], "pulse", ">= 0"),
        (0.1, [0.5, 1.0], "cont", "pulse"),
        (0.1, [0.5, float("nan")], "pulse", "finite"),
        (0.1, list(range(65)), "pulse", "1..64 taps"),
    ]:
        with pytest.raises(P.EngineError, match=why):
            P.Connect("a", "b", w, delay, kind).check({"a", "b"})


def test_snapshot_json_and_recording_keep_the_taps():
    net = Network()
    net.apply(P.Batch((CLOCK, HAT, P.Connect("bar", "hat", [0.3, 1.1], [0.25, 3.0]))))
    snap = json.loads(json.dumps(net.snapshot()))
    back = NetState.from_snapshot(snap)
    assert back.connections == net.state.connections
    assert back.connections[("bar", "hat")].taps == ((0.3, 0.25), (1.1, 3.0))
    ops = ops_from_json(ops_to_json([P.Connect("bar", "hat", (0.3, 1.1), (0.25, 3.0))]))
    again = Network()
    again.apply(P.Batch((CLOCK, HAT, *ops)))
    assert again.state.connections == net.state.connections


def test_language_connect_with_lists_saves_and_loads_the_same_network():
    it = Interpreter()
    it.run(
        "bar = neuron(thr=4, phase=1, mute=True); hat = neuron(42, rate=0)\n"
        "connect(bar, hat, [0.6, 1.2], delay=[0.5, 2.25])"
    )
    text = session_text(it.mirror)
    assert "connect(bar, hat, [0.6, 1.2], delay=[0.5, 2.25])" in text
    assert "bar >> hat @ [0.6, 1.2] delay=[0.5, 2.25]" in listing(it.mirror)
    again = Interpreter()
    again.run(text)
    assert again.mirror.connections == it.mirror.connections
    with pytest.raises(BadValue, match="one weight per tap"):
        it.run("connect(bar, hat, [0.6, 1.2, 3], delay=[0.5, 2.25])")
    assert it.mirror.connections[("bar", "hat")].w == (0.6, 1.2)  # the error changed nothing


def test_osc_sets_every_tap_or_each_tap():
    net = Network()
    net.apply(P.Batch((CLOCK, HAT, P.Connect("bar", "hat", [0.3, 1.1], [0.25, 3.0]))))
    router = Router(net)
    (one,) = router.ops("/conn/bar/hat/w", [0.7])
    (each,) = router.ops("/conn/bar/hat/w", [0.2, 0.9])
    net.apply(one)
    assert net.connection("bar", "hat").w == (0.7, 0.7)
    net.apply(each)
    assert net.connection("bar", "hat").taps == ((0.2, 0.25), (0.9, 3.0))
    with pytest.raises(Drop, match="1 or 2 numbers"):
        router.ops("/conn/bar/hat/w", [0.1, 0.2, 0.3])
