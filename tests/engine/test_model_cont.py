"""``cont`` coupling: the exact linear solution against an independent fine-step RK4."""

from __future__ import annotations

import numpy as np
import pytest

from engine import protocol as P
from engine.model.linear import expm
from engine.model.network import Network

TOL = 50e-6  # seconds
H = 2e-4  # beats, reference step


def reference(neurons: list[dict], cont: dict, beats: float) -> list[tuple[float, int]]:
    """RK4 with a tiny step; firing located by linear interpolation within the step.

    ``cont`` maps (dst, src) indices to weights. Refractory members are held at 0; a member
    on its floor is held there while its derivative is negative.
    """
    k = len(neurons)
    rate = np.array([n.get("rate", 1.0) for n in neurons])
    leak = np.array([n.get("leak", 0.0) for n in neurons])
    thr = np.array([n.get("thr", 1.0) for n in neurons])
    floor = np.array([n.get("floor", -1.0) for n in neurons])
    refr = np.array([n.get("refr", 0.0) for n in neurons])
    w = np.zeros((k, k))
    for (d, s), v in cont.items():
        w[d, s] += v
    x = np.array([n.get("phase", 0.0) * n.get("thr", 1.0) for n in neurons])
    until = np.full(k, -1.0)
    held = np.zeros(k, dtype=bool)

    def f(t, x):
        dx = rate - leak * x + w @ x
        frozen = (until > t) | (held & (dx <= 0))
        dx[frozen] = 0.0
        return dx

    def step(t, x, h):
        k1 = f(t, x)
        k2 = f(t, x + h / 2 * k1)
        k3 = f(t, x + h / 2 * k2)
        k4 = f(t, x + h * k3)
        return x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

    spikes = []
    t = 0.0
    while t < beats:
        h = min(H, beats - t)
        # refractory ends inside the step: stop there exactly
        ends = until[(until > t) & (until < t + h)]
        if ends.size:
            h = float(ends.min()) - t
        y = step(t, x, h)
        over = np.nonzero(y >= thr)[0]
        if over.size:
            frac = min((thr[i] - x[i]) / (y[i] - x[i]) for i in over)
            hf = frac * h
            y = step(t, x, hf)
            t += hf
            for i in range(k):
                if y[i] >= thr[i] - 1e-9:
                    spikes.append((t, i))
                    y[i] = 0.0
                    until[i] = t + refr[i]
                    held[i] = False
            x = y
            continue
        below = y < floor
        y[below] = floor[below]
        held |= below
        dx = rate - leak * y + w @ y
        held &= ~(dx > 0)
        x = y
        t += h
    return spikes


def model_spikes(neurons: list[dict], cont: dict, beats: float, tempo: float = 120.0):
    net = Network(tempo=tempo)
    ops = [P.DefineNeuron(f"n{i}", dict(p, note=40 + i)) for i, p in enumerate(neurons)]
    ops += [P.Connect(f"n{s}", f"n{d}", v, kind="cont") for (d, s), v in cont.items()]
    net.apply(P.Batch(tuple(ops)))
    spb = 60.0 / tempo
    ev = net.advance(beats * spb)
    return [(e.t / spb, int(e.neuron[1:])) for e in ev if e.type == "note_on"], net


def compare(neurons, cont, beats, tol_beats=TOL * 2):
    ref = reference(neurons, cont, beats)
    got, net = model_spikes(neurons, cont, beats)
    assert [i for _, i in got] == [i for _, i in ref], (got, ref)
    worst = max((abs(a - b) for (a, _), (b, _) in zip(got, ref, strict=True)), default=0.0)
    assert worst < tol_beats, (worst, got, ref)
    return got, net


def test_expm_matches_eigendecomposition_and_series():
    rng = np.random.default_rng(3)
    for scale in (0.01, 1.0, 30.0):
        a = rng.normal(size=(4, 4)) * scale
        vals, vecs = np.linalg.eig(a)
        ref = (vecs @ np.diag(np.exp(vals)) @ np.linalg.inv(vecs)).real
        assert np.allclose(expm(a), ref, rtol=1e-9, atol=1e-9 * np.abs(ref).max())
    assert np.allclose(expm(np.zeros((3, 3))), np.eye(3))


