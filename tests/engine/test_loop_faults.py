"""The engine loop's fault barriers: a bug in an op or in an input handler refuses that one
thing, says so once, and the network plays on."""

from __future__ import annotations

import multiprocessing as mp

from engine import protocol as P
from engine.model.network import Network
from engine.runtime.clock import Clock
from engine.runtime.loop import Engine
from tests.engine.fakes import FakeOscIn, RecordingOut


class _Engine:
    def __init__(self) -> None:
        self.parent, child = mp.Pipe()
        self.out = RecordingOut()
        self.engine = Engine(child, self.out, Network(), Clock())
        self.engine.apply(P.Batch((P.DefineNeuron("a", {"note": 45, "rate": 8.0}),)), 0.0)

    def notices(self) -> list[P.Notice]:
        got = []
        while self.parent.poll():
            msg = self.parent.recv()
            if isinstance(msg, P.Notice):
                got.append(msg)
        return got

    def note_ons(self) -> int:
        return sum(1 for _, m in self.out.messages if m.type == "note_on")


def _boom(*args: object) -> None:
    raise TypeError("a bug in this op")


def test_a_bug_in_an_op_refuses_the_batch_and_the_network_plays_on(monkeypatch):
    rig = _Engine()
    monkeypatch.setattr(P.Reset, "act", _boom)
    acks = [rig.engine.apply(P.Batch((P.Reset("a"),), id=i), 0.1 * i) for i in (1, 2)]
    assert [a.ok for a in acks] == [False, False]
    assert all("internal error: TypeError: a bug in this op" in a.error for a in acks)
    faults = [n for n in rig.notices() if "internal error" in n.text]
    assert len(faults) == 1 and faults[0].level == "error"  # said once, however often
    before = rig.note_ons()
    rig.engine._advance(2.0)
    assert rig.note_ons() > before  # still firing
    assert rig.engine.apply(P.Batch((P.SetParam("a", "rate", 2.0),)), 2.0).ok


def test_a_bug_in_an_input_handler_is_reported_and_the_loop_goes_on():
    rig = _Engine()
    source = FakeOscIn()
    calls = []

    def broken() -> None:
        calls.append(1)
        while source.receive() is not None:  # drain it, then fail like a handler with a bug
            pass
        raise KeyError("handler bug")

    rig.engine.add_input(source, broken)
    for _ in range(3):
        source.push(b"x")
        rig.engine._step()
    assert len(calls) == 3
    faults = [n for n in rig.notices() if "internal error in an input handler" in n.text]
    assert len(faults) == 1 and "KeyError" in faults[0].text
    assert rig.engine.apply(P.Batch((P.Fire("a"),)), rig.engine.net.now).ok
