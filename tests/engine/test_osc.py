"""OSC over real UDP sockets against a running engine: DESIGN §6, mappings, bundles, feedback."""

from __future__ import annotations

import math
import os
import signal
import socket
import time

import pytest

from engine.protocol import Connect, DefineNeuron, Map, SetParam, Tempo
from tests.engine.osc_rig import IMMEDIATELY, Listener, OscRig, bundle, message, wait_for

QUIET = {"rate": 0.0, "dur": 8.0}  # never fires by itself; a fired note sounds a while


def test_every_address_of_design_6(rig):
    rig.patch(
        DefineNeuron("a", dict(QUIET)),
        DefineNeuron("b", dict(QUIET)),
        Connect("a", "b", 0.2, 0.5, "pulse"),
    )
    sent = [
        message("/neuron/a/vel", 90),
        message("/neuron/a/thr", 2.5),
        message("/neuron/a/note", "D3"),
        message("/neuron/b/note", 48.0),
        message("/neuron/b/vel", 300),  # clamped to 127
        message("/neuron/b/prob", -2.0),  # clamped to 0
        message("/neuron/b/ch", 3.7),  # clamped, rounded to 4
        message("/neuron/b/mute", True),
        message("/conn/a/b/w", -0.75),
        message("/tempo", 90),
        message("/neuron/a/fire"),
    ]
    for m in sent:
        rig.send(m)
    st = rig.settled(len(sent))
    a, b = rig.neuron("a"), rig.neuron("b")
    assert (a["vel"], a["thr"], a["note"]) == (90, 2.5, 50)
    assert (b["note"], b["vel"], b["prob"], b["ch"], b["mute"]) == (48, 127, 0.0, 4, True)
    (conn,) = st["snapshot"]["connections"]
    assert conn["w"] == -0.75 and conn["delay"] == 0.5  # the weight changes, nothing else
    assert st["tempo"] == 90.0
    fired = rig.note_ons("a")
    assert [(e["note"], e["vel"]) for e in fired] == [(50, 90)]
    assert st["osc"]["applied"] == len(sent) and sum(st["osc"]["dropped"].values()) == 0

    rig.send(message("/tempo", 5000.0))  # clamped to the tempo range
    rig.send(message("/panic"))
    st = rig.settled(len(sent) + 2)
    assert st["tempo"] == 999.0 and st["sounding"] == []
    offs = [e for e in rig.events() if e["type"] == "note_off" and e["neuron"] == "a"]
    assert offs and offs[0]["t"] < fired[0]["t"] + 1.0  # panic ended the 8-beat note early

    rig.send(message("/stop"))
    st = rig.settled(len(sent) + 3)
    assert st["running"] is False
    rig.send(message("/start", 1.0))
    rig.send(message("/stop", 0.0))  # a button's release: ignored
    st = rig.settled(len(sent) + 5)
    assert st["running"] is True and st["osc"]["ignored"] == 1


def test_mapped_fader_moves_parameter_across_its_range(rig):
    rig.patch(
        DefineNeuron("a", dict(QUIET)),
        Map("osc", "/1/fader1", "a", "thr", 0.5, 2.0),
        Map("osc", "/1/xy1", "a", "rate", 0.25, 8.0, "exp", 1),
        Map("osc", "/1/multifader1/3", "a", "vel", 1, 127),
        Map("osc", "/1/toggle1", "a", "mute"),
        Map("osc", "/1/rotary1", "", "tempo", 60, 180, "exp"),
    )
    n = 0

    def move(address, *args):
        nonlocal n
        rig.send(message(address, *args))
        n += 1
        rig.settled(n)

    for x, thr in ((0.0, 0.5), (0.5, 1.25), (1.0, 2.0), (7.0, 2.0), (-1, 0.5)):
        move("/1/fader1", x)
        assert rig.neuron("a")["thr"] == pytest.approx(thr, abs=1e-6)
    for y, rate in ((0.0, 0.25), (0.5, math.sqrt(2)), (1.0, 8.0)):
        move("/1/xy1", 0.9, y)  # arg=1: the pad's y
        assert rig.neuron("a")["rate"] == pytest.approx(rate, rel=1e-5)
    move("/1/multifader1/3", 0.5)
    assert rig.neuron("a")["vel"] == 64
    move("/1/toggle1", True)
    assert rig.neuron("a")["mute"] is True
    move("/1/toggle1", 0)
    assert rig.neuron("a")["mute"] is False
    move("/1/rotary1", 0.5)
    assert rig.status()["tempo"] == pytest.approx(math.sqrt(60 * 180), rel=1e-5)
    assert rig.osc()["applied"] == n


