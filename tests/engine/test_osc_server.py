"""The OSC server on fake ports inside a real Engine, the loop driven by hand."""

from __future__ import annotations

import multiprocessing as mp

import pytest

from engine import protocol as P
from engine.io.osc import OscServer
from engine.model.network import Network
from engine.runtime.clock import Clock
from engine.runtime.loop import Engine
from tests.engine.fakes import FakeOscIn, RecordingOscOut, RecordingOut
from tests.engine.osc_rig import message


class _Rig:
    def __init__(self, allow: tuple[str, ...] = ()) -> None:
        self.parent, child = mp.Pipe()
        self.out = RecordingOut()
        self.engine = Engine(child, self.out, Network(), Clock())
        self.source = FakeOscIn()
        self.feedback = RecordingOscOut()
        self.server = OscServer(self.source, allow, self.feedback)
        self.server.attach(self.engine)
        self.engine.apply(
            P.Batch(
                (
                    P.DefineNeuron("a", {"note": 45, "vel": 99, "rate": 0.0}),
                    P.Map("osc", "/1/fader1", "a", "thr", 0.5, 2.0),
                )
            ),
            0.0,
        )

    def step(self) -> None:
        """Turns of the loop until the fake source is drained: it wakes on it like on a
        socket (a turn handles at most 1 ms of work; a busy machine may need several)."""
        for turn in range(100):
            ready = self.engine._selector.select(1.0 if turn == 0 else 0.0)
            if not ready:
                return
            for key, _event in ready:
                key.data()


def test_datagrams_from_a_fake_source_patch_the_network_and_feed_back():
    rig = _Rig()
    rig.source.push(message("/neuron/a/rate", 2.0))
    rig.source.push(message("/1/fader1", 1.0))
    rig.source.push(b"not osc!")
    rig.step()
    params = rig.engine.net.params("a")
    assert params is not None
    assert params["rate"] == 2.0 and params["thr"] == pytest.approx(2.0)
    status = rig.server.status()
    assert status["received"] == 3 and status["applied"] == 2
    assert status["dropped"]["malformed"] == 1
    # the mapping made in code shows on the controller at once (thr 1.0: a third up)
    assert ("/1/fader1", [pytest.approx(1 / 3)]) in rig.feedback.messages
    rig.source.push(message("/neuron/a/fire"))
    rig.step()
    assert ("/fired", ["a", 45, 99]) in rig.feedback.messages
    assert [m.note for _, m in rig.out.messages if m.type == "note_on"] == [45]
    assert rig.server.status()["feedback_sent"] == rig.feedback.sent == len(rig.feedback.messages)


def test_sender_not_allowed_is_dropped_before_parsing():
    rig = _Rig(allow=("10.0.0.7",))
    rig.source.push(message("/neuron/a/rate", 2.0), sender="127.0.0.1")
    rig.source.push(message("/neuron/a/rate", 3.0), sender="10.0.0.7")
    rig.step()
    params = rig.engine.net.params("a")
    assert params is not None and params["rate"] == 3.0
    assert rig.server.status()["dropped"]["sender"] == 1
