"""OSC from a stranger: parsed strictly, bounded per datagram and while waiting, and an
IPv4 sender on an IPv6 socket is the sender the performer listed."""

from __future__ import annotations

import multiprocessing as mp
import socket
import struct
import time

import pytest

from engine import protocol as P
from engine.io import osc as osc_server
from engine.io.osc import MAX_PENDING_OPS, OscServer
from engine.io.osc_routes import MAX_PATTERNS
from engine.io.osc_udp import UdpIn
from engine.io.osc_wire import MAX_MESSAGES, WireError, parse
from engine.model.network import Network
from engine.runtime.clock import Clock
from engine.runtime.loop import Engine
from tests.engine.fakes import FakeOscIn, RecordingOut
from tests.engine.osc_rig import bundle, message, wait_for


def _pad(b: bytes) -> bytes:
    return b + b"\0" * (4 - len(b) % 4)


def raw(address: str, tags: str, data: bytes = b"") -> bytes:
    """A message built by hand, data and all: what a broken or hostile sender may send."""
    return _pad(address.encode()) + _pad(tags.encode()) + data


def raw_bundle(timetag: float, *elements: bytes) -> bytes:
    secs = int(timetag) + 2_208_988_800
    frac = int((timetag % 1) * 2**32)
    body = b"".join(struct.pack(">i", len(e)) + e for e in elements)
    return b"#bundle\0" + struct.pack(">II", secs, frac) + body


class Rig:
    def __init__(self, allow: tuple[str, ...] = (), neurons: int = 3) -> None:
        self.parent, child = mp.Pipe()
        self.engine = Engine(child, RecordingOut(), Network(), Clock())
        self.source = FakeOscIn()
        self.server = OscServer(self.source, allow)
        self.server.attach(self.engine)
        ops = tuple(P.DefineNeuron(f"n{i}", {"rate": 0.0}) for i in range(neurons))
        self.engine.apply(P.Batch(ops), 0.0)

    def send(self, data: bytes, sender: str = "127.0.0.1") -> dict:
        self.server.handle(data, sender)
        return self.server.status()

    def dropped(self, reason: str) -> int:
        return self.server.status()["dropped"].get(reason, 0)


# --- strict parsing -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        raw("/tempo", ",f"),  # a float whose bytes are missing (python-osc reads 0.0)
        raw("/tempo", ",i"),
        raw("/tempo", ",d", b"\0\0\0\0"),
        raw("/tempo", ",f", struct.pack(">f", 90.0) + b"\0\0\0\0"),  # more data than tags
        raw("/tempo", ",s", b"abcd"),  # a string without its NUL
        raw("/tempo", ",b", struct.pack(">i", 64) + b"\0" * 4),  # a blob overrunning
        raw("/tempo", "f", struct.pack(">f", 90.0)),  # tags without their comma
        raw("/tempo", ",f[", struct.pack(">f", 90.0)),  # an array left open
        raw("/tempo", ",x", b"\0\0\0\0"),  # an unknown tag
        b"/tempo\0\0,f\0\0\x42\xb4",  # cut inside the float (not whole words)
        raw_bundle(0, raw("/tempo", ",f")),  # a short float inside a bundle
    ],
    ids=lambda d: repr(d[:40]),
)
def test_type_tags_and_data_must_agree(data):
    with pytest.raises(WireError):
        parse(data)
    rig = Rig()
    st = rig.send(data)
    assert st["dropped"]["malformed"] == 1 and st["applied"] == 0
    assert rig.engine.net.tempo == 120.0


def test_well_formed_packets_still_parse():
    good = message("/neuron/n0/vel", 90)
    assert parse(good)[0].params == (90,)
    assert [m.address for m in parse(bundle(0, good, message("/tempo", 90.0)))] == [
        "/neuron/n0/vel",
        "/tempo",
    ]
    assert parse(raw("/x", ",[if]T", struct.pack(">if", 1, 2.0)))[0].params == ([1, 2.0], True)


# --- bounded work per datagram ------------------------------------------------------------


