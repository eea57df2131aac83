"""Input neurons, follow links and the clock flag in the pure model (no I/O)."""

from __future__ import annotations

import pickle

import pytest

from engine import protocol as P
from engine.model.network import ModelError, Network, UnknownNeuron


def _net() -> Network:
    net = Network()
    net.apply(
        P.Batch(
            (
                P.DefineNeuron("keys", {"rate": 0.0, "mute": True}),
                P.Listen("keys", 1, 36, 72),
                P.DefineNeuron("n1", {"rate": 0.0, "note": 50, "vel": 80}),
                P.Connect("keys", "n1", 1.0),
                P.Follow("n1", "note", "keys", 7),
            )
        )
    )
    return net


def _ons(events):
    return [(e.neuron, e.ch, e.note, e.vel) for e in events if e.type == "note_on"]


def test_input_neuron_fires_on_matching_note_and_drives_target():
    net = _net()
    ev = net.apply(P.NoteIn(1, 60, 90), 1.0)
    assert _ons(ev) == [("n1", 1, 67, 80)]  # keys is muted; n1 fired in the same volley
    assert ev[0].t == 1.0
    assert net.listeners(1, 60) == ["keys"]


@pytest.mark.parametrize("ch,note", [(2, 60), (1, 35), (1, 73)])
def test_input_neuron_ignores_other_channels_and_notes(ch, note):
    net = _net()
    assert net.apply(P.NoteIn(ch, note, 90), 1.0) == []
    assert net.listeners(ch, note) == []


def test_any_channel_and_unmuted_input_plays_what_it_heard():
    net = Network()
    net.apply(P.Batch((P.DefineNeuron("keys", {"rate": 0.0, "ch": 3}), P.Listen("keys"))))
    assert _ons(net.apply(P.NoteIn(9, 40, 33), 0.5)) == [("keys", 3, 40, 33)]
    assert _ons(net.apply(P.NoteIn(1, 41, 34), 0.6)) == [("keys", 3, 41, 34)]


def test_follow_tracks_last_note_between_firings_and_clamps():
    net = _net()
    net.apply(P.Batch((P.Disconnect("keys", "n1"), P.Follow("n1", "vel", "keys", -100))), 0.1)
    assert _ons(net.apply(P.Fire("n1"), 0.2)) == [("n1", 1, 50, 80)]  # nothing heard yet
    net.apply(P.NoteIn(1, 72, 120), 0.3)
    assert _ons(net.apply(P.Fire("n1"), 0.4)) == [("n1", 1, 79, 20)]
    net.apply(P.Follow("n1", "note", "keys", 127), 0.5)
    assert _ons(net.apply(P.Fire("n1"), 0.6)) == [("n1", 1, 127, 20)]  # clamped
    net.apply(P.Follow("n1", "vel", "keys", -127), 0.7)
    assert _ons(net.apply(P.Fire("n1"), 0.8)) == [("n1", 1, 127, 1)]


def test_setting_the_parameter_or_redefining_ends_the_follow():
    net = _net()
    net.apply(P.NoteIn(1, 60, 90), 1.0)
    net.apply(P.SetParam("n1", "rate", 2.0), 1.1)  # another parameter: still following
    assert _ons(net.apply(P.Fire("n1"), 1.2)) == [("n1", 1, 67, 80)]
    net.apply(P.SetParam("n1", "note", 55), 1.3)
    assert net.follows() == {}
    assert _ons(net.apply(P.Fire("n1"), 1.4)) == [("n1", 1, 55, 80)]
    net.apply(P.Follow("n1", "note", "keys", 0), 1.5)
    assert _ons(net.apply(P.Fire("n1"), 1.6)) == [("n1", 1, 60, 80)]
    net.apply(P.DefineNeuron("n1", {"rate": 0.0, "note": 52}), 1.7)
    assert net.follows() == {}
    assert _ons(net.apply(P.Fire("n1"), 1.8)) == [("n1", 1, 52, 100)]


def test_removing_the_source_or_stopping_listening_drops_links():
    net = _net()
    net.apply(P.NoteIn(1, 60, 90), 1.0)
    net.apply(P.Listen("keys", on=False), 1.1)
    assert net.inputs() == {} and net.follows() == {}
    assert _ons(net.apply(P.NoteIn(1, 60, 90), 1.2)) == []
    assert _ons(net.apply(P.Fire("n1"), 1.3)) == [("n1", 1, 50, 80)]
    net = _net()
    net.apply(P.Remove("keys"), 1.0)
    assert net.inputs() == {} and net.follows() == {}
    net = _net()
    net.apply(P.Clear(), 1.0)
    assert net.inputs() == {} and net.follows() == {}


def test_stopped_network_hears_but_does_not_fire():
    net = _net()
    net.apply(P.Stop(), 0.5)
    assert net.apply(P.NoteIn(1, 60, 90), 1.0) == []
    net.apply(P.Start(), 1.5)
    assert _ons(net.apply(P.Fire("n1"), 1.6)) == [("n1", 1, 67, 80)]


def test_snapshot_restore_keeps_inputs_follows_heard_and_clock():
    net = _net()
    net.apply(P.Batch((P.NoteIn(1, 62, 90), P.MidiClock(True))), 1.0)
    snap = pickle.loads(pickle.dumps(net.snapshot()))
    assert snap["clock"] is True and snap["heard"] == {"keys": [62, 90]}
    other = Network()
    other.restore(snap)
    assert other.clock_out and other.inputs() == {"keys": (1, 36, 72)}
    assert other.snapshot()["neurons"]["n1"]["params"]["note"] == 50  # the parameter stays
    assert _ons(other.apply(P.Fire("n1"), 2.0)) == [("n1", 1, 69, 80)]
    assert _ons(other.apply(P.NoteIn(1, 40, 90), 2.1)) == [("n1", 1, 47, 80)]


def test_input_neuron_never_fires_on_its_own():
    net = _net()
    assert net.advance(100.0) == []
    assert net.activation("keys") == 0.0


@pytest.mark.parametrize(
    "op,message",
    [
        (P.Listen("keys", 17), "ch must be a whole number 0..16"),
        (P.Listen("keys", 1, 70, 60), "range lo..hi is empty"),
        (P.Listen("nobody"), "no neuron named 'nobody'"),
        (P.Follow("n1", "rate", "keys"), "follow drives note or vel"),
        (P.Follow("n1", "note", "keys", 200), "by must be a whole number -127..127"),
        (P.NoteIn(0, 60, 90), "ch must be a whole number 1..16"),
        (P.NoteIn(1, 60, 0), "vel must be a whole number 1..127"),
        (P.MidiClock("yes"), "on must be True or False"),  # type: ignore[arg-type]
    ],
)
def test_bad_ops_are_refused_whole(op, message):
    net = _net()
    before = pickle.dumps(net.snapshot())
    with pytest.raises((ModelError, UnknownNeuron), match=message):
        net.apply(P.Batch((P.Listen("n1"), op)))
    assert pickle.dumps(net.snapshot()) == before


def test_sec_at_follows_the_tempo_map():
    net = Network(tempo=120)
    assert net.sec_at(4.0) == 2.0
    net.advance(1.0)
    net.apply(P.Tempo(60), 1.0)
    assert net.sec_at(3.0) == 2.0  # beat 2 at 1 s, then one beat a second
