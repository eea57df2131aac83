"""The one state machine: every op type through the engine's network, the performer's
picture and the one snapshot <-> ops translation, with the same result."""

from __future__ import annotations

import pytest

from engine import protocol as P
from engine.model.network import Network
from engine.model.state import NetState, snapshot_ops

BASE = (
    P.DefineNeuron("a", {"note": 36, "rate": 2.0}),
    P.DefineNeuron("b", {"note": [60, 64, 67], "rate": 1.5, "leak": 0.5, "phase": 0.3}),
    P.DefineNeuron("c", {"note": 42, "ch": 10, "rate": 3.0, "prob": 0.5}),
    P.Connect("a", "b", 0.4, 0.0),
    P.Connect("b", "c", -0.3, 0.25),
)

# For each op type, a batch that uses it on BASE. A new op type without a case here fails
# test_every_op_type_has_a_round_trip_case.
CASES: dict[str, tuple[P.Op, ...]] = {
    "DefineNeuron": (P.DefineNeuron("d", {"note": "F#3", "thr": 1.5}),),
    "SetParam": (P.SetParam("a", "rate", 4.0), P.SetParam("b", "note", [50, 52])),
    "Connect": (
        P.Connect("c", "a", 0.2, 0.5),
        P.Connect("a", "c", 0.1, 0.0, "cont"),
        P.Connect("c", "b", [0.2, 0.3], [0.5, 0.25]),
    ),
    "Disconnect": (P.Disconnect("a", "b"),),
    "Remove": (P.Remove("b"),),
    "Tempo": (P.Tempo(97.5),),
    "Mute": (P.Mute("c", True),),
    "Solo": (P.Solo("a", True), P.Solo("c", True), P.Solo("a", False)),
    "Fire": (P.Fire("c"),),
    "Reset": (P.Reset("b"),),
    "Stop": (P.Stop(),),
    "Start": (P.Stop(), P.Start()),
    "Panic": (P.Panic(),),
    "Clear": (P.Clear(), P.DefineNeuron("z", {"note": 70})),
    "Map": (
        P.Map("osc", "/1/fader1", "a", "thr", 0.5, 2.0),
        P.Map("cc", "1/74", "b", "rate", 0.1, 4.0, "exp"),
        P.Map("note", "10/36", "c", "fire"),
        P.Map("osc", "/tempo", "", "tempo", 60.0, 180.0),
    ),
    "Unmap": (P.Map("osc", "/1/fader1", "a", "thr"), P.Unmap("osc", "/1/fader1")),
    "Listen": (P.Listen("a", 1, 30, 90), P.Listen("c", 0, 0, 127), P.Listen("c", on=False)),
    "Follow": (P.Listen("a", 1), P.Follow("b", "note", "a", 12), P.Follow("c", "vel", "a", -10)),
    "NoteIn": (P.Listen("a", 1), P.Follow("b", "note", "a", 7), P.NoteIn(1, 48, 90)),
    "MidiClock": (P.MidiClock(True),),
    "Link": (P.ClockIn("TR-8"), P.Link(True, 3.0, True)),  # one authority: Link ends clock in
    "ClockIn": (P.Link(True), P.ClockIn("TR-8", 2.0)),
    "Program": (P.Program(2, "Fingered Bass"), P.Program(10, 26), P.Program(2, 39)),
    "Mix": (P.Mix(2, 90), P.Mix(3, pan=-0.5), P.Mix(2, pan=1.0), P.Mix(2, volume=0)),
    "Walk": (P.Walk("a", "rate", 1.0, 4.0, 0.25, call="walk(1, 4, step=0.25)"),),
    "Choose": (P.Choose("c", "vel", (60, 90, 120), (1, 2, 1)), P.Choose("b", "note", ("C4", 62))),
    "Markov": (
        P.Markov(
            "a",
            "note",
            1,
            (((36,), ((38, 2), (43, 1))), ((38,), ((36, 1),)), ((43,), ((36, 1),))),
            (36,),
        ),
        P.Listen("c", 1),
        P.Markov("b", "vel", 2, src="c", memory=4),
        P.NoteIn(1, 48, 90),
        P.NoteIn(1, 50, 70),
        P.NoteIn(1, 52, 80),
    ),
}


def test_every_op_type_has_a_round_trip_case():
    assert set(CASES) == set(P.OPS), "add a case for each op type in engine.model.ops"


def _played(name: str) -> Network:
    net = Network(seed=3)
    net.apply(P.Batch(BASE))
    net.advance(0.7)
    net.apply(P.Batch(CASES[name]))
    net.advance(1.9)
    return net


@pytest.mark.parametrize("name", sorted(CASES))
def test_snapshot_to_ops_to_snapshot_keeps_the_network(name):
    net = _played(name)
    snap = net.snapshot()
    rebuilt = Network(seed=3)
    rebuilt.apply(P.Batch(tuple(NetState.from_snapshot(snap).to_ops())))
    assert NetState.from_snapshot(rebuilt.snapshot()) == NetState.from_snapshot(snap)
    assert rebuilt.state == net.state


@pytest.mark.parametrize("name", sorted(CASES))
def test_restore_gives_back_the_same_snapshot(name):
    snap = _played(name).snapshot()
    other = Network(seed=99)
    other.restore(snap)
    assert other.snapshot() == snap


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_performers_picture_follows_the_same_rules(name):
    picture = NetState()
    for op in BASE + CASES[name]:
        picture.apply(op)
    assert picture == _played(name).state


@pytest.mark.parametrize("name", sorted(CASES))
def test_live_replay_ops_rebuild_the_structure_in_a_running_engine(name):
    snap = _played(name).snapshot()
    engine = Network(seed=5)
    engine.apply(P.Batch((P.DefineNeuron("old", {}), P.Listen("old"))))
    engine.advance(0.5)
    engine.apply(P.Batch(snapshot_ops(snap)))
    # live replay carries activations as starting phases; everything else is the same
    assert _without_phase(engine.state) == _without_phase(NetState.from_snapshot(snap))
    for name_, d in snap["neurons"].items():
        assert engine.activation(name_) == pytest.approx(min(max(d["a"], 0.0), d["params"]["thr"]))


def _without_phase(state: NetState) -> NetState:
    out = state.copy()
    for params in out.neurons.values():
        del params["phase"]
    return out
