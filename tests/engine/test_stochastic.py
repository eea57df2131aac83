"""Parameter processes in the model: walks, weighted choices, Markov chains (trained and
learning) and jitter, stepped once per firing with the seeded random state."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from engine import protocol as P
from engine.model.network import Network

# "Frère Jacques" (traditional), its first two phrases twice: a tune no one here wrote
TUNE = [60, 62, 64, 60, 60, 62, 64, 60, 64, 65, 67, 64, 65, 67]
TUNE_TABLE = (
    ((60,), ((62, 2), (60, 1), (64, 1))),
    ((62,), ((64, 2),)),
    ((64,), ((60, 2), (65, 2))),
    ((65,), ((67, 2),)),
    ((67,), ((64, 1), (60, 1))),
)


def ons(events, name: str | None = None) -> list:
    return [e for e in events if e.type == "note_on" and (name is None or e.neuron == name)]


def run(ops, firings: int, seed: int = 1, rate: float = 8.0) -> list:
    """The note-ons of ``firings`` firings of ``n`` (rate 8 beats⁻¹ at 120 bpm)."""
    net = Network(seed=seed)
    net.apply(P.Batch((P.DefineNeuron("n", {"rate": rate, "dur": 0.01}), *ops)))
    out = net.advance(3 * firings / rate / 2.0 + 0.01)  # room for jitter rests
    got = ons(out, "n")
    assert len(got) >= firings
    return got[:firings]


def within(observed: int, n: int, p: float, sigmas: float = 4.5) -> bool:
    """``observed`` successes of ``n`` draws agree with probability ``p`` (binomial)."""
    return abs(observed - n * p) <= sigmas * math.sqrt(n * p * (1 - p)) + 1


def test_a_walk_stays_in_bounds_and_steps_as_asked():
    got = run([P.Walk("n", "vel", 20, 110, 5)], 10_000)
    vels = [e.vel for e in got]
    assert min(vels) >= 20 and max(vels) <= 110
    assert min(vels) == 20 and max(vels) == 110  # it reaches both bounds and turns back
    steps = Counter(b - a for a, b in zip(vels, vels[1:], strict=False))
    assert set(steps) == {-5, 5}
    assert within(steps[5], sum(steps.values()), 0.5)


def test_a_walk_on_rate_moves_the_exact_spike_times():
    net = Network(seed=4)
    net.apply(P.Batch((P.DefineNeuron("n", {"rate": 2.0}), P.Walk("n", "rate", 1.0, 4.0, 0.25))))
    beats = [e.beat for e in ons(net.advance(3000.0), "n")]
    rates = [
        1.0 / (b - a) for a, b in zip(beats, beats[1:], strict=False)
    ]  # thr 1: the rate drawn at a
    assert len(rates) > 10_000
    assert all(1.0 - 1e-9 <= r <= 4.0 + 1e-9 for r in rates)
    steps = [b - a for a, b in zip(rates, rates[1:], strict=False)]
    assert all(abs(abs(s) - 0.25) < 1e-6 for s in steps)  # exact intervals, not a grid
    assert within(sum(s > 0 for s in steps), len(steps), 0.5)


def test_choose_draws_values_with_their_weights():
    got = Counter(e.vel for e in run([P.Choose("n", "vel", (60, 90, 120), (1, 2, 1))], 10_000))
    assert set(got) == {60, 90, 120}
    for vel, p in ((60, 0.25), (90, 0.5), (120, 0.25)):
        assert within(got[vel], 10_000, p), got


def test_a_trained_chain_reproduces_its_transition_frequencies():
    op = P.Markov("n", "note", 1, TUNE_TABLE, (60,))
    notes = [e.note for e in run([op], 10_001)]
    pairs = Counter(zip(notes, notes[1:], strict=False))
    froms = Counter(notes[:-1])
    for ctx, row in TUNE_TABLE:
        total = sum(c for _, c in row)
        for nxt, c in row:
            assert within(pairs[(ctx[0], nxt)], froms[ctx[0]], c / total), (ctx, nxt)
    # nothing the tune never does
    allowed = {(ctx[0], nxt) for ctx, row in TUNE_TABLE for nxt, _ in row}
    assert set(pairs) <= allowed


def test_same_seed_same_notes_another_seed_others():
    ops = [
        P.Markov("n", "note", 1, TUNE_TABLE, (60,)),
        P.Choose("n", "vel", (60, 90, 120)),
        P.Walk("n", "dur", 0.05, 0.5, 0.05),
        P.SetParam("n", "jitter", 0.1),
    ]

    def played(seed):
        return [(e.t, e.note, e.vel) for e in run(ops, 500, seed)]

    assert played(3) == played(3)
    assert played(3) != played(4)


def test_jitter_adds_a_seeded_rest_bounded_at_eight_times_its_mean():
    net = Network(seed=2)
    net.apply(P.Batch((P.DefineNeuron("n", {"rate": 4.0, "jitter": 0.1}),)))
    beats = [e.beat for e in ons(net.advance(1500.0), "n")]
    rests = [b - a - 0.25 for a, b in zip(beats, beats[1:], strict=False)]
    assert len(rests) > 5000
    assert min(rests) >= -1e-9 and max(rests) <= 0.8 + 1e-9
    mean = sum(rests) / len(rests)
    assert abs(mean - 0.1) < 4.5 * 0.1 / math.sqrt(len(rests))  # exponential: sd = mean


def test_setting_the_parameter_or_following_ends_a_process():
    net = Network(seed=1)
    net.apply(P.Batch((P.DefineNeuron("n", {"rate": 8.0}), P.Choose("n", "note", (70, 72)))))
    assert {e.note for e in ons(net.advance(2.0))} == {70, 72}
    net.apply(P.SetParam("n", "note", 40))
    assert {e.note for e in ons(net.advance(4.0))} == {40}
    assert net.state.sources == {}
    net.apply(P.Batch((P.DefineNeuron("k", {"rate": 0.0}), P.Listen("k", 1))))
    net.apply(P.Choose("n", "note", (70, 72)))
    net.apply(P.Follow("n", "note", "k"))
    assert net.state.sources == {}


def learner(memory: int = 512, order: int = 1) -> Network:
    net = Network(seed=5)
    net.apply(
        P.Batch(
            (
                P.DefineNeuron("keys", {"rate": 0.0, "mute": True}),
                P.Listen("keys", 1),
                P.DefineNeuron("echo", {"note": 30, "rate": 8.0, "dur": 0.01}),
                P.Markov("echo", "note", order, src="keys", memory=memory),
            )
        )
    )
    return net


def play(net: Network, notes: list[int]) -> None:
    for note in notes:
        net.apply(P.NoteIn(1, note, 100))
        net.advance(net.now + 0.01)


def test_a_learning_chain_answers_in_what_it_heard():
    net = learner()
    assert {e.note for e in ons(net.advance(1.0), "echo")} == {30}  # nothing learned yet
    play(net, [48, 52, 55, 52, 48, 55, 60])
    answer = [e.note for e in ons(net.advance(net.now + 10.0), "echo")]
    assert len(answer) > 100 and set(answer) <= {48, 52, 55, 60}
    pairs = set(zip(answer, answer[1:], strict=False))
    heard = {(48, 52), (52, 55), (55, 52), (52, 48), (48, 55), (55, 60)}
    # a transition it never heard only where it ran into a dead end (60 was never followed)
    assert {p for p in pairs if p[0] != 60} <= heard
    assert "learned 6 transitions over 4 values" in net.drawn()["echo.note"]


def test_learning_keeps_only_the_newest_transitions():
    net = learner(memory=4)
    play(net, [40, 41, 42, 43, 44, 60, 62, 60, 62])
    answer = {e.note for e in ons(net.advance(net.now + 5.0), "echo")}
    assert answer <= {44, 60, 62}  # the first phrase is forgotten
    assert net.drawn()["echo.note"].startswith("learned 4 transitions")


def test_what_a_chain_learned_survives_a_snapshot_and_a_resent_op():
    net = learner()
    play(net, [48, 52, 55, 52])
    snap = net.snapshot()
    other = Network(seed=9)
    other.restore(snap)
    assert other.drawn() == net.drawn()
    a = [(e.t, e.note) for e in ons(net.advance(net.now + 5.0))]
    b = [(e.t, e.note) for e in ons(other.advance(other.now + 5.0))]
    assert a == b and a
    # a session file re-applied sends the same op again: the chain keeps what it learned
    other.apply(P.Markov("echo", "note", 1, src="keys"))
    assert other.drawn()["echo.note"].startswith("learned 3 transitions")


@pytest.mark.parametrize(
    "op, message",
    [
        (P.Walk("n", "vel", 20, 10, 1), "range lo..hi is empty"),
        (P.Walk("n", "thr", 1, 2, 0.1), "a process draws"),
        (P.Walk("n", "rate", 1, 2, 0), "step must be above 0"),
        (P.Choose("n", "vel", (60, 300)), "vel must be in range"),
        (P.Choose("n", "vel", (60, 90), (1, -1)), "weights must be >= 0"),
        (P.Markov("n", "note", 1), "needs a table"),
        (P.Markov("n", "note", 2, TUNE_TABLE, (60,)), "each context holds 2 values"),
        (P.Markov("n", "note", 1, ((("x",), ((60, 1),)),), (60,)), "a chain's table"),
        (P.Markov("n", "dur", 1, src="n"), "learns notes or velocities"),
        (P.Markov("n", "note", 1, "garbage", (60,)), "table must be"),
    ],
)
def test_bad_processes_are_refused_and_change_nothing(op, message):
    net = Network(seed=1)
    net.apply(P.DefineNeuron("n", {"rate": 8.0}))
    before = net.snapshot()
    with pytest.raises(P.EngineError, match=message):
        net.apply(op)
    assert net.snapshot() == before


@pytest.mark.parametrize(
    "garbage",
    [
        {"ctx": [48], "heard": [], "window": [[48, "rm -rf"]], "last": None},
        {"ctx": [48], "heard": [], "window": [[48, 52, 55]], "last": None},
        {"ctx": [48], "heard": [float("nan")], "window": [], "last": None},
        {"ctx": [48], "heard": [], "window": 5, "last": None},
    ],
)
def test_a_snapshot_with_a_bad_learned_state_is_refused_before_anything_changes(garbage):
    net = learner()
    play(net, [48, 52, 55])
    snap = net.snapshot()
    snap["drawn"][0]["state"] = garbage
    other = learner()
    before = other.snapshot()
    with pytest.raises((ValueError, TypeError)):
        other.restore(snap)
    assert other.snapshot() == before
