"""Clock domains: the monotonic -> sample-clock map, and a simulated hour on a drifting clock.

The hour runs the real loop (:class:`Engine`), the real OSC server and MIDI input, on a
simulated monotonic clock and an audio clock that runs at 95 % of it for half an hour,
then at 105 %. Inputs arrive at random moments; each must be applied at the logical time
the audio clock gives its arrival (plus the port's latency), and each future bundle at
its timetag, within 1 ms, from start to end.
"""

from __future__ import annotations

import heapq
import random
import selectors
import socket
import time

import pytest
from pythonosc.osc_bundle_builder import OscBundleBuilder
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from engine import protocol as P
from engine.io.midi_base import NullOut
from engine.io.midi_in import MidiInput
from engine.io.osc import OscServer
from engine.model.network import Network
from engine.runtime.clock import MappedClock
from engine.runtime.clocks import ClockMap
from engine.runtime.loop import Engine
from tests.engine.fakes import FakeIn, FakeOscIn

# --- the map alone ---------------------------------------------------------------------


def test_a_map_follows_its_anchors_and_holds_a_stalled_clock():
    m = ClockMap(hold=0.01)
    assert m.to_b(5.0) == 5.0  # no anchor yet: the same reading
    for k in range(100):
        m.anchor(100.0 + k * 0.01, k * 0.0095)  # b runs at 95 % of a
    assert m.ratio() == pytest.approx(0.95)
    assert m.to_b(100.505) == pytest.approx(0.5 * 0.95 * 1.01, abs=1e-9)  # between anchors
    last = m.latest()
    assert last is not None
    # the present is held one period past the last anchor: b stalls when its cycles stop
    assert m.to_b(last.a + 1.0) == pytest.approx(last.b + 0.01)
    # the future is extrapolated at the measured ratio
    assert m.to_b(last.a + 1.0, future=True) == pytest.approx(last.b + 0.95)
    assert m.to_a(m.to_b(100.3)) == pytest.approx(100.3)
    # anchors land where the map put them, but for the second (the ratio was unknown)
    assert m.error()["p50"] < 1e-12 and m.error()["max"] == pytest.approx(0.0005)


def test_a_map_re_anchors_so_an_error_never_outlives_the_next_anchor():
    m = ClockMap()
    m.anchor(0.0, 0.0)
    m.anchor(1.0, 1.0)
    m.anchor(2.0, 2.5)  # the b clock jumped: the map follows at once
    assert m.to_b(2.0) == 2.5
    assert m.to_b(1.5) == pytest.approx(1.0 + 0.5 * 1.25)
    assert m.error()["max"] == pytest.approx(0.5)


# --- a simulated hour ------------------------------------------------------------------

PERIOD = 256 / 48000  # the audio clock's seconds per cycle (one anchor each)
HOUR = 3600.0
SWITCH = 1800.0  # from 95 % to 105 % of the monotonic clock
T0 = 1000.0  # the simulated monotonic clock's reading at the start
# Unix time minus monotonic time, in the simulation: its hour lies in the real future,
# as python-osc puts a timetag that is past on the real clock at the real now
UNIX = time.time() + 7200 - T0
LATENCY = 2 * PERIOD


class Sim:
    """A monotonic clock that only moves when told, and an audio clock driven by it."""

    def __init__(self, seed: int) -> None:
        self.wall = T0
        self.rng = random.Random(seed)
        self.map = ClockMap(hold=PERIOD)
        self._next_b = 0.0
        self.advance(T0)  # the first cycle

    @staticmethod
    def b_of(w: float) -> float:
        """The audio clock's true reading at monotonic ``w``."""
        s = w - T0
        return 0.95 * s if s <= SWITCH else 0.95 * SWITCH + 1.05 * (s - SWITCH)

    @staticmethod
    def w_of(b: float) -> float:
        return T0 + (b / 0.95 if b <= 0.95 * SWITCH else SWITCH + (b - 0.95 * SWITCH) / 1.05)

    def advance(self, w: float) -> None:
        """Move the monotonic clock to ``w``; every cycle passed anchors the map, stamped a
        little late as a callback's wake-up is."""
        while (at := self.w_of(self._next_b)) <= w:
            self.map.anchor(at + self.rng.uniform(0.0, 100e-6), self._next_b)
            self._next_b += PERIOD
        self.wall = max(self.wall, w)


class SimClock(MappedClock):
    def __init__(self, sim: Sim) -> None:
        super().__init__(sim.map, T0, source=lambda: sim.wall, unix=lambda: sim.wall + UNIX)
        self.sim = sim

    def wait_until(self, t: float) -> None:
        sim = self.sim
        while self.now() < t:
            sim.advance(max(sim.wall + 20e-6, sim.w_of(self.origin + t)))


