"""A recorded performance that uses every op type comes back as the same network: exported to
``.neu`` and loaded again, replayed offline through the model, and replayed live into an
engine that is SIGKILLed half way (issue 11: listen inputs, follow links, the clock flag and
controller mappings were dropped on these paths).

The performance is recorded for real, once per module: REPL blocks through the interpreter
into an engine process that records to SQLite, an OSC fader over UDP on 127.0.0.1, and MIDI
notes and a CC into the engine's JACK input port from a JACK client (a ``jackd -d dummy``
server). Networks are compared as structure: ``NetState.from_snapshot`` of each snapshot.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass

import pytest

from engine import protocol as P
from engine.model.network import Network
from engine.model.state import NetState
from engine.protocol import Status
from engine.record.recorder import prepare
from engine.record.recording import Recording, load, replay_events
from engine.runtime.process import EngineHandle, EngineOptions
from livecode.export import export
from livecode.language.interpreter import Interpreter
from livecode.language.sessionfile import load_session
from livecode.repl.live import LiveSession
from tests.conftest import JackServer, _die_with_parent, _need_jack
from tests.engine.osc_rig import free_port, message, wait_for

# The performance, block by block. The controllers and BLOCKS[4] come in one burst, then
# BLOCKS[5] GAP later (see ``performance``): a live replay killed as the controllers come in
# restarts while blocks are due, and still has BLOCKS[5] ahead.
BLOCKS = [
    "old = neuron(30, rate=0.5)",
    "clear()",  # before the rest: it would wipe them
    """tempo(100)
a = neuron(60, rate=2, dur=0.1)
b = neuron("E4", rate=1.5, dur=0.1)
c = neuron(67, rate=1, dur=0.1, ch=2)
a >> b @ 0.3
connect(b, c, 0.2, kind="cont")
connect(a, c, 0.1, delay=0.5)
keys = listen(ch=1, lo=36, hi=84)
b.note = follow(keys, 7)
c.vel = follow(keys, -10)
clock(True)
program(2, "Fingered Bass")
volume(2, 90)
pan(2, -0.5)
a.note = markov([60, 62, 64, 62, 60], order=1)
a.vel = choose([60, 90, 120], [1, 2, 1])
c.rate = walk(0.5, 2, step=0.25)
clock_in("lc-no-such-clock", quantum=2)""",
    """disconnect(a, c)
a.thr = osc("/1/fader1", 0.5, 2.0)
b.rate = cc(74, 0.25, 8, curve="exp", ch=1)
c.fire = noteon(36, ch=10)
c.thr = osc("/1/fader2", 1, 3)""",
    # (controllers play here: the OSC fader, CC 74, a note keys hears, a note that fires c)
    """unmap("/1/fader2")
tmp = neuron(50)
del tmp
mute(c); solo(a); fire(b); reset(a); a.rate = 3
stop(); start(); panic()""",
    "b.vel = 90\nlink(False)",
]
FADER = 0.75  # /1/fader1: a.thr = 0.5 + 0.75 * 1.5
GAP = 0.8  # logical seconds between BLOCKS[4] and BLOCKS[5]


# A JACK client that sends the MIDI lines (hex) it reads on stdin into the engine's JACK
# input, 20 messages a cycle. It runs in its own process: deactivating a JACK client whose
# process callback is Python cancels that callback's thread, and if it was waiting for the
# GIL the GIL is never released (seen as a hung test on a loaded machine). This process
# ends with os._exit, never deactivating: the server drops the client when it goes.
SENDER = r"""
import collections, os, sys, time
import jack

client = jack.Client("lcsend", no_start_server=True)
port = client.midi_outports.register("out")
queue = collections.deque()

def process(frames):
    port.clear_buffer()
    for _ in range(min(20, len(queue))):
        port.write_midi_event(0, queue.popleft())

client.set_process_callback(process)
client.activate()
deadline = time.monotonic() + 15
while True:
    found = client.get_ports("livecode-in", is_midi=True, is_input=True)
    if found:
        try:
            client.connect(port, found[0])
            break
        except jack.JackError:
            pass  # registered, not active yet: JACK connects only an active client's ports
    if time.monotonic() > deadline:
        print("no JACK input port livecode-in to connect to", flush=True)
        os._exit(1)
    time.sleep(0.02)
print("ready", flush=True)
for line in sys.stdin:
    queue.append(bytes.fromhex(line))
