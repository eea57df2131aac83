"""Run inside a private network namespace by tests/engine/test_link.py (``unshare -n``):
two linked engines play into one JACK receiver, one changes the tempo, then a plain Link
peer (LinkPython-extern, in this process) sets it. Prints one JSON object of what happened.

``python -m tests.engine.link_peers --receiver lcrecv --steady 4 [--json-out FILE]``;
``--steady 120`` gives the two-minute figure of the README.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time

from engine import protocol as P
from engine.protocol import Notice, Status
from engine.runtime.process import EngineHandle, EngineOptions

# A plain Link peer (LinkPython-extern): joins, says so, sets the tempo it reads, leaves at EOF.
PLAIN_PEER = """
import sys, time, link
peer = link.Link(120.0)
peer.enabled = True
deadline = time.monotonic() + 10
while peer.numPeers() < 1 and time.monotonic() < deadline:
    time.sleep(0.01)
print("joined" if peer.numPeers() >= 1 else "alone", flush=True)
for line in sys.stdin:
    state = peer.captureAppSessionState()
    state.setTempo(float(line), peer.clock().micros())
    peer.commitAppSessionState(state)
peer.enabled = False
"""


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()


class Peer:
    """One engine, linked, with a neuron on every beat (its own note and channel)."""

    def __init__(
        self,
        name: str,
        receiver: str,
        tempo: float,
        ch: int,
        note: int,
        api: str = "jack",
        events: str | None = None,
    ) -> None:
        self.name = name
        self.last: dict = {}
        self.lock = threading.Lock()
        options = EngineOptions(
            midi_api=api,
            events=events,
            virtual=name,
            port=receiver,
            tempo=tempo,
            link=True,
            status_interval=0.02,
        )
        # the neuron is made at beat 0 (the session given at start): it fires on whole beats
        beat = P.Batch((P.DefineNeuron("beat", {"note": note, "ch": ch, "rate": 1.0, "dur": 0.1}),))
        self.handle = EngineHandle(options, self._on, initial=beat)
        self.handle.start()
        assert _wait(lambda: "sync" in self.status(), 15), "the engine did not start"

    def _on(self, msg: object) -> None:
        if isinstance(msg, Status):
            with self.lock:
                self.last = msg.data
        elif isinstance(msg, Notice):
            print(f"{self.name}: {msg.level}: {msg.text}", file=sys.stderr, flush=True)

    def status(self) -> dict:
        with self.lock:
            return dict(self.last)

    def sync(self) -> dict:
        return self.status().get("sync", {})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--receiver", default="lcrecv")
    ap.add_argument("--steady", type=float, default=4.0)
    ap.add_argument("--json-out")
    ap.add_argument("--plain", action="store_true", help="one engine and a plain Link peer")
    ap.add_argument(
        "--events",
        metavar="DIR",
        help="no MIDI: each engine writes DIR/NAME.jsonl (for the README's figures)",
    )
    args = ap.parse_args()
    out = plain(args) if args.plain else pair(args)
    if args.events and not args.plain:
        out["agreement_ms"] = agreement(args.events, out)
    text = json.dumps(out)
    if args.json_out:
        with open(args.json_out, "w") as f:
            f.write(text)
    print(text, flush=True)


def pair(args: argparse.Namespace) -> dict:
    """Two engines join, play, and one changes the tempo."""
    out: dict = {}
    api = "none" if args.events else "jack"
    ev = (lambda n: f"{args.events}/{n}.jsonl") if args.events else (lambda n: None)
    a = Peer("livecode-a", args.receiver, 120.0, 1, 60, api, ev("a"))
    b = Peer("livecode-b", args.receiver, 100.0, 2, 62, api, ev("b"))
    try:
        joined = _wait(
            lambda: (
                a.sync().get("peers", 0) >= 1
                and b.sync().get("peers", 0) >= 1
                and abs(a.status().get("tempo", 0) - b.status().get("tempo", -1)) < 1e-6
            ),
            10,
        )
        out["joined"] = joined and _locked(a, b)
        out["tempo_joined"] = a.status().get("tempo")
        # the join: the later of the two instants an engine came onto the session's line
        # (a status's own time is the clock's, the port's latency behind the network's)
        out["join_frame"] = max(_frame(p, p.sync()["on_line_at"]) for p in (a, b))
        out["join_perf"] = max(p.status()["epoch"] + p.sync()["on_line_at"] for p in (a, b))
        time.sleep(args.steady)
        # one engine's performer changes the tempo: the other follows
        ack = b.handle.request(P.Batch((P.Tempo(140.0),)), timeout=5)
        out["change_frame"] = _frame(b, ack.t)
        out["change_perf"] = b.status()["epoch"] + ack.t
        followed = _wait(lambda: abs(a.status().get("tempo", 0) - 140.0) < 1e-6, 5)
        out["followed"] = followed
        at = a.sync().get("tempo_at")
        out["follow_frame"] = _frame(a, at) if at is not None else None
        out["follow_perf"] = a.status()["epoch"] + at if at is not None else None
        out["epochs"] = [a.status()["epoch"], b.status()["epoch"]]
        _beats(AFTER_CHANGE, a, b)
        out["end_frame"] = _frame(a, a.status()["t"])
        out["sync_a"], out["sync_b"] = a.sync(), b.sync()
    finally:
        a.handle.stop()
        b.handle.stop()
    return out


def agreement(folder: str, out: dict) -> dict:
    """From the two event logs: for each note from the join to the change, the distance to
    the other engine's nearest, as ``perf_counter`` readings (epoch + logical time); ms."""
    ons = []
    for name, epoch in zip("ab", out["epochs"], strict=True):
        with open(f"{folder}/{name}.jsonl") as f:
            events = [json.loads(line) for line in f]
        ons.append([epoch + e["t"] for e in events if e["type"] == "note_on"])
    lo, hi = out["join_perf"], out["change_perf"]
    d = sorted(
        min(abs(x - y) for y in other) * 1e3
        for mine, other in ((ons[0], ons[1]), (ons[1], ons[0]))
        for x in mine
        if lo <= x <= hi
    )
    if not d:
        return {"notes": 0}
    return {
        "notes": len(d),
        "p50": d[len(d) // 2],
        "p99": d[int(0.99 * (len(d) - 1))],
        "max": d[-1],
        "follow_ms": (out["follow_perf"] - out["change_perf"]) * 1e3
        if out.get("follow_perf")
        else None,
    }


def plain(args: argparse.Namespace) -> dict:
    """One engine, and a plain Link peer in a process of its own that sets the tempo."""
    out: dict = {}
    a = Peer("livecode-a", args.receiver, 120.0, 1, 60)
    peer = subprocess.Popen(
        [sys.executable, "-c", PLAIN_PEER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert peer.stdout is not None and peer.stdin is not None
        out["joined"] = (
            peer.stdout.readline().strip() == "joined"
            and _wait(lambda: a.sync().get("peers", 0) >= 1, 5)
            and _locked(a)
        )
        peer.stdin.write("90\n")
        peer.stdin.flush()
        start = time.perf_counter()
        out["followed"] = _wait(lambda: abs(a.status().get("tempo", 0) - 90.0) < 1e-6, 5)
        out["seconds"] = time.perf_counter() - start
        out["follow_frame"] = _frame(a, a.sync()["tempo_at"]) if out["followed"] else None
        time.sleep(args.steady)
        out["end_frame"] = _frame(a, a.status()["t"])
        out["sync_a"] = a.sync()
        st = a.status()
        out["engine_a"] = {
            k: st.get(k)
            for k in (
                "port_late",
                "port_dropped",
                "events",
                "beat",
                "running",
                "tempo",
                "late_ms_max",
            )
        }
    finally:
        if peer.stdin is not None:
            peer.stdin.close()
        peer.wait(5)
        a.handle.stop()
    return out


AFTER_CHANGE = 8  # beats both engines play after the change before the run ends


def _beats(n: float, *peers: Peer) -> bool:
    """Wait until every engine's network has played ``n`` more beats."""
    since = [p.status()["beat"] for p in peers]
    return _wait(
        lambda: all(p.status()["beat"] >= b + n for p, b in zip(peers, since, strict=True)), 30
    )


def _locked(*peers: Peer) -> bool:
    """Wait for the sessions to merge (Link measures for up to ~0.6 s), then for every
    engine to come out of its hold onto the session's bar (at most one quantum)."""
    time.sleep(1.0)
    return _wait(lambda: all(p.sync().get("on_line_at") is not None for p in peers), 10)


def _frame(peer: Peer, t: float) -> int:
    s = peer.status()
    return int((s["frame0"] or 0) + round(t * 48000))


if __name__ == "__main__":
    main()