def test_push_fires_on_press_not_release(rig):
    rig.patch(DefineNeuron("a", dict(QUIET, note=40)), Map("osc", "/1/push1", "a", "fire"))
    rig.send(message("/1/push1", 1.0))
    rig.send(message("/1/push1", 0.0))
    rig.send(message("/1/push1", 1.0))
    st = rig.settled(3)
    assert len(rig.note_ons("a")) == 2
    assert st["osc"]["applied"] == 2 and st["osc"]["ignored"] == 1


def test_bundle_applies_whole_at_its_timetag(rig):
    rig.patch(DefineNeuron("a", dict(QUIET)), DefineNeuron("b", dict(QUIET, note=64)))
    target = time.time() + 0.3
    rig.send(
        bundle(
            target,
            message("/neuron/a/vel", 77),
            message("/neuron/a/fire"),
            message("/neuron/b/fire"),
        )
    )
    time.sleep(0.1)
    assert rig.note_ons() == [] and rig.osc()["pending"] == 1  # not yet
    rig.settled(1, timeout=3)
    expected = rig.logical(target)
    ons = rig.note_ons()
    assert [(e["neuron"], e["vel"]) for e in ons] == [("a", 77), ("b", 100)]
    assert ons[0]["t"] == ons[1]["t"]  # one instant
    assert abs(ons[0]["t"] - expected) < 0.003, (ons[0]["t"], expected)
    assert rig.osc()["applied"] == 1

    # a past timetag means now; a bundle with one bad message changes nothing at all
    rig.send(bundle(time.time() - 5, message("/neuron/b/vel", 12)))
    rig.send(bundle(IMMEDIATELY, message("/neuron/a/vel", 5), message("/neuron/zz/vel", 5)))
    rig.send(
        bundle(
            time.time() + 0.05, message("/neuron/a/vel", 6), message("/neuron/a/rate", float("nan"))
        )
    )
    st = rig.settled(4)
    assert rig.neuron("b")["vel"] == 12 and rig.neuron("a")["vel"] == 77
    assert st["osc"]["dropped"]["address"] == 1 and st["osc"]["dropped"]["value"] == 1


def test_address_patterns(rig):
    rig.patch(*(DefineNeuron(n, dict(QUIET)) for n in ("h0", "h1", "h2", "kick")))
    rig.send(message("/neuron/*/vel", 90))
    rig.send(message("/neuron/h?/ch", 2))
    rig.send(message("/neuron/{kick,h2}/prob", 0.5))
    rig.send(message("/neuron/h[!0]/dur", 0.5))
    rig.send(message("/neuron/h[0-1]/note", 70))
    rig.send(message("/neuron/nobody*/vel", 1))
    st = rig.settled(6)
    p = {n: rig.neuron(n) for n in ("h0", "h1", "h2", "kick")}
    assert all(v["vel"] == 90 for v in p.values())
    assert [p[n]["ch"] for n in ("h0", "h1", "h2", "kick")] == [2, 2, 2, 1]
    assert [p[n]["prob"] for n in ("h0", "h1", "h2", "kick")] == [1.0, 1.0, 0.5, 0.5]
    assert [p[n]["dur"] for n in ("h0", "h1", "h2", "kick")] == [8.0, 0.5, 0.5, 8.0]
    assert [p[n]["note"] for n in ("h0", "h1", "h2", "kick")] == [70, 70, 60, 60]
    assert st["osc"]["applied"] == 5 and st["osc"]["dropped"]["address"] == 1


