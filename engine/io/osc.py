"""The OSC server: datagrams in the engine's own loop, turned into patch batches.

:class:`OscServer` reads from an :class:`~engine.io.osc_base.OscIn` (a UDP socket in
performance, :func:`open_osc_server` builds it; a fake in tests). The engine's loop wakes
on it and calls :meth:`OscServer.drain`, which reads every pending datagram (for at most
``DRAIN_SECONDS`` of work, so a flood cannot hold back a due note), parses it with
python-osc, routes it (:mod:`engine.io.osc_routes`) and applies it: a message or a bundle
is one batch, applied whole or not at all; a bundle's timetag is kept through the
engine's scheduler (a past timetag means now). Nothing here raises on bad input: every
datagram ends counted as applied, ignored (a button's release) or dropped by reason,
and drops are reported in a rate-limited notice.

Feedback (an :class:`~engine.io.osc_base.OscOut`) gets ``/fired name note vel`` for every
note played and the parameters the language changes, echoed to the controls mapped to
them, so faders follow code.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Iterable
from typing import Any

from engine import protocol as P
from engine.io.osc_base import OscIn, OscOut
from engine.io.osc_routes import REASONS, Drop, Router, unmap_value
from engine.io.osc_udp import OscError, UdpIn, UdpOut, parse_hostport
from engine.io.osc_wire import WireError, parse
from engine.runtime.drops import DropLog, Latencies
from engine.runtime.hooks import EngineHooks

__all__ = ["OscServer", "open_osc_server", "OscError", "parse_hostport", "DRAIN_SECONDS"]

DRAIN_SECONDS = 0.001  # most work per wake-up before the loop gets to play what is due
MAX_AHEAD = 600.0  # seconds a bundle's timetag may lie in the future
MAX_PENDING = 1000  # bundles waiting for their time at once
LOG_SECONDS = 5.0  # at most one notice about dropped datagrams this often
MAX_PENDING_OPS = 20_000  # operations held in those bundles, together
MAX_OPS = 4096  # operations one datagram may stand for (patterns expand)
MAX_WAIT = 0.5  # seconds a datagram may have waited in the socket: older ones are stale
# Share of the loop's time OSC may take over a burst: a flood past it is read and dropped
# unparsed ("flood"), so the engine (at realtime priority) never starves JACK or the notes.
SHARE = 0.5
BURST = 0.02  # seconds of work a burst may use before the share applies
ROOM_MARGIN = 0.0002  # a drain ends this long before the next note is due


def open_osc_server(
    host: str = "127.0.0.1",
    port: int = 8000,
    allow: Iterable[str] = (),
    feedback: str | None = None,
    tell: Callable[[object], None] | None = None,
) -> OscServer:
    """The OSC server on a UDP socket at ``host:port``; ``feedback`` is ``"HOST:PORT"``
    or None. Raises :class:`OscError` (one line) when it cannot listen or a value is bad."""
    allowed = _allow_list(allow)
    target = parse_hostport(feedback) if feedback else None
    source = UdpIn(host, port)
    try:
        out = UdpOut(*target) if target else None
    except OscError:
        source.close()
        raise
    return OscServer(source, allowed, out, tell)


def _allow_list(allow: Iterable[str]) -> frozenset[str]:
    try:
        return frozenset(_plain_ip(str(ipaddress.ip_address(a.strip()))) for a in allow)
    except ValueError as exc:
        raise OscError(f"--osc-allow takes IP addresses: {exc}") from None


def _plain_ip(sender: str) -> str:
    """``sender`` as it is listed: an IPv4 sender reaching an IPv6 socket (``--osc-host ::``)
    arrives as ``::ffff:a.b.c.d`` and is the IPv4 address ``a.b.c.d``."""
    if sender.startswith("::ffff:"):
        try:
            mapped = ipaddress.IPv6Address(sender).ipv4_mapped
        except ValueError:
            return sender
        if mapped is not None:
            return str(mapped)
    return sender


class OscServer:
    """OSC for one engine, read from ``source``; see the module docstring.

    ``allow`` lists sender IPs (empty: anyone who can reach the source); ``feedback``
    receives ``/fired`` and echoes, or None; ``tell`` receives :class:`protocol.Notice`
    objects.
    """

    def __init__(
        self,
        source: OscIn,
        allow: Iterable[str] = (),
        feedback: OscOut | None = None,
        tell: Callable[[object], None] | None = None,
    ) -> None:
        self.source = source
        self.allow = _allow_list(allow)
        self.host, self.port = source.host, source.port
        self.feedback = feedback
        self.tell = tell or (lambda msg: None)
        self.engine: EngineHooks | None = None
        self.router: Router | None = None
        self.received = 0
        self.applied = 0
        self.ignored = 0
        self.drops = DropLog(REASONS, self.tell, "OSC", "datagram(s)", LOG_SECONDS)
        self.latency = Latencies()  # due -> applied, every datagram
        self._inflight: dict[int, list] = {}  # id(batch) -> [batch, packet state]
        self._pending = 0  # datagrams with a batch still waiting for its timetag
        self._pending_ops = 0  # operations in those batches
        self._credit = BURST  # seconds of work OSC may still use now (see SHARE)
        self._credited = time.perf_counter()

    # --- wiring --------------------------------------------------------------------------

    def attach(self, engine: EngineHooks) -> None:
        """Serve ``engine`` from its own loop."""
        self.engine = engine
        self.router = Router(engine.net)
        engine.add_input(self.source, self.drain)
        engine.add_status("osc", self.status)
        engine.quiet_sources.add("osc")  # the parent needs no ack per controller message
        engine.watch(self._watched)
        if self.feedback is not None:
            engine.add_tap(self._fired)

    def describe(self) -> str:
        who = ", ".join(sorted(self.allow)) if self.allow else "any sender"
        text = f"OSC listening on {self.host}:{self.port} (accepting {who})"
        if self.feedback is not None:
            text += f"; feedback to {self.feedback.target[0]}:{self.feedback.target[1]}"
        return text

    def close(self) -> None:
        self.source.close()
        if self.feedback is not None:
            self.feedback.close()

    # --- receiving -----------------------------------------------------------------------

    def drain(self) -> None:
        """Read and handle pending datagrams: at most ``DRAIN_SECONDS`` of work, then the
        loop plays what is due. Past OSC's share of the time, or stale, they are dropped
        unread (a flood must not build a backlog or take the CPU from the notes)."""
        source = self.source
        # arrivals are stamped on the engine's monotonic clock; the work is timed for real
        mono = self.engine.clock.mono if self.engine is not None else time.perf_counter
        start = time.perf_counter()
        self._credit = min(BURST, self._credit + (start - self._credited) * SHARE)
        deadline = start + min(DRAIN_SECONDS, self._room())
        while (dgram := source.receive()) is not None:
            began = time.perf_counter()
            if self._credit <= 0.0:
                self.received += 1
                self.drops.add("flood", "more OSC than the engine may spend its time on")
            elif dgram.arrival < mono() - MAX_WAIT:
                self.received += 1
                self.drops.add("stale", f"waited more than {MAX_WAIT:g} s in the socket")
            else:
                self.handle(dgram.data, dgram.sender, dgram.arrival)
            ended = time.perf_counter()
            self._credit -= ended - began
            if ended > deadline:
                break
        self._credited = time.perf_counter()
        self.drops.flush()

    def _room(self) -> float:
        """Seconds until the next note is due (less a margin): a drain that would run into
        it stops there, after one datagram at least."""
        engine = self.engine
        if engine is None:
            return DRAIN_SECONDS
        due = engine.net.next_time() - engine.lead
        return due - engine.clock.now() - ROOM_MARGIN

    def handle(self, data: bytes, sender: str, arrival: float | None = None) -> None:
        """Count, check, parse, route and apply (or schedule) one datagram.

        ``arrival`` is a monotonic reading (None: now). A message, and a bundle whose
        timetag has passed, applies at its arrival plus the port's latency; a bundle
        with a timetag to come is applied when the monotonic clock reaches it, on
        whatever clock the engine's logical time follows (engine.runtime.clocks).
        """
        self.received += 1
        sender = _plain_ip(sender)
        if self.allow and sender not in self.allow:
            self.drops.add("sender", f"sender {sender} is not in --osc-allow")
            return
        try:
            try:
                messages = parse(data)
            except WireError as exc:
                raise Drop("malformed", str(exc)) from None
            groups: dict[float, list] = {}
            router = self.router
            assert router is not None, "attach() first"
            count = 0
            router.start_packet()
            for message in messages:
                ops = router.ops(message.address, message.params)
                count += len(ops)
                if count > MAX_OPS:
                    raise Drop("address", f"one datagram may stand for {MAX_OPS} changes at most")
                groups.setdefault(message.time, []).extend(ops)
        except Drop as drop:
            self.drops.add(drop.reason, drop.detail)
            return
        batches = [(when, P.Batch(tuple(ops), source="osc")) for when, ops in groups.items() if ops]
        if not batches:
            self.ignored += 1
            return
        engine = self.engine
        assert engine is not None, "attach() first"
        clock = engine.clock
        handled = clock.mono()
        if arrival is None:
            arrival = handled
        bundle = data.startswith(b"#bundle")
        timed = []  # (monotonic reading due, batch)
        for when, batch in batches:
            # the parser times a message, and an immediate or past bundle, at its parse: now
            due = clock.from_unix(when) if bundle else arrival
            timed.append((due if due > handled else arrival, batch))
        last = max(due for due, _ in timed)
        if last > arrival and (
            self._pending >= MAX_PENDING
            or self._pending_ops + count > MAX_PENDING_OPS
            or last > handled + MAX_AHEAD
        ):
            # a sender must not fill the engine's memory with bundles for next year
            self.drops.add(
                "ahead",
                f"bundles may wait {MAX_AHEAD:g} s at most, {MAX_PENDING} "
                f"(of {MAX_PENDING_OPS:,} changes) at a time",
            )
            return
        # when the last batch is due to be applied: at arrival, or a latency before its time
        state = _Inflight(len(batches), True, last if last == arrival else last - engine.lead)
        state.count = count
        state.scheduled = last > arrival
        if state.scheduled:
            self._pending += 1
            self._pending_ops += count
        for due, batch in timed:
            self._inflight[id(batch)] = [batch, state]
            if due == arrival:
                engine.apply(batch, engine.arrival_time(arrival))
            else:
                engine.schedule_mono(batch, due)

    def _watched(self, batch: P.Batch, ack: P.Ack) -> None:
        """Engine watcher: settle OSC datagrams as their batches are applied; echo others."""
        if batch.source != "osc":
            if ack.ok and self.feedback is not None:
                self.echo(batch)
            return
        entry = self._inflight.pop(id(batch), None)
        if entry is None:
            return
        state = entry[1]
        state.left -= 1
        if not ack.ok:
            state.ok = False
            self.drops.last = ack.error
        if state.left == 0:
            if state.scheduled:
                self._pending -= 1
                self._pending_ops -= state.count
            if state.ok:
                self.applied += 1
                self.latency.add(max(0.0, ack.wall - state.due))
            else:
                self.drops.add("refused")

    # --- feedback ------------------------------------------------------------------------

    def _fired(self, events: list[P.Event]) -> None:
        """An engine tap: ``/fired name note vel`` for each note-on."""
        fb = self.feedback
        assert fb is not None
        for ev in events:
            if ev.type == "note_on":
                fb.send("/fired", (ev.neuron, ev.note, ev.vel))

    def echo(self, batch: P.Batch) -> None:
        """Send the values ``batch`` set to the controls mapped to them, and to /neuron/..."""
        fb, engine, router = self.feedback, self.engine, self.router
        assert fb is not None and engine is not None and router is not None
        net = engine.net
        touched: set[tuple[str, str]] = set()
        for op in batch.ops:
            if isinstance(op, (P.SetParam, P.Mute)):
                param = op.param if isinstance(op, P.SetParam) else "mute"
                touched.add((op.name, param))
                params = net.params(op.name)
                if params is not None:
                    fb.send(f"/neuron/{op.name}/{param}", _osc_args(params[param]))
            elif isinstance(op, P.DefineNeuron):
                touched.update((op.name, p) for p in P.PARAMS)
            elif isinstance(op, P.Tempo):
                touched.add(("", "tempo"))
                fb.send("/tempo", (float(net.tempo),))
            elif isinstance(op, P.Map) and op.source == "osc":
                touched.add((op.name, op.param))
        if not touched:
            return
        for address, maps in router.mapped().items():
            if any((m["name"], m["param"]) in touched for m in maps):
                args = self._control_position(maps)
                if args is not None:
                    fb.send(address, args)

    def _control_position(self, maps: list[dict]) -> list[float] | None:
        """The 0..1 arguments that show the mapped values, or None if one is unknown."""
        assert self.engine is not None
        net = self.engine.net
        slots: dict[int, float] = {}
        for m in maps:
            if m["param"] == "fire":
                continue
            if m["param"] == "tempo":
                value: Any = net.tempo
            else:
                params = net.params(m["name"])
                if params is None:
                    continue
                value = params[m["param"]]
            if isinstance(value, tuple):
                value = value[0]
            slots[m["arg"]] = unmap_value(m, float(value))
        if not slots or sorted(slots) != list(range(max(slots) + 1)):
            return None  # e.g. only the y of an xy pad is mapped: x cannot be shown
        return [slots[i] for i in range(len(slots))]

    # --- status --------------------------------------------------------------------------

    def status(self) -> dict:
        """Counters for the engine's status snapshot (plain builtins)."""
        out = {
            "host": self.host,
            "port": self.port,
            "received": self.received,
            "applied": self.applied,
            "ignored": self.ignored,
            "pending": self._pending,
            "dropped": dict(self.drops.counts),
            **self.latency.status(),
        }
        if self.feedback is not None:
            out["feedback_sent"] = self.feedback.sent
            out["feedback_errors"] = self.feedback.errors
        return out


class _Inflight:
    """One datagram whose batches are being applied: how many are left, whether all were
    accepted, the monotonic reading when the last was due to be applied, how many
    changes it holds."""

    __slots__ = ("left", "ok", "due", "scheduled", "count")

    def __init__(self, left: int, ok: bool, due: float) -> None:
        self.left, self.ok, self.due, self.scheduled, self.count = left, ok, due, False, 0


def _osc_args(value: object) -> tuple:
    return value if isinstance(value, tuple) else (value,)  # a note list goes as several ints
