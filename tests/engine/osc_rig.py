"""A running engine with OSC on a free UDP port, and helpers to talk to it (tests only)."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from engine.protocol import Batch, Notice
from engine.runtime.process import EngineHandle, EngineOptions

__all__ = ["OscRig", "free_port", "message", "bundle", "wait_for", "Listener"]


def free_port(host: str = "127.0.0.1") -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(predicate, timeout: float = 5.0, step: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


def message(address: str, *args: object) -> bytes:
    b = OscMessageBuilder(address)
    for a in args:
        b.add_arg(a)
    return b.build().dgram


def bundle(timetag: float, *messages: bytes) -> bytes:
    """A bundle of ready-made message datagrams; ``timetag`` in Unix seconds or IMMEDIATELY."""
    b = OscBundleBuilder(timetag)
    for m in messages:
        b.add_content(OscMessage(m))
    return b.build().dgram


class Listener:
    """A UDP socket on 127.0.0.1 that collects OSC messages (for feedback)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.got: list[tuple[str, list]] = []

    def collect(self, until, timeout: float = 3.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if until(self.got):
                return True
            try:
                data, _ = self.sock.recvfrom(65536)
            except TimeoutError:
                continue
            m = OscMessage(data)
            self.got.append((m.address, list(m.params)))
        return bool(until(self.got))

    def close(self) -> None:
        self.sock.close()


class OscRig:
    """An engine (no MIDI) with OSC on a free port, its events file and its status."""

    def __init__(self, tmp_path: Path, **config: object) -> None:
        self.port = free_port()
        self.events_path = tmp_path / "events.jsonl"
        self.notices: list[str] = []
        cfg = EngineOptions(
            midi_api="none",
            osc_port=self.port,
            events=str(self.events_path),
            status_interval=0.05,
            **config,
        )  # type: ignore[arg-type]
        self.handle = EngineHandle(cfg, self._on_message)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.handle.start()
        assert wait_for(lambda: self.handle.last_status is not None, 10), self.notices

    def _on_message(self, msg: object) -> None:
        if isinstance(msg, Notice):
            self.notices.append(msg.text)

    def patch(self, *ops: object) -> None:
        ack = self.handle.request(Batch(tuple(ops)), timeout=5)
        assert ack.ok, ack.error
        seen = self.status()["t"]
        assert wait_for(lambda: self.status()["t"] > seen, 2)  # a status that includes it

    def send(self, data: bytes, sock: socket.socket | None = None) -> None:
        (sock or self.sock).sendto(data, ("127.0.0.1", self.port))

    def status(self) -> dict:
        st = self.handle.last_status
        assert st is not None
        return st

    def osc(self) -> dict:
        return self.status()["osc"]

    def settled(self, received: int, timeout: float = 5.0) -> dict:
        """Wait until the engine has handled ``received`` datagrams and none is pending."""

        def done() -> bool:
            o = self.handle.last_status["osc"]  # type: ignore[index]
            return o["received"] >= received and o["pending"] == 0

        assert wait_for(done, timeout), self.osc()
        # one more status, so the network in it includes the last datagram's effect
        seen = self.status()["t"]
        assert wait_for(lambda: self.status()["t"] > seen, 2)
        return self.status()

    def neuron(self, name: str) -> dict:
        return self.status()["snapshot"]["neurons"][name]["params"]

    def events(self) -> list[dict]:
        self.handle.request(Batch(()), timeout=5)  # flushes nothing itself, but orders
        seen = self.status()["t"]
        wait_for(lambda: self.status()["t"] > seen, 2)  # a status flushes the event log
        if not self.events_path.exists():
            return []
        return [json.loads(line) for line in self.events_path.read_text().splitlines() if line]

    def note_ons(self, neuron: str | None = None) -> list[dict]:
        return [
            e
            for e in self.events()
            if e["type"] == "note_on" and (neuron is None or e["neuron"] == neuron)
        ]

    def logical(self, unix_time: float) -> float:
        """The engine's logical time at ``unix_time``."""
        return unix_time - (time.time() - time.perf_counter()) - self.status()["epoch"]

    def close(self) -> None:
        self.handle.stop()
        self.sock.close()


__all__ += ["IMMEDIATELY"]