def test_sender_not_allowed_changes_nothing(tmp_path):
    rig = OscRig(tmp_path, osc_allow=("127.0.0.1",))
    stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        stranger.bind(("127.0.0.2", 0))
        rig.patch(DefineNeuron("a", dict(QUIET)))
        before = rig.status()["snapshot"]["neurons"]
        for m in (
            message("/neuron/a/vel", 1),
            message("/neuron/a/fire"),
            message("/stop"),
            message("/tempo", 30.0),
        ):
            rig.send(m, stranger)
        st = rig.settled(4)
        assert st["osc"]["dropped"]["sender"] == 4 and st["osc"]["applied"] == 0
        assert st["snapshot"]["neurons"] == before and st["running"] and st["tempo"] == 120
        assert rig.note_ons() == []
        assert any("127.0.0.2" in t for t in rig.notices)  # the rate-limited log line
        rig.send(message("/neuron/a/vel", 1))  # from 127.0.0.1: accepted
        rig.settled(5)
        assert rig.neuron("a")["vel"] == 1
    finally:
        stranger.close()
        rig.close()


def test_feedback_fired_and_echoes(tmp_path):
    listener = Listener()
    rig = OscRig(tmp_path, osc_feedback=f"127.0.0.1:{listener.port}")
    try:
        rig.patch(
            DefineNeuron("a", dict(QUIET, note=45, vel=99)),
            Map("osc", "/1/fader1", "a", "thr", 0.5, 2.0),
            Map("osc", "/1/rotary1", "", "tempo", 60, 240, "exp"),
        )
        # the new mapping shows the current value at once: thr 1.0 is a third up the fader
        assert listener.collect(lambda got: ("/1/fader1", [pytest.approx(1 / 3)]) in got)
        rig.patch(SetParam("a", "thr", 1.25), Tempo(120))
        assert listener.collect(
            lambda got: (
                ("/1/fader1", [pytest.approx(0.5)]) in got
                and ("/neuron/a/thr", [1.25]) in got
                and ("/1/rotary1", [pytest.approx(0.5)]) in got
                and ("/tempo", [120.0]) in got
            )
        )
        rig.send(message("/neuron/a/fire"))
        assert listener.collect(lambda got: ("/fired", ["a", 45, 99]) in got)
        n = len(listener.got)
        rig.send(message("/1/fader1", 0.9))  # a controller's own move is not echoed back
        rig.settled(2)
        time.sleep(0.1)
        listener.collect(lambda got: False, timeout=0.2)
        assert [g for g in listener.got[n:] if g[0] != "/fired"] == []
        assert rig.osc()["feedback_sent"] >= 6
    finally:
        rig.close()
        listener.close()


def test_mappings_survive_an_engine_restart(rig):
    rig.patch(DefineNeuron("a", dict(QUIET)), Map("osc", "/1/fader1", "a", "thr", 0.5, 2.0))
    rig.settled(0)
    pid = rig.handle.pid
    os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: rig.handle.restarts == 1 and rig.handle.alive(), 10)
    assert wait_for(
        lambda: (
            rig.handle.last_status is not None
            and rig.status().get("osc", {}).get("port") == rig.port
        ),
        10,
    )
    assert rig.status()["snapshot"]["mappings"][0]["address"] == "/1/fader1"
    assert wait_for(
        lambda: (rig.send(message("/1/fader1", 1.0)), rig.neuron("a")["thr"] == 2.0)[1], 5
    )


def test_conn_weight_of_a_connection_with_taps(rig):
    rig.patch(
        DefineNeuron("a", dict(QUIET)),
        DefineNeuron("b", dict(QUIET)),
        Connect("a", "b", (0.2, 0.3), (0.5, 1.5), "pulse"),
    )
    rig.send(message("/conn/a/b/w", 0.25, 0.75))  # one per tap
    st = rig.settled(1)
    (conn,) = st["snapshot"]["connections"]
    assert (conn["w"], conn["delay"]) == ([0.25, 0.75], [0.5, 1.5])
    rig.send(message("/conn/a/b/w", -0.5))  # one for every tap
    rig.send(message("/conn/a/b/w", 0.1, 0.2, 0.3))  # neither: dropped, nothing changes
    st = rig.settled(3)
    (conn,) = st["snapshot"]["connections"]
    assert (conn["w"], conn["delay"]) == ([-0.5, -0.5], [0.5, 1.5])
    assert st["osc"]["dropped"]["type"] == 1
