"""The network model against closed-form spike times and known behaviours (pulse path)."""

from __future__ import annotations

import math
import pickle

import pytest

from engine import protocol as P
from engine.model.network import ModelError, Network, UnknownNeuron

US = 1e-6  # one microsecond


def net_with(*ops, tempo: float = 120.0, seed: int = 0) -> Network:
    net = Network(seed=seed, tempo=tempo)
    net.apply(P.Batch(tuple(ops)))
    return net


def ons(events, neuron=None):
    return [e.t for e in events if e.type == "note_on" and (neuron is None or e.neuron == neuron)]


def N(name, **params):  # noqa: N802 - reads like the DSL
    return P.DefineNeuron(name, params)


def close(xs, ys, tol=US):
    assert len(xs) == len(ys), (xs, ys)
    for x, y in zip(xs, ys, strict=True):
        assert abs(x - y) <= tol, (xs, ys)


# -- single neurons -----------------------------------------------------------------------


def test_linear_rise_period_is_thr_over_rate():
    net = net_with(N("a", thr=1.5, rate=2.0))  # 0.75 beats = 0.375 s at 120 BPM
    close(ons(net.advance(2.0)), [0.375 * k for k in range(1, 6)])


def test_leak_matches_closed_form():
    rate, leak, thr = 2.0, 0.5, 1.0
    big_a = rate / leak
    period = math.log(big_a / (big_a - thr)) / leak  # beats, from a = 0
    net = net_with(N("a", rate=rate, leak=leak, thr=thr))
    close(ons(net.advance(5.0)), [0.5 * period * k for k in range(1, int(10 / period) + 1)])


def test_leak_that_never_reaches_threshold_never_fires():
    net = net_with(N("a", rate=1.0, leak=2.0))  # A = 0.5 < thr
    assert net.advance(100.0) == []
    assert net.next_time() == math.inf
    assert net.activation("a") == pytest.approx(0.5)


def test_phase_sets_starting_activation():
    net = net_with(N("a", rate=1.0, phase=0.25))
    close(ons(net.advance(1.0)), [0.375, 0.875])


def test_refractory_holds_activation_at_zero():
    net = net_with(N("a", rate=1.0, refr=0.5))  # fires at 1, 2.5, 4 beats
    close(ons(net.advance(2.0)), [0.5, 1.25, 2.0])


def test_note_off_after_dur_beats_and_event_fields():
    net = net_with(N("a", rate=1.0, dur=0.5, note="F#3", ch=10, vel=77))
    ev = net.advance(0.75)
    assert [(e.type, e.ch, e.note, e.vel, e.neuron) for e in ev] == [
        ("note_on", 10, 54, 77, "a"),
        ("note_off", 10, 54, 0, "a"),
    ]
    close([e.t for e in ev], [0.5, 0.75])
    assert ev[0].beat == pytest.approx(1.0)


def test_note_list_cycles_one_step_per_firing():
    net = net_with(N("a", rate=1.0, note=[36, "D2", 43]))
    assert [e.note for e in net.advance(3.0) if e.type == "note_on"] == [36, 38, 43, 36, 38, 43]


def test_same_note_retrigger_sends_note_off_first():
    net = net_with(N("a", rate=1.0, dur=4.0), N("b", rate=1.0, phase=0.5, dur=4.0))
    ev = net.advance(0.5)
    assert [(e.type, e.neuron) for e in ev] == [
        ("note_on", "b"),
        ("note_off", "b"),
        ("note_on", "a"),
    ]
    assert ev[1].t == ev[2].t
    assert net.sounding() == [(1, 60)]
    # b's old note-off (beat 4.5) was cancelled: only a's note-off at beat 5 remains
    later = [e for e in net.advance(10.0) if e.type == "note_off"]
    assert later and later[0].neuron in ("a", "b") and later[0].t == pytest.approx(0.75)


# -- pulses -------------------------------------------------------------------------------


