"""OSC 1.0 packets read strictly: type tags and data must agree, byte for byte.

python-osc's reader is lenient for the sake of old senders (a float cut short is padded
with zeros, a bundle element whose size overruns is read as what is left, an unknown
tag is logged and skipped); a stranger's packet must not turn into a value by any of
those. Here a packet is whole 4-byte words, every string is NUL-terminated and padded,
every argument has exactly the bytes its tag says, a message has nothing after its last
argument, a bundle's elements fill it exactly, and the number of messages and the
nesting of bundles are bounded. Anything else raises :class:`WireError`. No sockets.
"""

from __future__ import annotations

import struct
import time
from typing import NamedTuple

__all__ = ["TimedMessage", "WireError", "parse", "MAX_MESSAGES", "MAX_DEPTH", "NTP_DELTA"]

MAX_MESSAGES = 64  # messages in one datagram (a controller sends a few): ~0.3 ms of work
MAX_DEPTH = 8  # bundles inside bundles
NTP_DELTA = 2_208_988_800  # seconds from 1900 (OSC timetags) to 1970 (Unix time)
_IMMEDIATELY = 1  # the timetag that means "now"

_INT = struct.Struct(">i")
_FLOAT = struct.Struct(">f")
_DOUBLE = struct.Struct(">d")
_LONG = struct.Struct(">q")
_TIMETAG = struct.Struct(">II")
_FIXED = {"i": _INT, "f": _FLOAT, "d": _DOUBLE, "h": _LONG}
_WORD = {"r", "m"}  # 32-bit values that are not numbers: a colour, a MIDI message
_NO_DATA = {"T": True, "F": False, "N": None}


class WireError(ValueError):
    """The bytes are not a well-formed OSC packet (the message says where)."""


class TimedMessage(NamedTuple):
    """One message of a packet: when to apply it (Unix seconds), its address and arguments."""

    time: float
    address: str
    params: tuple


def parse(data: bytes, now: float | None = None) -> list[TimedMessage]:
    """Every message in ``data``, in order, each with its time (``now`` for a plain
    message, an immediate or a past timetag); :class:`WireError` if anything is off."""
    now = time.time() if now is None else now
    if len(data) % 4:
        raise WireError(f"an OSC packet is whole 4-byte words, got {len(data)} bytes")
    out: list[TimedMessage] = []
    _packet(data, 0, len(data), now, now, out, 0)
    return out


# Every reader below takes the whole datagram and the bounds [lo, hi) of its part: no
# copies, so a 64 KB bundle costs its size once, not once per element.


def _packet(data: bytes, lo: int, hi: int, when: float, now: float, out: list, depth: int) -> None:
    if data.startswith(b"#bundle\0", lo, hi):
        _bundle(data, lo, hi, now, out, depth)
    elif lo < hi and data[lo] == ord("/"):
        if len(out) >= MAX_MESSAGES:
            raise WireError(f"at most {MAX_MESSAGES} messages in one datagram")
        address, params = _message(data, lo, hi)
        out.append(TimedMessage(when, address, params))
    else:
        raise WireError("neither an OSC message (starts with /) nor a bundle")


def _bundle(data: bytes, lo: int, hi: int, now: float, out: list, depth: int) -> None:
    if depth >= MAX_DEPTH:
        raise WireError(f"OSC bundles nested more than {MAX_DEPTH} deep")
    if hi - lo < 16:
        raise WireError("a cut-off OSC bundle")
    secs, frac = _TIMETAG.unpack_from(data, lo + 8)
    stamp = (secs << 32) | frac
    when = now if stamp == _IMMEDIATELY else max(now, secs - NTP_DELTA + frac / 2**32)
    elements: list[tuple[int, int]] = []  # framing first: a huge bundle costs no parsing
    index = lo + 16
    while index < hi:
        if index + 4 > hi:
            raise WireError("a cut-off OSC bundle element size")
        (size,) = _INT.unpack_from(data, index)
        index += 4
        if size <= 0 or size % 4 or index + size > hi:
            raise WireError(f"an OSC bundle element of {size} bytes does not fit")
        elements.append((index, index + size))
        if len(out) + len(elements) > MAX_MESSAGES:
            raise WireError(f"at most {MAX_MESSAGES} messages in one datagram")
        index += size
    for start, end in elements:
        _packet(data, start, end, when, now, out, depth + 1)


def _string(data: bytes, index: int, hi: int, what: str) -> tuple[str, int]:
    end = data.find(b"\0", index, hi)
    if end < 0:
        raise WireError(f"an OSC {what} without its terminating NUL")
    after = (end - index) // 4 * 4 + 4 + index  # the NUL and its padding to a whole word
    if after > hi or data.count(b"\0", end, after) != after - end:
        raise WireError(f"an OSC {what} not padded with NULs to a 4-byte word")
    try:
        return data[index:end].decode("utf-8"), after
    except UnicodeDecodeError:
        raise WireError(f"an OSC {what} that is not UTF-8") from None


def _message(data: bytes, lo: int, hi: int) -> tuple[str, tuple]:
    address, index = _string(data, lo, hi, "address")
    if index == hi:
        return address, ()  # OSC 1.0 allows an old-style message without type tags
    tags, index = _string(data, index, hi, "type tag string")
    if not tags.startswith(","):
        raise WireError(f"an OSC type tag string starts with ',', got {tags[:20]!r}")
    params: list = []
    arrays: list[list] = []  # the arrays being read, innermost last
    for tag in tags[1:]:
        fixed = _FIXED.get(tag)
        if fixed is not None:
            if index + fixed.size > hi:
                raise WireError(f"OSC type tag {tag!r} has no data: the message is cut short")
            params.append(fixed.unpack_from(data, index)[0])
            index += fixed.size
        elif tag == "s":
            value, index = _string(data, index, hi, "string argument")
            params.append(value)
        elif tag == "b":
            if index + 4 > hi:
                raise WireError("OSC blob without its size")
            (size,) = _INT.unpack_from(data, index)
            end = index + 4 + size
            padded = index + 4 + (size + 3) // 4 * 4
            if size < 0 or padded > hi:
                raise WireError(f"an OSC blob of {size} bytes does not fit")
            params.append(bytes(data[index + 4 : end]))
            index = padded
        elif tag in _WORD:
            if index + 4 > hi:
                raise WireError(f"OSC type tag {tag!r} has no data: the message is cut short")
            params.append(tuple(data[index : index + 4]))
            index += 4
        elif tag == "t":
            if index + 8 > hi:
                raise WireError("OSC type tag 't' has no data: the message is cut short")
            params.append(_TIMETAG.unpack_from(data, index))
            index += 8
        elif tag in _NO_DATA:
            params.append(_NO_DATA[tag])
        elif tag == "[":
            if len(arrays) >= MAX_DEPTH:
                raise WireError(f"OSC arrays nested more than {MAX_DEPTH} deep")
            arrays.append(params)
            params = []
        elif tag == "]":
            if not arrays:
                raise WireError("an OSC array closed that was never opened")
            inner, params = params, arrays.pop()
            params.append(inner)
        else:
            raise WireError(f"unknown OSC type tag {tag!r}")
    if arrays:
        raise WireError("an OSC array left open")
    if index != hi:
        raise WireError(
            f"{hi - index} bytes after the last argument: the type tags and data do not agree"
        )
    return address, tuple(params)
