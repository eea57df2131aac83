"""10,000 malformed or hostile datagrams: the engine lives, plays on, changes nothing, counts right."""

from __future__ import annotations

import random
import struct
import time
from collections import Counter

import pytest

from engine.protocol import Connect, DefineNeuron
from tests.engine.osc_rig import OscRig, bundle, message, wait_for


def _pad(b: bytes) -> bytes:
    b += b"\0"
    return b + b"\0" * (-len(b) % 4)


def raw(address: bytes, tags: bytes, data: bytes = b"") -> bytes:
    """A message built by hand, for type tags python-osc's builder would not write."""
    return _pad(address) + _pad(tags) + data


def hostile(rng: random.Random) -> tuple[bytes, str]:
    """One bad datagram and the counter it must land in."""
    kind = rng.randrange(16)
    good = message("/neuron/a/rate", 2.0)
    if kind == 0:  # random bytes (never starting like a message or a bundle)
        first = rng.choice([b for b in range(256) if b not in (ord("/"), ord("#"))])
        return bytes([first]) + rng.randbytes(rng.randrange(0, 300)), "malformed"
    if kind == 1:  # truncated inside the argument
        return good[: -rng.randrange(1, 4)], "malformed"
    if kind == 2:  # a truncated bundle
        b = bundle(time.time() + 10, message("/neuron/a/vel", 3), good)
        return b[: -rng.randrange(1, 4)], "malformed"
    if kind == 3:  # unknown type tag, or a type tag string without its comma
        if rng.random() < 0.5:
            return raw(b"/neuron/a/rate", b",x", b"\0\0\0\1"), "malformed"
        return raw(b"/neuron/a/rate", b"f", struct.pack(">f", 1.0)), "malformed"
    if kind == 4:  # a bundle whose element size lies
        return b"#bundle\0" + b"\0" * 7 + b"\1" + struct.pack(">i", 4000) + good, "malformed"
    if kind == 5:  # wrong argument types
        return rng.choice(
            [
                message("/neuron/a/rate", "fast"),
                message("/neuron/a/rate", b"\1\2"),
                message("/neuron/a/rate"),
                message("/neuron/a/fire", "now"),
                message("/tempo", None),
                message("/conn/a/b/w", "heavy"),
            ]
        ), "type"
    if kind == 6:  # not a number
        value = rng.choice([float("nan"), float("inf"), float("-inf")])
        tag = rng.choice(["f", "d"])
        return raw(
            b"/neuron/a/" + rng.choice([b"thr", b"rate", b"vel"]),
            b"," + tag.encode(),
            struct.pack(">" + tag, value),
        ), "value"
    if kind == 7:  # a NaN double, built the ordinary way
        return message("/tempo", float("nan")), "value"
    if kind == 8:  # a huge address
        return message("/" + "x" * rng.randrange(1000, 60000), 1.0), "address"
    if kind == 9:  # a huge string where a number belongs
        return message("/neuron/a/thr", "9" * rng.randrange(1000, 30000)), "type"
    if kind == 10:  # unknown addresses
        return message(
            rng.choice(
                [
                    "/neuron/zz/rate",
                    "/neuron/a/bogus",
                    "/foo",
                    "/conn/a/zz/w",
                    "/neuron/a",
                    "/neuron/a/rate/x",
                    "/",
                ]
            ),
            1.0,
        ), "address"
    if kind == 11:  # hostile or empty patterns
        return message(
            rng.choice(
                [
                    "/neuron/" + "*" * 40 + "q",
                    "/neuron/[/vel",
                    "/neuron/{a,b/vel",
                    "/neuron/*/zz",
                    "/*/*/*/*/*",
                    "/neuron/" + "?" * 300,
                ]
            ),
            1.0,
        ), "address"
    if kind == 12:  # a bundle holding one good and one bad message: nothing applies
        return bundle(
            time.time() - 1, message("/neuron/a/vel", 1), message("/neuron/q/vel", 1)
        ), "address"
    if kind == 13:  # a future bundle holding a bad value
        return bundle(
            time.time() + 0.2, message("/neuron/a/vel", 1), message("/neuron/a/thr", float("inf"))
        ), "value"
    if kind == 14:  # no arguments where a value is needed
        return message("/neuron/a/dur"), "type"
    return rng.randbytes(rng.randrange(0, 8)).replace(b"/", b"_").replace(b"#", b"_"), "malformed"


@pytest.mark.timing
def test_ten_thousand_hostile_datagrams(rig):
    rig.patch(
        DefineNeuron("a", {"rate": 0.0}),
        DefineNeuron("b", {"rate": 0.0}),
        DefineNeuron("c", {"rate": 8.0, "dur": 0.1, "note": 42}),  # plays throughout
        Connect("a", "b", 0.3),
    )
    before = rig.status()["snapshot"]
    rng = random.Random(5)
    expected: Counter[str] = Counter()
    sent = 0
    start = rig.status()["t"]
    while sent < 10_000:
        for _ in range(min(250, 10_000 - sent)):  # in bursts the socket buffer holds
            data, reason = hostile(rng)
            rig.send(data)
            expected[reason] += 1
            sent += 1
        rig.settled(sent, timeout=10)
    st = rig.settled(sent)
    osc = st["osc"]
    assert osc["received"] == 10_000
    assert osc["applied"] == 0 and osc["ignored"] == 0 and osc["pending"] == 0
    assert {k: v for k, v in osc["dropped"].items() if v} == dict(expected)
    assert sum(expected.values()) == 10_000 and len(expected) == 4

    # the network is as it was (activations apart) and still plays
    after = st["snapshot"]
    for key in ("neurons", "connections", "mappings"):
        if key == "neurons":
            assert {n: v["params"] for n, v in after[key].items()} == {
                n: v["params"] for n, v in before[key].items()
            }
        else:
            assert after[key] == before[key]
    assert (st["tempo"], st["running"]) == (120.0, True) and rig.handle.alive()
    assert rig.handle.restarts == 0
    ons = [e for e in rig.note_ons("c") if e["t"] > start]
    gaps = [b["t"] - a["t"] for a, b in zip(ons, ons[1:], strict=False)]
    assert ons and max(gaps) == pytest.approx(60 / 120 / 8, abs=1e-6)  # not one note missed
    assert max(e["sent"] - e["t"] for e in ons) < 0.2  # and none held back by the flood
    assert any("dropped" in t for t in rig.notices)

    rig.send(message("/neuron/a/vel", 64))
    rig.settled(10_001)
    assert rig.neuron("a")["vel"] == 64
    rig.close()
    events = rig.events_path.read_text().splitlines()
    ons_n = sum('"note_on"' in e for e in events)
    offs_n = sum('"note_off"' in e for e in events)
    assert ons_n == offs_n  # no note left hanging


def test_bundles_for_the_far_future_are_dropped_not_kept(tmp_path):
    rig = OscRig(tmp_path)
    try:
        rig.patch(DefineNeuron("a", {"rate": 0.0}))
        rig.send(bundle(time.time() + 10 * 3600, message("/neuron/a/fire")))
        assert wait_for(lambda: rig.osc()["dropped"]["ahead"] == 1)
        assert rig.osc()["pending"] == 0
    finally:
        rig.close()
