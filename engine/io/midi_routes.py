"""MIDI input without ports: bytes to messages (:class:`MidiParser`), messages to ops (:class:`MidiRouter`).

The parser reads whatever a port delivers as a byte stream: running status (data bytes
that reuse the last channel status), several messages in one packet, SysEx (skipped
whole, across packets), real-time bytes anywhere (ignored), system common messages, stray
or cut-off data (counted malformed). A note-on with velocity 0 is a note-off.

The router maps a channel message onto the network (:class:`engine.model.network.Network`):
a note-on fires the input neurons listening to it (:class:`protocol.NoteIn`) and the
``note`` mappings matching it; a control change drives the ``cc`` mappings of its number.
Mapping addresses: ``"CH/CC"`` for cc, ``"CH"`` or ``"CH/NOTE"`` for notes, ``CH`` 0
meaning any channel. Scaling is the shared :mod:`engine.model.mapping`: a CC's 0..127 is 0..1;
a note mapped to a parameter sets it from the velocity (0..127 as 0..1). A ``fire``
mapped to a CC fires when the value rises through 64 (a pedal or button press; a knob
turned up fires once), and to a note on every matching note-on.
"""

from __future__ import annotations

from typing import Any

from engine import protocol as P
from engine.model.mapping import control_op
from engine.model.ops import parse_address

__all__ = ["MidiParser", "MidiRouter", "parse_address"]

# data bytes each channel status takes, by high nibble
_DATA = {0x8: 2, 0x9: 2, 0xA: 2, 0xB: 2, 0xC: 1, 0xD: 1, 0xE: 2}
# data bytes of the system common messages
_COMMON = {0xF1: 1, 0xF2: 2, 0xF3: 1, 0xF4: 0, 0xF5: 0, 0xF6: 0}


class MidiParser:
    """Turns one port's bytes into messages ``(kind, ch, d1, d2, running)``.

    ``kind``: "note_on", "note_off", "cc", "other" (program change, pitch bend, pressure),
    "sysex", "system", "realtime" or "malformed"; ``ch`` 1..16 for channel messages;
    ``running`` is True when the message reused the running status.
    """

    def __init__(self) -> None:
        self.status = 0  # running status: the last channel status byte, 0 for none
        self.sysex = False
        self._data: list[int] = []
        self._explicit = False  # the message being read began with its own status byte
        self._common = 0  # a system common status waiting for its data

    def feed(self, data: list[int] | bytes) -> list[tuple]:
        out: list[tuple] = []
        for b in data:
            if b >= 0xF8:
                out.append(("realtime", 0, b, 0, False))  # may sit anywhere, even in SysEx
            elif b == 0xF0:
                self._cut(out)
                self.sysex, self.status = True, 0
            elif b == 0xF7:
                if self.sysex:
                    self.sysex = False
                    out.append(("sysex", 0, 0, 0, False))
                else:
                    out.append(("malformed", 0, b, 0, False))
            elif b >= 0xF1:
                self._cut(out)
                self.status = 0  # system common cancels running status
                if _COMMON.get(b, 0):
                    self._common = b
                else:
                    out.append(("system", 0, b, 0, False))
            elif b >= 0x80:
                self._cut(out)
                self.status, self._explicit = b, True
            elif self.sysex:
                continue  # SysEx payload
            elif self._common:
                self._data.append(b)
                if len(self._data) == _COMMON[self._common]:
                    out.append(("system", 0, self._common, 0, False))
                    self._common, self._data = 0, []
            elif not self.status:
                out.append(("malformed", 0, b, 0, False))  # a data byte with no status
            else:
                self._data.append(b)
                if len(self._data) == _DATA[self.status >> 4]:
                    out.append(self._message(not self._explicit))
                    self._data, self._explicit = [], False
        if self._data or self._common:
            self._cut(out)  # rtmidi and JACK deliver whole messages: a tail is cut off
        return out

    def _cut(self, out: list) -> None:
        if self.sysex:
            self.sysex = False
            out.append(("sysex", 0, 0, 0, False))  # an unterminated SysEx, ended by a status
        if self._data or self._common:
            out.append(("malformed", 0, 0, 0, False))
        self._data, self._common = [], 0

    def _message(self, running: bool) -> tuple:
        status, d = self.status, self._data
        ch, kind = (status & 0x0F) + 1, status >> 4
        if kind == 0x9 and d[1] > 0:
            return ("note_on", ch, d[0], d[1], running)
        if kind in (0x8, 0x9):
            return ("note_off", ch, d[0], 0, running)
        if kind == 0xB:
            return ("cc", ch, d[0], d[1], running)
        return ("other", ch, d[0], d[1] if len(d) > 1 else 0, running)


class MidiRouter:
    """The ops one MIDI message stands for, against ``net`` (rebuilt when its shape changes)."""

    def __init__(self, net: Any) -> None:
        self.net = net
        self._shape = -1
        self._cc: dict[tuple[int, int], list[dict]] = {}
        self._notes: dict[tuple[int, int | None], list[dict]] = {}
        self._level: dict[tuple[int, int], int] = {}  # last value of each (ch, cc), for fire edges

    def _refresh(self) -> None:
        if self.net.shape == self._shape:
            return
        cc: dict[tuple[int, int], list[dict]] = {}
        notes: dict[tuple[int, int | None], list[dict]] = {}
        for m in self.net.mappings():
            if m["source"] == "cc":
                ch, number = parse_address("cc", m["address"])
                cc.setdefault((ch, number or 0), []).append(m)
            elif m["source"] == "note":
                notes.setdefault(parse_address("note", m["address"]), []).append(m)
        self._cc, self._notes, self._shape = cc, notes, self.net.shape

    def cc_maps(self, ch: int, number: int) -> list[dict]:
        self._refresh()
        return self._cc.get((ch, number), []) + self._cc.get((0, number), [])

    def note_ops(self, ch: int, note: int, vel: int) -> tuple[list, list[str]]:
        """Ops of a note-on and the input neurons it fires (empty lists: nothing listens)."""
        self._refresh()
        heard = self.net.listeners(ch, note)
        ops: list = [P.NoteIn(ch, note, vel)] if heard else []
        x = vel / 127.0
        for key in ((ch, note), (ch, None), (0, note), (0, None)):
            for m in self._notes.get(key, ()):
                op = control_op(m, 1.0) if m["param"] == "fire" else control_op(m, x)
                if op is not None:
                    ops.append(op)
        return ops, heard

    def cc_fires(self, ch: int, number: int, value: int) -> tuple[list, bool]:
        """Fire ops of a control change (on the rise through 64), and whether it is mapped.

        Called for every control change, in order: each press counts, so fires are never
        coalesced, while :meth:`cc_params` may be given only the last value of a burst.
        """
        maps = self.cc_maps(ch, number)
        key = (ch, number)
        before = self._level.get(key, 0)
        self._level[key] = value
        if before < 64 <= value:
            return [P.Fire(m["name"]) for m in maps if m["param"] == "fire"], bool(maps)
        return [], bool(maps)

    def cc_params(self, ch: int, number: int, value: int) -> list:
        """Parameter (and tempo) ops of a control change's ``value`` 0..127."""
        x = value / 127.0
        ops = []
        for m in self.cc_maps(ch, number):
            if m["param"] != "fire":
                op = control_op(m, x)
                if op is not None:
                    ops.append(op)
        return ops