def test_pulse_coupling_advances_target():
    net = net_with(N("a", rate=2.0), N("b", rate=1.0), P.Connect("a", "b", 0.3))
    # a fires at 0.5 beat; b: 0.5 + 0.3 = 0.8 then +0.2 -> fires at 0.7 beat
    close(ons(net.advance(0.36), "b"), [0.35])


def test_delayed_pulse_arrives_after_delay():
    net = net_with(N("a", rate=2.0), N("b", rate=0.5), P.Connect("a", "b", 0.5, delay=0.25))
    # a fires at 0.5; pulse at 0.75 beats: b = 0.375 + 0.5 = 0.875 -> fires at 0.75 + 0.25
    close(ons(net.advance(0.55), "b"), [0.5])


def test_inhibitory_pulse_is_clamped_at_floor():
    net = net_with(
        N("a", rate=0.1, phase=0.95), N("b", rate=0.5, floor=-0.2), P.Connect("a", "b", -5.0)
    )
    net.advance(0.25)  # a fires at beat 0.5, b = 0.25 - 5 -> clamped to -0.2
    assert net.activation("b") == pytest.approx(-0.2)
    close(ons(net.advance(2.0), "b"), [(0.5 + 1.2 / 0.5) / 2])  # beat 0.5 + 2.4


def test_pulse_into_refractory_neuron_is_ignored():
    net = net_with(
        N("a", rate=1.0, phase=0.5),
        N("b", rate=1.0, refr=1.0),
        P.Connect("a", "b", 0.9, delay=0.75),
    )
    # a fires at 0.5 beats; the pulse arrives at 1.25 while b (fired at 1) is refractory
    close(ons(net.advance(1.1), "b"), [0.5])
    assert net.activation("b") == pytest.approx(0.2)  # beat 2.2: rising again since 2


def test_volley_zero_delay_excitatory_loop_terminates_in_creation_order():
    net = net_with(
        N("c", rate=0.1),
        N("a", rate=1.0),
        N("b", rate=0.1),
        N("d", rate=0.1),
        P.Connect("a", "b", 2.0),
        P.Connect("a", "c", 2.0),
        P.Connect("b", "a", 2.0),
        P.Connect("c", "a", 2.0),
        P.Connect("b", "d", 2.0),
        P.Connect("a", "a", 2.0),
    )
    ev = net.advance(0.5)
    # round 1: a; round 2: c, b (creation order); round 3: d
    assert [e.neuron for e in ev if e.type == "note_on"] == ["a", "c", "b", "d"]
    assert len({e.t for e in ev}) == 1
    # everybody reset to 0: the next volley is a's, one beat later
    close(ons(net.advance(1.0)), [1.0] * 4)
    assert net.activation("c") == 0.0


def test_ties_fire_in_creation_order():
    net = net_with(N("z", rate=1.0), N("y", rate=1.0, note=61), N("x", rate=1.0, note=62))
    ev = [e for e in net.advance(0.5) if e.type == "note_on"]
    assert [e.neuron for e in ev] == ["z", "y", "x"]


def test_delayed_pulse_joins_volley_at_its_arrival():
    net = net_with(
        N("a", rate=1.0, phase=0.5),
        N("b", rate=1.0, phase=0.5),
        N("c", rate=0.0),
        P.Connect("a", "c", 0.6, delay=0.0),
        P.Connect("b", "c", 0.6, delay=0.0),
    )
    ev = [e for e in net.advance(0.25) if e.type == "note_on"]
    assert [e.neuron for e in ev] == ["a", "b", "c"]


def test_excitatory_pulses_synchronise_leaky_neurons():
    net = net_with(
        N("a", rate=1.2, leak=0.2),
        N("b", rate=1.2, leak=0.2, phase=0.4),
        P.Connect("a", "b", 0.2),
        P.Connect("b", "a", 0.2),
    )
    ev = net.advance(60.0)
    ta, tb = ons(ev, "a")[-5:], ons(ev, "b")[-5:]
    assert max(abs(x - y) for x, y in zip(ta, tb, strict=True)) < US