os._exit(0)
"""


class MidiSender:
    """The :data:`SENDER` process, connected to the engine's MIDI input ``livecode-in``."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SENDER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=_die_with_parent,
        )

    def connect(self) -> None:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # it gives up by itself after 15 s
        assert line == "ready\n", f"the MIDI sender did not connect: {line!r}"

    def send(self, *messages: list[int]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("".join(bytes(m).hex() + "\n" for m in messages))
        self.proc.stdin.flush()

    def close(self) -> None:
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


@dataclass
class Performance:
    path: str  # the recording
    final: dict  # the recording engine's last status snapshot (sent as it stopped)
    rec: Recording


class _AckedHandle(EngineHandle):
    """An engine handle that keeps the acknowledgement of every block it was asked for."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.acks: list[P.Ack] = []

    def request(self, batch: P.Batch, timeout: float = 2.0) -> P.Ack:
        ack = super().request(batch, timeout)
        if ack.ok:
            self.acks.append(ack)
        return ack


def _status_after(handle: EngineHandle, t: float, timeout: float = 10.0) -> dict:
    """The first status taken at logical time ``t`` or later (a status includes every block
    the engine applied before it)."""
    assert wait_for(
        lambda: handle.last_status is not None and handle.last_status["t"] >= t, timeout
    ), f"no status after t={t:.3f}"
    assert handle.last_status is not None
    return handle.last_status


def _until(handle: EngineHandle, check, poke, what: str, tries: int = 10) -> None:
    """``poke()`` until the engine's status shows ``check(status)``: a loaded JACK dummy
    server may drop a cycle's MIDI (an xrun), so a controller message is sent again."""
    for _ in range(tries):
        poke()
        if wait_for(lambda: handle.last_status is not None and check(handle.last_status), 1.0):
            return
    pytest.fail(f"the engine never showed {what}: {handle.last_status}")


def _params(status: dict, name: str) -> dict:
    return status["snapshot"]["neurons"].get(name, {}).get("params", {})


def _shows(handle: EngineHandle, name: str, param: str, value: object) -> bool:
    """True once the engine's last status has ``name.param == value``."""
    st = handle.last_status
    return st is not None and _params(st, name).get(param) == value


@pytest.fixture(scope="module")
def performance(tmp_path_factory) -> Performance:
    """Record the performance once: blocks, OSC over UDP, MIDI in over a real JACK server."""
    _need_jack()
    path = prepare(str(tmp_path_factory.mktemp("round_trip") / "gig.sqlite"))
    server = JackServer()
    osc_port = free_port()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    said: list[str] = []
    refused: list[str] = []
    lock = threading.Lock()

    def on_message(msg: object) -> None:
        if not isinstance(msg, Status):
            with lock:
                said.append(str(msg))

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JACK_DEFAULT_SERVER", server.name)  # the engine process inherits them
        mp.setenv("JACK_NO_START_SERVER", "1")
        sender = MidiSender()
        handle = _AckedHandle(
            EngineOptions(
                midi_api="jack", osc_port=osc_port, record=path, seed=11, status_interval=0.05
            ),
            on_message,
        )
        live = LiveSession(Interpreter(), handle, said.append, refused.append)
        live.recording_from_start(path)
        handle.start()
        try:
            assert wait_for(lambda: handle.last_status is not None, 15), said
            sender.connect()  # to the engine's JACK input, "livecode-in"

            def block(text: str, gap: float = 0.0) -> None:
                applied = len(handle.acks)
                live.submit(text)
                assert not refused and len(handle.acks) == applied + 1, refused
                _status_after(handle, handle.acks[-1].t + gap)

            for text in BLOCKS[:4]:
                block(text)
            # the controllers, then BLOCKS[4] at once
            _until(
                handle,
                lambda st: _params(st, "a").get("thr") == 0.5 + FADER * 1.5,
                lambda: sock.sendto(message("/1/fader1", FADER), ("127.0.0.1", osc_port)),
                "the OSC fader's a.thr",
            )
            _until(
                handle,
                lambda st: _params(st, "b").get("rate") == pytest.approx(8.0),
                lambda: sender.send([0xB0, 74, 127]),
                "CC 74's b.rate",
            )
            _until(
                handle,
                lambda st: st["snapshot"]["heard"].get("keys") == [60, 100],
                lambda: sender.send([0x90, 60, 100], [0x80, 60, 0]),
                "the note keys heard",
            )
            fired = handle.last_status["midi_in"]["applied"]  # type: ignore[index]
            _until(
                handle,
                lambda st: st["midi_in"]["applied"] > fired,
                lambda: sender.send([0x99, 36, 90], [0x89, 36, 0]),
                "the note that fires c",
            )
            block(BLOCKS[4], GAP)
            block(BLOCKS[5])
        finally:
            handle.stop()
            sender.close()
            sock.close()
            server.stop()
    assert handle.last_status is not None
    return Performance(path, handle.last_status["snapshot"], load(path))


def _structure(snap: dict) -> NetState:
    return NetState.from_snapshot(snap)


# what was dropped before issue 11, compared as the snapshots' own plain data too
CARRIED = ("inputs", "follows", "clock", "mappings")


def _recorded_op_types(rec: Recording) -> set[str]:
    return {type(op).__name__ for block in rec.blocks if block.ok for op in block.ops}


def test_the_performance_exercises_every_op_type(performance):
    """Every op type there is was applied in the recording, so each one is round-tripped by
    the tests below: a new op type fails here until the performance uses it."""
    missing = sorted(set(P.OPS) - _recorded_op_types(performance.rec))
    assert not missing, f"op types the round-trip performance never uses: {', '.join(missing)}"
    applied = [op for block in performance.rec.blocks if block.ok for op in block.ops]
    assert {op.kind for op in applied if isinstance(op, P.Connect)} == set(P.CONN_KINDS)
    assert {op.source for op in applied if isinstance(op, P.Map)} == set(P.MAP_SOURCES)
    sources = {block.source for block in performance.rec.blocks if block.ok}
    assert {"repl", "osc", "midi"} <= sources


def test_the_recorded_network_holds_inputs_follows_clock_and_mappings(performance):
    """The network the comparisons are made against is the performance's (so an empty or
    stripped network cannot compare equal by accident)."""
    st = _structure(performance.final)
    assert list(st.neurons) == ["a", "b", "c", "keys"]
    assert st.tempo == 100.0 and st.running and st.clock_out
    assert dict(st.solo) == {"a": None} and st.muted == {"c", "keys"}
    assert {k: c.kind for k, c in st.connections.items()} == {
        ("a", "b"): "pulse",
        ("b", "c"): "cont",
    }
    assert st.inputs == {"keys": P.Listen("keys", 1, 36, 84)}
    assert set(st.follows.values()) == {
        P.Follow("b", "note", "keys", 7),
        P.Follow("c", "vel", "keys", -10),
    }
    assert {(m.source, m.address, m.name, m.param) for m in st.mappings.values()} == {
        ("osc", "/1/fader1", "a", "thr"),
        ("cc", "1/74", "b", "rate"),
        ("note", "10/36", "c", "fire"),
    }
    assert st.neurons["a"]["thr"] == 0.5 + FADER * 1.5  # set by the OSC fader
    assert st.neurons["b"]["rate"] == pytest.approx(8.0)  # set by CC 74
    assert st.neurons["a"]["rate"] == 3.0 and st.neurons["b"]["vel"] == 90


def test_offline_replay_ends_at_the_live_network(performance):
    end = replay_events(performance.rec).network.snapshot()
    assert _structure(end) == _structure(performance.final)


def test_exported_neu_loads_into_the_same_network(performance, tmp_path):
    out = str(tmp_path / "end.neu")
    assert "4 neurons" in export(performance.path, out)
    interp, batch = load_session(out)
    net = Network()
    net.apply(batch, 0.0)
    want = _structure(performance.final)
    snap = net.snapshot()
    assert _structure(snap) == want
    assert {k: snap[k] for k in CARRIED} == {k: performance.final[k] for k in CARRIED}
    assert list(net.state.neurons) == list(want.neurons)  # in creation order
    assert interp.mirror == want  # the performer's picture after loading it, too


def test_live_replay_across_a_sigkill_ends_at_the_recorded_network(performance):
    """``livecode replay`` into an engine that is SIGKILLed as the replay's controllers come in
    (after the input neuron, its follow links and the clock were built, while blocks are
    due): the restarted engine, restored from the last status, carries on the replay and
    ends at the recorded network."""
    rec = performance.rec
    end = max(seg.last_time() for seg in rec.segments)
    thr = 0.5 + FADER * 1.5  # the OSC fader's value, the first controller of the burst
    handle = EngineHandle(
        EngineOptions(
            midi_api="none",
            osc_port=0,
            replay=performance.path,
            seconds=end + 0.2,
            status_interval=0.05,
        )
    )
    handle.start()
    try:
        assert wait_for(lambda: _shows(handle, "a", "thr", thr), 15)
        killed, first = handle.last_status, handle.pid
        assert killed is not None and first is not None
        os.kill(first, signal.SIGKILL)
        assert handle.wait(20), "the replay did not finish"
    finally:
        handle.stop()
    assert _params(killed, "b")["vel"] != 90, "killed after the replay's last block"
    assert handle.restarts == 1 and handle.pid != first
    assert handle.last_status is not None
    snap = handle.last_status["snapshot"]
    assert _structure(snap) == _structure(performance.final)
    assert {k: snap[k] for k in CARRIED} == {k: performance.final[k] for k in CARRIED}
