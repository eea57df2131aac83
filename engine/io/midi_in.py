"""MIDI input: the factory that opens the input ports, and the server in the engine's loop.

The ports are backends on :class:`engine.io.midi_base.MidiInPort` (rtmidi's in
:mod:`engine.io.rtmidi_ports`, JACK-Client's in :mod:`engine.io.jack_in`); a test's fake
port lives in ``tests/engine/fakes.py``.

A port's callback runs on the port's own thread (rtmidi's). It only appends
``(port, bytes, arrival)`` to a queue (``arrival``: a monotonic reading) and wakes the engine's loop (engine.runtime.wake);
the loop then calls :meth:`MidiInput.drain`, which parses (:class:`MidiParser`), routes
(:class:`MidiRouter`) and applies on the loop's thread, the only one touching the model.
A note-on is applied at once, as its own batch (an input neuron fires at the moment it is
processed, at its arrival plus the port's latency: see ``Engine.arrival_time``); control changes are coalesced per controller within one drain, keeping the
last value, in order with the notes around them. A drain does at most ``DRAIN_SECONDS``
of work so a flood cannot hold back a due note; the queue holds at most ``MAX_QUEUE``
messages and counts the rest as dropped. Nothing here raises on bad input: every
message ends counted (see :meth:`MidiInput.status`).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from engine import protocol as P
from engine.io.midi_base import MidiInPort, MidiUnavailable
from engine.io.midi_routes import MidiParser, MidiRouter
from engine.io.rtmidi_ports import RTMIDI_APIS, RtMidiIn
from engine.runtime.drops import DropLog, Latencies
from engine.runtime.hooks import EngineHooks
from engine.runtime.wake import Wake

__all__ = [
    "MidiInPort",
    "RtMidiIn",
    "MidiInput",
    "open_midi_inputs",
    "DRAIN_SECONDS",
    "MAX_QUEUE",
    "REASONS",
]

DRAIN_SECONDS = 0.001
MAX_QUEUE = 20_000
LOG_SECONDS = 5.0
REASONS = ("sysex", "malformed", "unmapped", "overflow", "refused")


def open_midi_inputs(
    api: str, virtual: str, names: tuple[str, ...] = ()
) -> tuple[list[MidiInPort], list[tuple[str, str]]]:
    """The virtual input ``virtual + "-in"`` and one port per ``names`` (substring match).

    Returns the ports that opened and ``(level, text)`` lines to tell the performer; a
    port that does not open is reported, never fatal.
    """
    if api not in RTMIDI_APIS:
        # the output already said why (--midi-api none, or no MIDI system): once is enough
        return [], [("info", "MIDI in off, as MIDI out")]
    ports: list[MidiInPort] = []
    lines: list[tuple[str, str]] = []
    for target in (None, *names):
        client = f"{virtual}-in" if target is None else f"{virtual}-in-{len(ports)}"
        try:
            port = _open_jack(client, target) if api == "jack" else None
            ports.append(port or RtMidiIn(api, client, target))
        except MidiUnavailable as exc:
            lines.append(("warning", f"MIDI in: {exc}"))
        except (ImportError, OSError, RuntimeError, ValueError) as exc:
            what = "virtual port" if target is None else repr(target)
            lines.append(
                (
                    "warning",
                    f"MIDI in: cannot open {what} on {api}: "
                    f"{str(exc).strip() or type(exc).__name__}",
                )
            )
    if ports:
        lines.append(
            (
                "info",
                "MIDI in: "
                + ", ".join(
                    f"{'virtual port ' if i == 0 and p.virtual else ''}{p.name!r}"
                    for i, p in enumerate(ports)
                )
                + f" on {api}",
            )
        )
    return ports, lines


def _open_jack(client: str, target: str | None) -> MidiInPort | None:
    """JACK-Client's port when that extra is installed (see engine.io.jack_in), else None."""
    try:
        from engine.io.jack_in import JackIn
    except (ImportError, OSError):
        return None
    try:
        return JackIn(client, target)
    except (ImportError, OSError):
        return None