def test_inhibitory_pulses_push_leaky_neurons_to_anti_phase():
    net = net_with(
        N("a", rate=1.2, leak=0.2),
        N("b", rate=1.2, leak=0.2, phase=0.1),
        P.Connect("a", "b", -0.2),
        P.Connect("b", "a", -0.2),
    )
    ev = net.advance(120.0)
    ta, tb = ons(ev, "a"), ons(ev, "b")
    period = ta[-1] - ta[-2]
    assert abs((tb[-1] - ta[-1]) % period - period / 2) < 0.02 * period


# -- tempo, stop, randomness --------------------------------------------------------------


def test_tempo_change_keeps_activation_and_rescales_future():
    net = net_with(N("a", rate=1.0))
    net.advance(0.25)  # a = 0.5 at beat 0.5
    net.apply(P.Tempo(60.0))
    assert net.activation("a") == pytest.approx(0.5)
    close(ons(net.advance(3.0)), [0.25 + 0.5, 0.25 + 1.5, 0.25 + 2.5])
    assert net.beat == pytest.approx(0.5 + 2.75)


def test_stop_releases_freezes_and_start_resumes_same_beat():
    net = net_with(N("a", rate=1.0, dur=0.5))
    net.advance(0.6)  # fired at 0.5 s, note sounding
    ev = net.apply(P.Stop())
    assert [(e.type, e.t) for e in ev] == [("note_off", 0.6)]
    assert net.advance(10.0) == [] and net.next_time() == math.inf
    assert net.beat == pytest.approx(1.2)
    net.apply(P.Start())
    close(ons(net.advance(11.0)), [10.4, 10.9])


def test_prob_is_seeded_and_deterministic():
    def run(seed):
        net = net_with(N("a", rate=4.0, prob=0.5), N("b", rate=3.0, prob=0.3, note=62), seed=seed)
        return [(e.t, e.neuron, e.type) for e in net.advance(20.0)]

    assert run(1) == run(1)
    assert run(1) != run(2)
    n = len([x for x in run(1) if x[1] == "a" and x[2] == "note_on"])
    assert 40 < n < 120  # of 160 firings


def test_mute_and_solo_silence_but_keep_firing():
    net = net_with(N("a", rate=1.0, mute=True), N("b", rate=0.5, note=62), P.Connect("a", "b", 0.5))
    assert ons(net.advance(0.5)) == [0.5]  # muted a still sends its pulse to b
    net.apply(P.Batch((P.Mute("a", False), P.Solo("a"))))
    assert {e.neuron for e in net.advance(2.0) if e.type == "note_on"} == {"a"}


# -- hot patching -------------------------------------------------------------------------


def test_redefine_keeps_phase_and_setparam_thr_scales_activation():
    net = net_with(N("a", rate=1.0, note=[1, 2, 3]))
    net.advance(0.25)  # a = 0.5
    net.apply(N("a", rate=1.0, thr=2.0, note=[5, 6]))
    assert net.activation("a") == pytest.approx(1.0)
    net.apply(P.SetParam("a", "thr", 4.0))
    assert net.activation("a") == pytest.approx(2.0)
    ev = net.advance(2.0)
    close(ons(ev), [1.25])
    assert [e.note for e in ev if e.type == "note_on"] == [5]


def test_update_to_above_threshold_fires_at_once():
    net = net_with(N("a", rate=1.0))
    net.advance(0.4)  # a = 0.8
    ev = net.apply(P.SetParam("a", "thr", 0.5))  # phase kept: 0.4 < 0.5 ...
    assert ev == []
    ev = net.apply(P.Fire("a"))
    close(ons(ev), [0.4])
    net.apply(P.SetParam("a", "rate", 0.0))
    ev = net.apply(P.Batch((P.SetParam("a", "phase", 1.0), P.Reset("a"))))
    close(ons(ev), [0.4])


def test_remove_sounding_neuron_sends_note_off_at_once():
    net = net_with(
        N("a", rate=1.0, dur=2.0), N("b", rate=2.0, note=62), P.Connect("a", "b", 0.5, delay=1.0)
    )
    net.advance(0.6)
    ev = net.apply(P.Remove("a"))
    assert [(e.type, e.neuron, e.note, e.t) for e in ev] == [("note_off", "a", 60, 0.6)]
    later = net.advance(3.0)
    assert {e.neuron for e in later} == {"b"}
    with pytest.raises(UnknownNeuron):
        net.activation("a")