def test_a_big_bundle_of_patterns_is_refused_not_worked_through():
    rig = Rig(neurons=64)
    # 64 KB of distinct patterns: each would scan the whole address space
    patterns = [message(f"/neuron/n{i % 64}*/{{vel,thr}}", 0.5) for i in range(2000)]
    st = rig.send(raw_bundle(0, *patterns[: MAX_MESSAGES + 1]))
    assert st["dropped"]["malformed"] == 1  # more messages than one datagram may hold
    st = rig.send(raw_bundle(0, *patterns[: MAX_PATTERNS + 1]))
    assert st["dropped"]["address"] == 1  # more new patterns than one datagram may use
    assert st["applied"] == 0
    st = rig.send(raw_bundle(0, *patterns[:MAX_PATTERNS]))
    assert st["applied"] == 1  # within the allowance: applied as before
    st = rig.send(raw_bundle(0, *patterns[:MAX_PATTERNS] * (MAX_MESSAGES // MAX_PATTERNS)))
    assert st["applied"] == 2  # patterns seen before cost nothing new


def test_far_future_bundles_hold_a_bounded_number_of_changes():
    rig = Rig(neurons=64)
    fat = raw_bundle(time.time() + 300, *[message("/neuron/*/{vel,thr}", 0.5)] * 30)
    for _ in range(60):  # each stands for 30 * 128 = 3,840 changes
        rig.send(fat)
    st = rig.server.status()
    kept = MAX_PENDING_OPS // 3840
    assert st["pending"] == kept and rig.dropped("ahead") == 60 - kept
    assert rig.server._pending_ops == kept * 3840 <= MAX_PENDING_OPS


def test_a_flood_past_the_share_is_dropped_unread_not_queued(monkeypatch):
    rig = Rig()
    monkeypatch.setattr(osc_server, "BURST", 0.0)  # no credit: the share is used up
    rig.server._credit = 0.0
    for _ in range(50):
        rig.source.push(message("/neuron/n0/vel", 90))
    rig.server.drain()
    assert rig.dropped("flood") >= 1 and rig.server.status()["received"] >= 1
    assert rig.engine.net.params("n0")["vel"] == 100


def test_a_datagram_that_waited_too_long_in_the_socket_is_stale():
    rig = Rig()
    rig.source.push(message("/neuron/n0/vel", 90))
    data = rig.source._queue.pop()
    rig.source._queue.append(data._replace(arrival=time.perf_counter() - 5.0))
    rig.server.drain()
    assert rig.dropped("stale") == 1 and rig.engine.net.params("n0")["vel"] == 100


# --- senders -------------------------------------------------------------------------------


def test_an_ipv4_sender_on_an_ipv6_socket_matches_the_allow_list():
    try:
        source = UdpIn("::", 0)
    except Exception as exc:  # noqa: BLE001 - no IPv6 on this machine
        pytest.skip(f"no IPv6 socket: {exc}")
    try:
        parent, child = mp.Pipe()
        engine = Engine(child, RecordingOut(), Network(), Clock())
        server = OscServer(source, ("127.0.0.1",))
        server.attach(engine)
        engine.apply(P.Batch((P.DefineNeuron("n0", {"rate": 0.0}),)), 0.0)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(message("/neuron/n0/vel", 90), ("127.0.0.1", source.port))

        def arrived() -> bool:
            for key, _ in engine._selector.select(0.05):
                key.data()
            return server.received == 1

        assert wait_for(arrived)
        assert server.status()["dropped"].get("sender", 0) == 0
        assert engine.net.params("n0")["vel"] == 90
    finally:
        source.close()


def test_a_listed_sender_is_accepted_either_way_and_others_are_not():
    rig = Rig(allow=("192.168.1.20",))
    rig.send(message("/neuron/n0/vel", 90), "::ffff:192.168.1.20")
    rig.send(message("/neuron/n0/vel", 91), "::ffff:192.168.1.21")
    assert rig.engine.net.params("n0")["vel"] == 90 and rig.dropped("sender") == 1