class MidiInput:
    """MIDI input for one engine: ``ports`` feed it, :meth:`attach` hooks it into the loop."""

    def __init__(
        self, ports: list[MidiInPort], tell: Callable[[object], None] | None = None
    ) -> None:
        self.ports = ports
        self.tell = tell or (lambda msg: None)
        self.engine: EngineHooks | None = None
        self.router: MidiRouter | None = None
        self._parsers = [MidiParser() for _ in ports]
        self._queue: deque[tuple[int, Any, float]] = deque()
        self._wake = Wake()
        self._armed = False
        self._lock = threading.Lock()
        self.received = 0  # messages parsed out of what the ports delivered
        self.applied = 0  # batches applied
        self.notes = 0
        self.ccs = 0
        self.coalesced = 0  # control changes superseded by a later value in the same drain
        self.running_status = 0
        self.ignored = 0  # note-offs, real-time, program change, pitch bend...
        self.drops = DropLog(REASONS, self.tell, "MIDI in", "message(s)", LOG_SECONDS)
        self.latency = Latencies()  # arrival -> applied
        self._cc_arrival = 0.0  # arrival of the latest coalesced control change
        for i, port in enumerate(ports):
            port.connect(i, self._push)

    # --- the ports' threads ----------------------------------------------------------------

    def _push(self, index: int, data: list[int] | bytes, arrival: float) -> None:
        if len(self._queue) >= MAX_QUEUE:
            with self._lock:
                self.drops.add("overflow")
            return
        self._queue.append((index, data, arrival))
        if not self._armed:
            self._armed = True
            self._wake.ring()

    # --- the engine's loop -----------------------------------------------------------------

    def attach(self, engine: EngineHooks) -> None:
        self.engine = engine
        self.router = MidiRouter(engine.net)
        engine.add_input(self._wake, self.drain)
        engine.add_status("midi_in", self.status)
        engine.quiet_sources.add("midi")  # no ack per message to the parent

    def drain(self) -> None:
        """Handle queued messages (at most ``DRAIN_SECONDS`` of work), then wait for more."""
        self._wake.clear()
        self._armed = False  # from here a push wakes the loop again
        queue, parsers, router = self._queue, self._parsers, self.router
        assert router is not None, "attach() first"
        deadline = time.perf_counter() + DRAIN_SECONDS
        pending: dict[tuple[int, int], int] = {}  # (ch, cc) -> last value, coalesced
        while queue:
            index, data, arrival = queue.popleft()
            for kind, ch, d1, d2, running in parsers[index].feed(data):
                self.received += 1
                self.running_status += running
                if kind == "note_on":
                    self._flush(pending)
                    self._note(ch, d1, d2, arrival)
                elif kind == "cc":
                    self.ccs += 1
                    fires, mapped = router.cc_fires(ch, d1, d2)
                    if not mapped:
                        self.drops.add("unmapped", f"nothing is mapped to CC {d1} on channel {ch}")
                        continue
                    if fires:
                        self._flush(pending)
                        self._apply(fires, arrival)
                    if (ch, d1) in pending:
                        self.coalesced += 1
                    pending[(ch, d1)] = d2
                    self._cc_arrival = arrival
                elif kind in ("sysex", "malformed"):
                    self.drops.add(
                        kind,
                        "a SysEx message (not used)"
                        if kind == "sysex"
                        else "a malformed MIDI message",
                    )
                else:
                    self.ignored += 1
            if time.perf_counter() > deadline:
                break
        self._flush(pending)
        if queue and not self._armed:  # work left: come back after what is due has played
            self._armed = True
            self._wake.ring()
        self.drops.flush()

    def _flush(self, pending: dict) -> None:
        if not pending:
            return
        router = self.router
        assert router is not None
        ops: list = []
        for (ch, number), value in pending.items():
            ops += router.cc_params(ch, number, value)
        pending.clear()
        if ops:
            self._apply(ops, self._cc_arrival)

    def _note(self, ch: int, note: int, vel: int, arrival: float) -> None:
        self.notes += 1
        router = self.router
        assert router is not None
        ops, heard = router.note_ops(ch, note, vel)
        if not ops:
            self.drops.add("unmapped", f"nothing listens to note {note} on channel {ch}")
            return
        if self._apply(ops, arrival) and heard:
            assert self.engine is not None
            self.engine.mark_fired(heard)

    def _apply(self, ops: list, arrival: float) -> bool:
        engine = self.engine
        assert engine is not None, "attach() first"
        ack = engine.apply(P.Batch(tuple(ops), source="midi"), engine.arrival_time(arrival))
        if ack.ok:
            self.applied += 1
            self.latency.add(max(0.0, ack.wall - arrival))
            return True
        self.drops.add("refused", ack.error)
        return False

    def status(self) -> dict:
        """Counters for the engine's status snapshot (plain builtins)."""
        return {
            "ports": [p.name for p in self.ports],
            "received": self.received,
            "applied": self.applied,
            "notes": self.notes,
            "ccs": self.ccs,
            "coalesced": self.coalesced,
            "running_status": self.running_status,
            "ignored": self.ignored,
            "pending": len(self._queue),
            "dropped": dict(self.drops.counts),
            **self.latency.status(),
        }

    def close(self) -> None:
        for port in self.ports:
            port.close()
        self._wake.close()
