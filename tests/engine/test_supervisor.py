"""The supervisor's fault barrier: a callback that raises never stops the handle."""

from __future__ import annotations

import threading

from engine.protocol import Ack, Batch, DefineNeuron, Notice, SetParam, Status
from engine.runtime.process import EngineHandle, EngineOptions
from tests.engine.test_realtime import wait_for


def test_a_raising_callback_is_reported_once_and_statuses_and_acks_keep_coming():
    lock = threading.Lock()
    statuses: list[dict] = []
    acks: list[Ack] = []
    notices: list[Notice] = []

    def on_message(msg: object) -> None:
        with lock:
            if isinstance(msg, Notice):
                notices.append(msg)
                return
            if isinstance(msg, Status):
                statuses.append(msg.data)
                raise KeyError("a display bug")  # every status, four times a second
            if isinstance(msg, Ack):
                acks.append(msg)
                raise ValueError("an ack bug")

    handle = EngineHandle(EngineOptions(midi_api="none", status_interval=0.05), on_message)
    handle.start()
    try:
        assert wait_for(lambda: len(statuses) >= 3)
        first = handle.request(Batch((DefineNeuron("n1", {"note": 60, "rate": 4.0}),)))
        second = handle.request(Batch((SetParam("n1", "rate", 8.0),)))
        assert first.ok and second.ok
        assert wait_for(lambda: [a.id for a in acks] == [first.id, second.id])
        seen = len(statuses)
        assert wait_for(lambda: len(statuses) >= seen + 3)  # still delivered after the faults
        assert wait_for(lambda: statuses[-1]["snapshot"]["neurons"].get("n1") is not None)
        assert handle.alive()
        with lock:
            faults = [n for n in notices if "internal error in the" in n.text]
        # one line per fault, however often it repeats
        assert len(faults) == 2, [n.text for n in faults]
        assert all(n.level == "error" and "\n" not in n.text for n in faults)
        assert "KeyError" in faults[0].text and "status" in faults[0].text
        assert "ValueError" in faults[1].text and "ack" in faults[1].text
        assert handle.callback_errors >= seen + 2
    finally:
        handle.stop()
    assert not handle.alive()
