"""``fit("groove.mid")`` in the REPL: it runs beside the music, then defines the neurons."""

from __future__ import annotations

import threading
import time

import pytest

import livecode.fit
from engine import protocol as P
from livecode.language.interpreter import Interpreter
from livecode.repl.live import LiveSession
from tests.livecode.fakes import FakeEngine
from tests.livecode.test_fit import CLASSICS, write_groove

pytest.importorskip("scipy")


def wait_for(cond, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_fit_runs_beside_the_repl_and_defines_the_neurons_when_done(tmp_path, monkeypatch):
    path = str(tmp_path / "tresillo.mid")
    write_groove(path, *CLASSICS["backbeat_ghosts"])
    gate = threading.Event()
    real = livecode.fit.fit_file

    def held(*args, **kwargs):  # the solver waits until the test lets it go
        gate.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(livecode.fit, "fit_file", held)
    said: list[str] = []
    engine = FakeEngine()
    live = LiveSession(Interpreter(), engine, said.append)
    live.submit("tempo(96); kick = neuron(30)")
    live.submit(f'fit("{path}", grid="1/16")')
    # the REPL is back while the fit runs: another block goes through at once
    assert live.submit("pad = neuron(50)") is False
    assert "pad" in live.interpreter.mirror.neurons
    assert "bar" not in live.interpreter.mirror.neurons
    assert live.submit(f'fit("{path}")') is False  # one fit at a time
    assert any("already running" in s for s in said)
    gate.set()
    wait_for(lambda: "bar" in live.interpreter.mirror.neurons)
    mirror = live.interpreter.mirror
    assert {"bar", "kick", "snare", "snare_soft", "hat", "pad"} <= set(mirror.neurons)
    assert mirror.neurons["kick"]["note"] == 36  # the old kick was replaced, not updated
    assert mirror.tempo == 96.0  # the performer's tempo stays
    fitted = engine.batches[-1]
    assert fitted.ops[0] == P.Remove("kick")
    assert not any(isinstance(op, P.Tempo) for op in fitted.ops)
    assert any("onset F1 1.000" in s for s in said)


def test_fit_errors_are_one_message_and_change_nothing(tmp_path):
    said: list[str] = []
    engine = FakeEngine()
    live = LiveSession(Interpreter(), engine, said.append)
    live.submit(f'fit("{tmp_path / "missing.mid"}")')
    wait_for(lambda: any("not done" in s for s in said))
    assert "No such file" in said[-1]
    live.submit('fit("x.mid", grid=16)')
    assert "fit()'s grid is a str" in said[-1]
    live.submit('fit("x.mid", channel=17)')
    assert "1..16" in said[-1]
    assert engine.batches == []


def test_a_bug_in_the_fit_is_one_message_and_the_repl_carries_on(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("planted")

    monkeypatch.setattr(livecode.fit, "fit_file", broken)
    said: list[str] = []
    engine = FakeEngine()
    live = LiveSession(Interpreter(), engine, said.append)
    live.submit('fit("groove.mid")')
    wait_for(lambda: any("internal error in fit()" in s for s in said))
    assert "no neuron was defined" in said[-1]
    live.submit("n1 = neuron(60)")
    assert "n1" in live.interpreter.mirror.neurons