def test_batch_with_error_changes_nothing():
    net = net_with(N("a", rate=1.0), N("b", rate=2.0), P.Connect("a", "b"))
    net.advance(0.3)
    before = pickle.dumps(net.snapshot())
    bad = [
        (N("c"), P.Connect("c", "a", 0.1), P.SetParam("a", "thr", -1.0)),
        (N("c"), P.Connect("c", "b"), P.Connect("a", "nobody")),
        (P.Remove("a"), P.Tempo(60), P.Connect("a", "b")),
        (P.Tempo(60), P.Connect("a", "b", 0.1, delay=-1.0)),
        (P.Tempo(60), P.Connect("a", "b", 0.1, kind="spooky")),
        (P.Stop(), P.Tempo(5000)),
        (N("d", bogus=1),),
    ]
    for ops in bad:
        with pytest.raises(ModelError):
            net.apply(P.Batch(ops))
        assert pickle.dumps(net.snapshot()) == before


def test_batch_may_define_then_connect():
    net = Network()
    net.apply(P.Batch((N("a", rate=2.0), N("b", rate=0.0), P.Connect("a", "b", 1.0))))
    close(ons(net.advance(0.3), "b"), [0.25])


def test_same_ops_same_events_bit_for_bit():
    def run():
        net = Network(seed=7)
        ops = [
            N(f"n{i}", rate=0.5 + 0.3 * i, leak=0.1 * i, prob=0.8, note=40 + i) for i in range(6)
        ]
        ops += [
            P.Connect(f"n{i}", f"n{(i * 5 + 1) % 6}", 0.3 - 0.1 * i, delay=0.25 * (i % 2))
            for i in range(6)
        ]
        net.apply(P.Batch(tuple(ops)))
        return [tuple(vars(e).values()) for e in net.advance(30.0)]

    assert run() == run()


def test_snapshot_restore_continues_identically():
    a = net_with(
        N("a", rate=1.3, leak=0.2, note=[1, 2, 3]),
        N("b", rate=0.7, prob=0.5),
        P.Connect("a", "b", 0.4, delay=0.5),
    )
    a.advance(3.3)
    b = Network()
    b.restore(pickle.loads(pickle.dumps(a.snapshot())))
    assert b.snapshot()["neurons"] == a.snapshot()["neurons"]
    assert b.next_time() >= 3.3
    # pending pulses are not part of a snapshot; compare after they have drained
    ea, eb = a.advance(20.0), b.advance(20.0)
    assert [e.note for e in ea if e.neuron == "a"] == [e.note for e in eb if e.neuron == "a"]
    c = Network()
    c.restore(a.snapshot(), t=25.0)  # resume later: same beat and activations
    assert (c.now, c.beat) == (25.0, a.beat)
    assert [round(e.t - 5.0, 9) for e in c.advance(30.0)] == [
        round(e.t, 9) for e in a.advance(25.0)
    ]


def test_clear_and_panic():
    net = net_with(N("a", rate=1.0, dur=3.0))
    net.advance(0.6)
    assert [e.type for e in net.apply(P.Panic())] == ["note_off"]
    assert net.sounding() == []
    assert ons(net.advance(1.1)) == [1.0]
    assert [e.type for e in net.apply(P.Clear())] == ["note_off"]
    assert net.snapshot()["neurons"] == {} and net.advance(5.0) == []
    assert net.tempo == 120.0


def test_time_cannot_go_back():
    net = net_with(N("a"))
    net.advance(1.0)
    snap = net.snapshot()
    assert net.advance(0.5) == [] and net.now == 1.0
    assert net.snapshot() == snap
    ev = net.apply(P.Fire("a"), t=0.5)  # a past time means now
    assert [(e.type, e.t) for e in ev] == [("note_off", 1.0), ("note_on", 1.0)]  # retrigger
