"""OSC routing: which patch operations an OSC message stands for (DESIGN §6). No sockets.

:class:`Router` reads the network (neurons, connections, mappings) and turns one
message ``(address, args)`` into protocol ops, or raises :class:`Drop` with the counter
it belongs to. Exact addresses are looked up directly; addresses with pattern characters
(``* ? [] {}``) are matched part by part (a neuron's name against the neurons, its
parameter against the parameters), so a pattern costs one match per neuron, not one per
address; a datagram may hold at most :data:`MAX_PATTERNS` patterns not seen before
(the routes of each are kept until the network's shape changes).

Numbers: ints, floats and booleans are accepted (``T`` is 1, ``F`` is 0); NaN and
infinities are dropped ("value"), other types are dropped ("type"). Values set directly
(``/neuron/n1/rate 2``) are in the parameter's units and clamped to its range; mapped
controls send 0..1, clamped, and the mapping scales that onto ``lo..hi``.
Triggers (``fire``, ``/panic``, ``/stop``, ``/start``, mapped pushes) act on a message
with no argument or a first argument above 0.5 (a press), and ignore the release.
"""

from __future__ import annotations

import math
import re
from typing import Any

from engine import protocol as P
from engine.errors import EngineError
from engine.model.mapping import control_op, map_value, unmap_value  # shared with MIDI mappings

__all__ = ["Router", "Drop", "map_value", "unmap_value", "REASONS", "PATTERN_CHARS"]

# Why a datagram was dropped; every one of them is counted in the status.
REASONS = (
    "sender",
    "malformed",
    "address",
    "type",
    "value",
    "refused",
    "ahead",
    "flood",
    "stale",
)
PATTERN_CHARS = frozenset("*?[]{}")
MAX_PATTERN = 256  # characters in an address pattern; exact addresses may be longer (and unknown)
TRIGGERS = {"panic": P.Panic, "stop": P.Stop, "start": P.Start}
MAX_PATTERNS = 4  # new address patterns in one datagram (each scans the network once)
MAX_CACHED = 256  # patterns whose routes are kept


