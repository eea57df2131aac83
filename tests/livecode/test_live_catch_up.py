"""The REPL's picture follows what controllers change in the engine (OSC here)."""

from __future__ import annotations

from engine.protocol import SetParam
from engine.runtime.process import EngineHandle, EngineOptions
from livecode.language.interpreter import Interpreter
from livecode.repl.live import LiveSession
from tests.engine.osc_rig import free_port, message, wait_for


def engine_rate(handle: EngineHandle) -> float | None:
    n1 = handle.last_status["snapshot"]["neurons"].get("n1")
    return n1["params"]["rate"] if n1 else None


def test_a_fader_move_reaches_the_next_block_and_save(tmp_path):
    import socket

    port = free_port()
    handle = EngineHandle(EngineOptions(midi_api="none", osc_port=port, status_interval=0.05))
    handle.start()
    said: list[str] = []
    live = LiveSession(Interpreter(), handle, said.append)
    try:
        assert wait_for(lambda: handle.last_status is not None, 10)
        live.submit("n1 = neuron(60, rate=1.5)")
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.sendto(message("/neuron/n1/rate", 3.0), ("127.0.0.1", port))
        sock.close()
        assert wait_for(lambda: engine_rate(handle) == 3.0)
        sent: list = []
        real_request = handle.request

        def spy(batch, timeout=2.0):
            sent.extend(batch.ops)
            return real_request(batch, timeout)

        handle.request = spy
        live.submit("n1.rate *= 2")  # from the fader's 3.0, not the typed 1.5
        assert sent == [SetParam("n1", "rate", 6.0)]
        # A value typed after the move wins over the older snapshot.
        live.submit("n1.vel = 90")
        live.save(str(tmp_path / "set.neu"))
        text = (tmp_path / "set.neu").read_text()
        assert "rate=6.0" in text and "vel=90" in text
    finally:
        handle.stop()
