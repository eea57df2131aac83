"""Values that would make a neuron fire without end are bounded, not a hang."""

from __future__ import annotations

from engine.model.network import MIN_INTERVAL, Network
from engine.protocol import Batch, Connect, DefineNeuron, SetParam


def ons(events):
    return [e for e in events if e.type == "note_on"]


def test_a_huge_rate_fires_at_most_once_per_min_interval():
    net = Network()
    net.apply(Batch((DefineNeuron("a", {"note": 60, "dur": 0.001}),)), 0.0)
    # The fastest the ranges allow: a period of 1e-10 beats.
    net.apply(Batch((SetParam("a", "rate", 10000.0), SetParam("a", "thr", 1e-6))), 0.0)
    events = ons(net.advance(1.0))  # two beats at 120 BPM
    assert 0 < len(events) <= 2 / MIN_INTERVAL + 2
    gaps = [b.beat - a.beat for a, b in zip(events, events[1:], strict=False)]
    assert min(gaps) >= MIN_INTERVAL - 1e-12


def test_a_loop_of_near_zero_delays_is_bounded():
    net = Network()
    net.apply(
        Batch(
            (
                DefineNeuron("a", {"rate": 1.0}),
                DefineNeuron("b", {"rate": 0.0}),
                Connect("a", "b", 2.0, delay=1e-300),
                Connect("b", "a", 2.0, delay=1e-300),
            )
        ),
        0.0,
    )
    events = ons(net.advance(2.0))
    assert len(events) <= 2 * (4 / MIN_INTERVAL + 2)
    for name in "ab":
        beats = [e.beat for e in events if e.neuron == name]
        assert all(y - x >= MIN_INTERVAL - 1e-12 for x, y in zip(beats, beats[1:], strict=False))


def test_ordinary_neurons_keep_their_exact_times():
    net = Network()
    net.apply(Batch((DefineNeuron("a", {"rate": 4.0}),)), 0.0)
    beats = [e.beat for e in ons(net.advance(2.0))]
    assert beats == [0.25 * k for k in range(1, len(beats) + 1)]


def test_cont_coupled_neurons_with_a_huge_rate_are_refused_up_front():
    import pytest

    from engine.model.network import ModelError

    net = Network()
    net.apply(
        Batch((DefineNeuron("a", {}), DefineNeuron("b", {}), Connect("a", "b", 0.1, kind="cont"))),
        0.0,
    )
    with pytest.raises(ModelError, match="rate"):
        net.apply(Batch((SetParam("b", "rate", 1e300),)), 0.0)