class SimSelector(selectors.DefaultSelector):
    """Waits in simulated time; delivers each scheduled input when its moment comes."""

    def __init__(self, sim: Sim) -> None:
        super().__init__()
        self.sim = sim
        self.inputs: list[tuple[float, int, object]] = []  # (wall, seq, deliver())

    def select(self, timeout: float | None = None) -> list:  # type: ignore[override]
        ready = super().select(0)  # input left over (a drain stops after 1 ms of work)
        if ready:
            return ready
        # a wait takes at least a microsecond, as on a real machine
        target = self.sim.wall + (max(timeout, 1e-6) if timeout else 0.0)
        if self.inputs and self.inputs[0][0] <= target:
            wall, _, deliver = heapq.heappop(self.inputs)
            self.sim.advance(wall)
            deliver()  # type: ignore[operator]
            return super().select(0)
        self.sim.advance(target)
        return []


class QuietPipe:
    """The engine's end of a pipe that nobody reads: it keeps only the count."""

    def __init__(self) -> None:
        self._r, self._w = socket.socketpair()
        self.sent = 0

    def poll(self, timeout: float | None = None) -> bool:
        return False

    def recv(self) -> object:
        raise EOFError

    def send(self, obj: object) -> None:
        self.sent += 1

    def fileno(self) -> int:
        return self._r.fileno()


class LatentOut(NullOut):
    latency = LATENCY


def test_an_hour_on_a_clock_at_95_then_105_percent_keeps_every_input_on_time():
    sim = Sim(seed=13)
    clock = SimClock(sim)
    selector = SimSelector(sim)
    net = Network(seed=1)
    engine = Engine(
        QuietPipe(), LatentOut(), net, clock, status_interval=60.0, until=HOUR, selector=selector
    )
    osc_in, midi_port = FakeOscIn(), FakeIn()
    OscServer(osc_in).attach(engine)
    MidiInput([midi_port]).attach(engine)
    engine.apply(
        P.Batch(
            (
                P.DefineNeuron("metro", {"note": 40, "rate": 2.0, "dur": 0.1}),
                P.DefineNeuron("p", {"rate": 0.0}),  # OSC messages set its threshold
                P.DefineNeuron("q", {"rate": 0.0}),  # bundles set its threshold
                P.DefineNeuron("keys", {"rate": 0.0, "mute": True}),
                P.Listen("keys", 1),
            )
        ),
        0.0,
    )
    expected: dict[tuple[str, float], float] = {}  # (neuron, thr) -> true logical time
    expected_notes: list[float] = []
    applied: list[tuple[P.Batch, P.Ack]] = []
    engine.watch(lambda batch, ack: applied.append((batch, ack)))
    rng = random.Random(7)
    seq = 0

    def add(wall: float, deliver) -> None:  # type: ignore[no-untyped-def]
        nonlocal seq
        seq += 1
        heapq.heappush(selector.inputs, (wall, seq, deliver))

    origin = clock.origin
    for k in range(int(HOUR) - 30):
        thr = 1.0 + k / 100_000
        w = T0 + k + rng.uniform(0.0, 1.0)
        # a controller's message: applied at its arrival on the audio clock, plus latency
        expected[("p", thr)] = Sim.b_of(w) - origin + LATENCY
        add(w, lambda w=w, thr=thr: osc_in.push(_message("/neuron/p/thr", thr).dgram, arrival=w))
        # a bundle for 0.05..20 s ahead: applied at its timetag, on the audio clock
        w2 = T0 + k + rng.uniform(0.0, 1.0)
        due = w2 + rng.uniform(0.05, 20.0)
        expected[("q", thr)] = Sim.b_of(due) - origin
        add(w2, lambda w2=w2, due=due, thr=thr: osc_in.push(_bundle(due + UNIX, thr), arrival=w2))
        # a key played: the input neuron fires at its arrival, plus latency
        w3 = T0 + k + rng.uniform(0.0, 1.0)
        expected_notes.append(Sim.b_of(w3) - origin + LATENCY)
        add(w3, lambda w3=w3, k=k: midi_port.send([0x90, 36 + k % 48, 100], arrival=w3))
    engine.run()

    errors: dict[str, list[float]] = {"osc": [], "bundle": [], "midi": []}
    notes = iter(expected_notes)
    for batch, ack in applied:
        assert ack.ok, ack.error
        if batch.source == "midi":
            errors["midi"].append(ack.t - next(notes))
            continue
        for op in batch.ops:
            if isinstance(op, P.SetParam) and op.param == "thr":
                kind = "osc" if op.name == "p" else "bundle"
                errors[kind].append(ack.t - expected.pop((op.name, op.value)))
    assert not expected and next(notes, None) is None  # every input was applied
    for kind, errs in errors.items():
        worst = max(abs(e) for e in errs)
        print(f"{kind}: {len(errs)} applied, worst {worst * 1e6:.1f} us off")  # -s: the figure
        assert worst <= 0.001, f"{kind}: {worst * 1e3:.3f} ms off at worst"
    # the status reports the clocks' ratio (measured over the last anchors: 105 % now)
    assert engine.status()["clock"]["ratio"] == pytest.approx(1.05, abs=1e-3)


def _message(address: str, value: float) -> OscMessage:
    msg = OscMessageBuilder(address)
    msg.add_arg(value, "d")  # a double: the value comes back exactly, and names the input
    return msg.build()


def _bundle(unix: float, thr: float) -> bytes:
    bundle = OscBundleBuilder(unix)
    bundle.add_content(_message("/neuron/q/thr", thr))  # type: ignore[arg-type]
    return bundle.build().dgram
