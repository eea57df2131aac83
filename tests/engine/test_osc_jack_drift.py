"""OSC presses on a JACK dummy server with a core kept busy.

Converting arrivals through the wall clock once scheduled each press later by the drift
of JACK's frames so far (13.8 s after two minutes). Each press must come back as
``/fired`` feedback within 10 ms. The server runs realtime (``jackd -R``, as performers
run it; CI is root): a non-realtime dummy server under load stalls for up to 100 ms, and
no sound, so no ``/fired``, can come before its next cycle, whatever the engine does.
Its drift (66-98 % of wall time was seen) is the simulated hour's in
``test_clock_domains.py``, which runs the clock at 95 % then 105 %. ``LIVECODE_SOAK=1`` runs the issue's figure: a press every 5 s for 2
minutes; by default a press every second for 15 s.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from engine.io.osc_udp import UdpIn
from engine.protocol import Batch, DefineNeuron, Status
from engine.runtime.process import EngineHandle, EngineOptions
from tests.engine.osc_rig import free_port, message
from tests.engine.test_realtime import wait_for
from tests.jack_devices import MidiReceiver

SOAK = os.environ.get("LIVECODE_SOAK") == "1"
EVERY, SECONDS = (5.0, 120.0) if SOAK else (1.0, 15.0)


@pytest.fixture
def drifting_jack(jack_server):
    """A dummy server (realtime where allowed) and one busy core."""
    busy = subprocess.Popen([sys.executable, "-c", "while 1: pass"])
    try:
        yield jack_server
    finally:
        busy.kill()
        busy.wait()


def test_presses_come_back_as_fired_within_10_ms_on_a_drifting_jack_clock(drifting_jack):
    receiver = MidiReceiver(drifting_jack)
    # the feedback's arrival is the kernel's stamp (as the engine stamps presses): this
    # test process, at normal priority beside busy loops, may wake late to read it
    listener = UdpIn("127.0.0.1", 0)
    port = free_port()
    statuses: list[dict] = []
    handle = EngineHandle(
        EngineOptions(
            midi_api="jack",
            port="lcrecv",
            osc_port=port,
            osc_feedback=f"127.0.0.1:{listener.port}",
            status_interval=0.1,
        ),
        lambda m: isinstance(m, Status) and statuses.append(m.data),
        restart=False,
    )
    handle.start()
    import socket

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    delays: list[float] = []
    try:
        network = Batch(
            (
                DefineNeuron("beat", {"note": 36, "rate": 2.0, "dur": 0.1}),
                DefineNeuron("pad", {"note": 60, "rate": 0.0, "dur": 0.1}),
            )
        )
        assert handle.request(network, timeout=10).ok
        press = message("/neuron/pad/fire")
        end = time.monotonic() + SECONDS
        # The press's send time is read here: at normal priority beside busy loops this
        # process may be preempted between the reading and the send (a 69 ms "delay" the
        # engine never saw: its own arrival-to-applied p99 was 0.75 ms). The measuring
        # instrument runs realtime where allowed, as the engine does (the jack_server
        # fixture: conftest.realtime_here).
        while time.monotonic() < end:
            sent = time.perf_counter()
            sock.sendto(press, ("127.0.0.1", port))
            arrival = _fired(listener, "pad", 5.0)
            assert arrival is not None, "no /fired for a press"
            delays.append(arrival - sent)
            time.sleep(max(0.0, EVERY - (time.perf_counter() - sent)))
        assert wait_for(lambda: bool(statuses), 2)
    finally:
        handle.stop()
        sock.close()
        listener.close()
        receiver.close()
    clock = statuses[-1]["clock"]
    print(
        f"presses {len(delays)}: /fired after p50 {sorted(delays)[len(delays) // 2] * 1e3:.2f} ms, "
        f"max {max(delays) * 1e3:.2f} ms; clock {clock['domain']} ratio {clock['ratio']:.4f}, "
        f"osc latency p99 {statuses[-1]['osc']['latency_ms_p99']:.2f} ms"
    )
    assert max(delays) <= 0.010, [round(d * 1e3, 2) for d in delays]
    assert statuses[-1]["osc"]["latency_n"] == len(delays)  # every press counted


def _fired(listener: UdpIn, name: str, timeout: float) -> float | None:
    """The kernel's arrival stamp (a perf_counter reading) of the next ``/fired name``."""
    import select

    from pythonosc.osc_message import OscMessage

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        select.select([listener], [], [], 0.05)
        while (dgram := listener.receive()) is not None:
            m = OscMessage(dgram.data)
            if m.address == "/fired" and m.params and m.params[0] == name:
                return dgram.arrival
    return None