class Drop(EngineError):
    """A message refused: ``reason`` is one of :data:`REASONS`, ``detail`` says why."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def number(args: list | tuple, i: int, address: str) -> float:
    """Argument ``i`` as a finite float (booleans are 0 and 1), or :class:`Drop`."""
    if i >= len(args):
        raise Drop(
            "type",
            f"{address} needs a number as argument {i + 1}, got "
            f"{len(args)} argument{'' if len(args) == 1 else 's'}",
        )
    v = args[i]
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if not isinstance(v, (int, float)):
        raise Drop("type", f"{address} needs a number, got {type(v).__name__}")
    x = float(v)
    if not math.isfinite(x):
        raise Drop("value", f"{address} needs a finite number, got {x!r}")
    return x


def pressed(args: list | tuple, i: int, address: str) -> bool:
    """A trigger: no argument, or argument ``i`` above 0.5 (a press; 0 is the release)."""
    if not args:
        return True
    return number(args, i, address) > 0.5


def _param_value(param: str, v: object, address: str) -> object:
    """A direct value for ``param``, clamped; note names ("C4") are accepted for ``note``."""
    if param == "note" and isinstance(v, str):
        try:
            return P.note_number(v)
        except P.ProtocolError as exc:
            raise Drop("value", f"{address}: {exc}") from None
    x = number([v], 0, address)
    if param == "mute":
        return x >= 0.5
    return P.clamp_param(param, x)


class Router:
    """Turns OSC messages into ops against ``net`` (an :class:`engine.model.network.Network`)."""

    def __init__(self, net: Any) -> None:
        self.net = net
        self._shape = -1
        self._mapped: dict[str, list[dict]] = {}
        self._patterns: dict[str, list[tuple]] = {}  # pattern -> its routes, this shape
        self._patterns_left = MAX_PATTERNS

    # --- the address space -----------------------------------------------------------------

    def _refresh(self) -> None:
        if self.net.shape == self._shape:
            return
        mapped: dict[str, list[dict]] = {}
        for m in self.net.mappings():
            if m["source"] == "osc":
                mapped.setdefault(m["address"], []).append(m)
        self._mapped = mapped
        self._patterns = {}
        self._shape = self.net.shape

    def mapped(self) -> dict[str, list[dict]]:
        """OSC mappings by address (do not modify)."""
        self._refresh()
        return self._mapped

    def _exact(self, address: str) -> list[tuple]:
        routes: list[tuple] = [("map", m) for m in self._mapped.get(address, ())]
        parts = address.split("/")
        if len(parts) == 4 and parts[0] == "" and parts[1] == "neuron":
            name, param = parts[2], parts[3]
            if self.net.params(name) is not None:
                if param == "fire":
                    routes.append(("fire", name))
                elif param in P.PARAMS:
                    routes.append(("param", name, param))
        elif len(parts) == 5 and parts[0] == "" and parts[1] == "conn" and parts[4] == "w":
            if self.net.connection(parts[2], parts[3]) is not None:
                routes.append(("w", parts[2], parts[3]))
        elif address == "/tempo":
            routes.append(("tempo",))
        elif len(parts) == 2 and parts[1] in TRIGGERS:
            routes.append((parts[1],))
        return routes

    def start_packet(self) -> None:
        """A new datagram: its own allowance of new patterns."""
        self._patterns_left = MAX_PATTERNS

    def _matching(self, address: str) -> list[tuple]:
        """Every route a pattern reaches, matched part by part (see the module docstring)."""
        cached = self._patterns.get(address)
        if cached is not None:
            return cached
        if self._patterns_left <= 0:
            raise Drop("address", f"at most {MAX_PATTERNS} new address patterns in one datagram")
        self._patterns_left -= 1
        parts = [_part_regex(p) for p in address.split("/")[1:]]
        routes: list[tuple] = []
        if len(parts) == 1:
            routes += [(k,) for k in ("tempo", *TRIGGERS) if parts[0].fullmatch(k)]
        elif len(parts) == 3 and parts[0].fullmatch("neuron"):
            params = [p for p in ("fire", *P.PARAMS) if parts[2].fullmatch(p)]
            if params:
                for name in self.net.neurons():
                    if parts[1].fullmatch(name):
                        routes += [
                            ("fire", name) if p == "fire" else ("param", name, p) for p in params
                        ]
        elif len(parts) == 4 and parts[0].fullmatch("conn") and parts[3].fullmatch("w"):
            for src, dst in self.net.connections():
                if parts[1].fullmatch(src) and parts[2].fullmatch(dst):
                    routes.append(("w", src, dst))
        whole = re.compile("/".join(["", *(p.pattern for p in parts)]))
        for mapped, maps in self._mapped.items():
            if whole.fullmatch(mapped):
                routes += [("map", m) for m in maps]
        if len(self._patterns) >= MAX_CACHED:
            self._patterns.clear()
        self._patterns[address] = routes
        return routes

    def routes(self, address: str) -> list[tuple]:
        """Every route ``address`` (an address or a pattern) reaches; Drop if none."""
        self._refresh()
        if PATTERN_CHARS.isdisjoint(address):
            routes = self._exact(address)
        else:
            _check_pattern(address)
            routes = self._matching(address)
        if not routes:
            raise Drop("address", f"no such address {_short(address)}")
        return routes

    # --- messages to ops ---------------------------------------------------------------------

    def ops(self, address: str, args: list | tuple) -> list:
        """The ops of one message (empty for a release), or :class:`Drop`."""
        out: list = []
        for route in self.routes(address):
            op = self._op(route, address, args)
            if op is not None:
                out.append(op)
        return out

    def _op(self, route: tuple, address: str, args: list | tuple) -> object:
        kind = route[0]
        if kind == "map":
            return self._mapped_op(route[1], address, args)
        if kind == "param":
            if not args:
                raise Drop("type", f"{address} needs a value")
            return P.SetParam(route[1], route[2], _param_value(route[2], args[0], address))
        if kind == "fire":
            return P.Fire(route[1]) if pressed(args, 0, address) else None
        if kind == "w":
            return self._weight_op(route[1], route[2], address, args)
        if kind == "tempo":
            lo, hi = P.TEMPO_RANGE
            return P.Tempo(min(hi, max(lo, number(args, 0, address))))
        return TRIGGERS[kind]() if pressed(args, 0, address) else None

    def _weight_op(self, src: str, dst: str, address: str, args: list | tuple) -> P.Connect:
        """A connection's new weight: one number sets every tap, or one number per tap."""
        _w, delay, ckind = self.net.connection(src, dst)
        taps = len(delay) if isinstance(delay, tuple) else 1
        if len(args) not in (1, taps):
            raise Drop(
                "type", f"{address} needs 1 or {taps} numbers (one per tap), got {len(args)}"
            )
        ws = tuple(number(args, i, address) for i in range(len(args)))
        return P.Connect(src, dst, ws if len(ws) > 1 else ws[0], delay, ckind)

    def _mapped_op(self, m: dict, address: str, args: list | tuple) -> object:
        param, arg = m["param"], m["arg"]
        if param == "fire":
            return P.Fire(m["name"]) if pressed(args, arg, address) else None
        return control_op(m, number(args, arg, address))


def _part_regex(part: str) -> re.Pattern:
    """One part of an OSC address pattern (between slashes) as a regular expression:
    ``*`` any run, ``?`` one character, ``[a-z]``/``[!a]`` a set, ``{a,b}`` a choice."""
    out: list[str] = []
    i = 0
    while i < len(part):
        c = part[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = part.index("]", i)  # _check_pattern made sure it is closed
            body = part[i + 1 : end]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            chars = "".join(
                "-" if ch == "-" and 0 < k < len(body) - 1 else re.escape(ch)
                for k, ch in enumerate(body)
            )
            out.append(f"[{'^' if negate else ''}{chars}]" if chars else "(?!)")
            i = end
        elif c == "{":
            end = part.index("}", i)
            out.append("(?:" + "|".join(re.escape(w) for w in part[i + 1 : end].split(",")) + ")")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out))


def _check_pattern(address: str) -> None:
    # python-osc turns each `*` into `[^/]*` for Python's backtracking regex engine: bound
    # the pattern so a hostile one cannot take exponential time.
    if len(address) > MAX_PATTERN:
        raise Drop(
            "address", f"address patterns are at most {MAX_PATTERN} characters, got {len(address)}"
        )
    opened = ""
    for c in address:
        if c in "[{" and not opened:
            opened = c
        elif c in "]}" and opened == {"]": "[", "}": "{"}[c]:
            opened = ""
        elif c in "[]{}/" and opened:  # nested, crossed, or left open across a part
            raise Drop("address", f"a malformed address pattern {_short(address)}")
        elif c in "]}":
            raise Drop("address", f"a malformed address pattern {_short(address)}")
    if opened:
        raise Drop("address", f"a malformed address pattern {_short(address)}")
    for segment in address.split("/"):
        if segment.count("*") > 2:
            raise Drop(
                "address", f"at most two `*` per part of an address pattern, got {_short(segment)}"
            )


def _short(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")