def test_one_way_cont_drive():
    neurons = [{"rate": 1.0}, {"rate": 0.2, "leak": 0.3}]
    got, _ = compare(neurons, {(1, 0): 0.8}, 12.0)
    assert sum(1 for _, i in got if i == 1) >= 3


def test_mutual_cont_with_leak_and_refractory():
    neurons = [
        {"rate": 1.3, "leak": 0.4, "refr": 0.2},
        {"rate": 0.7, "leak": 0.1, "thr": 0.8},
        {"rate": 0.5, "leak": 0.2, "phase": 0.3},
    ]
    compare(neurons, {(1, 0): 0.5, (0, 1): -0.4, (2, 1): 0.6, (2, 2): 0.1}, 15.0)


def test_cont_inhibition_holds_member_at_floor():
    neurons = [{"rate": 0.8, "refr": 1.0}, {"rate": 1.1, "floor": -0.1}]
    got, _ = compare(neurons, {(1, 0): -2.5}, 12.0)
    # held at -0.1 until a fires at 1.25; while a is refractory b rises 1.1/beat: +1 beat
    assert [round(t, 6) for t, i in got if i == 1] == [2.25, 4.5, 6.75, 9.0, 11.25]
    _, net = model_spikes(neurons, {(1, 0): -2.5}, 0.0)
    lows = []
    for k in range(1, 61):
        net.advance(k * 0.05)
        lows.append(net.activation("n1"))
    assert min(lows) == pytest.approx(-0.1, abs=1e-12)  # held exactly on the floor
    assert sum(1 for v in lows if abs(v + 0.1) < 1e-12) >= 2


def test_cont_activation_is_continuous_across_tempo_and_patches():
    net = Network()
    net.apply(
        P.Batch(
            (
                P.DefineNeuron("a", {"rate": 0.5}),
                P.DefineNeuron("b", {"rate": 0.1}),
                P.Connect("a", "b", 1.0, kind="cont"),
            )
        )
    )
    net.advance(0.5)  # beat 1: a = 0.5, b = 0.1 + 0.25
    assert net.activation("a") == pytest.approx(0.5)
    assert net.activation("b") == pytest.approx(0.35)
    net.apply(P.Tempo(60.0))
    assert net.activation("b") == pytest.approx(0.35)
    net.apply(P.Disconnect("a", "b"))  # b becomes a closed-form singleton again
    assert net.activation("b") == pytest.approx(0.35)
    ev = net.advance(0.5 + 6.5)  # 6.5 beats at 60 BPM
    assert [round(e.t, 6) for e in ev if e.neuron == "b" and e.type == "note_on"] == [7.0]


def test_pulse_into_cont_member_and_cont_member_sends_pulses():
    net = Network()
    net.apply(
        P.Batch(
            (
                P.DefineNeuron("a", {"rate": 1.0}),
                P.DefineNeuron("b", {"rate": 0.0}),
                P.DefineNeuron("c", {"rate": 0.0}),
                P.Connect("a", "b", 0.5, kind="cont"),
                P.Connect("a", "c", 0.4),
                P.Connect("c", "b", 0.3),
            )
        )
    )
    ev = net.advance(0.55)
    # a fires at beat 1 (b = 0.25 by then); its pulse lifts c to 0.4; nothing else fires
    assert [e.neuron for e in ev if e.type == "note_on"] == ["a"]
    assert net.activation("b") == pytest.approx(0.25 + 0.5 * 0.5 * 0.1**2, abs=1e-9)
    net.apply(P.Fire("c"))  # b = b(1.1 beats) + 0.3
    assert net.activation("b") == pytest.approx(0.25 + 0.5 * 0.5 * 0.01 + 0.3, abs=1e-9)
