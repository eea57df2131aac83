"""The network's MIDI-facing state: input neurons, ``follow`` links and the clock-out flag.

Split out of :mod:`engine.model.patch` for size; :class:`Listening` is a mixin of
:class:`engine.model.network.Network` and uses its internals freely. Pure, like the model.

An input neuron (:class:`protocol.Listen`) is an ordinary neuron (``rate`` 0 when the
language makes it) that a :class:`protocol.NoteIn` fires at the instant it is applied,
when the note matches its channel and range. It remembers what it heard, ``(note, vel)``,
and plays that (when not muted). A :class:`protocol.Follow` link makes another neuron's
note or velocity the last one its source heard, plus ``by``. Both are applied when the
note arrives, by overriding the follower's effective note/velocity (``Neuron.fnote``,
``Neuron.fvel``) outside the firing hot path: a firing reads ``notes``/``vel`` as always.
Everything here is plain data in :meth:`snapshot`, so it survives an engine restart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from heapq import heappush
from typing import Any

from engine import protocol as P
from engine.model.neuron import ModelError

__all__ = ["Listening", "MidiState"]

_FIRE, _FORCED = 2, -1


@dataclass
class MidiState:
    """What :class:`Listening` keeps; created with the network, replaced on restore."""

    inputs: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # name -> (ch, lo, hi)
    follows: dict[tuple[str, str], tuple[str, int]] = field(
        default_factory=dict
    )  # (name, param) -> (src, by)
    heard: dict[str, tuple[int, int]] = field(default_factory=dict)  # input name -> (note, vel)
    clock: bool = False  # send MIDI clock on the output port


def _whole(what: str, value: object, lo: int, hi: int, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ModelError(f"{where}: {what} must be a whole number {lo}..{hi}, got {value!r}")
    return value


def _clamp(v: int, lo: int, hi: int) -> int:
    return lo if v < lo else hi if v > hi else v


class Listening:
    """Input neurons, follow links, note-ins and the clock flag (mixed into ``Network``)."""

    _neurons: dict
    _heap: list
    _seq: Any
    running: bool
    shape: int

    @property
    def midi(self) -> MidiState:
        st = self.__dict__.get("_midi_state")
        if st is None:
            st = self._midi_state = MidiState()
        return st

    # -- queries ---------------------------------------------------------------------------
    @property
    def clock_out(self) -> bool:
        """True when the network asks for MIDI clock on the output port."""
        return self.midi.clock

    def inputs(self) -> dict[str, tuple[int, int, int]]:
        """Input neurons: name -> ``(ch, lo, hi)``, ``ch`` 0 for any channel (do not modify)."""
        return self.midi.inputs

    def listeners(self, ch: int, note: int) -> list[str]:
        """The input neurons a note-on on ``ch`` (1..16) with ``note`` fires, in creation order."""
        return [
            name
            for name, (c, lo, hi) in self.midi.inputs.items()
            if (c == 0 or c == ch) and lo <= note <= hi
        ]

    def follows(self) -> dict[tuple[str, str], tuple[str, int]]:
        """Follow links: ``(name, param) -> (src, by)`` (do not modify)."""
        return self.midi.follows

    def beat_at(self, sec: float) -> float:
        """The beat at ``sec`` seconds on the current tempo segment (running or not)."""
        return self._b0 + (sec - self._s0) / self._spb  # type: ignore[attr-defined]

    def sec_at(self, beat: float) -> float:
        """Seconds of ``beat`` on the current tempo segment (exact; for the clock out)."""
        return self._s0 + (beat - self._b0) * self._spb  # type: ignore[attr-defined]

    # -- validation (called from Patching._validate) ------------------------------------------
    def _check_midi(self, op: object, where: str, need: Any) -> tuple | None:
        """The normalised form of a MIDI op, or None if ``op`` is not one."""
        if isinstance(op, P.Listen):
            name = need(op.name)
            if not isinstance(op.on, bool):
                raise ModelError(f"{where}: on must be True or False, got {op.on!r}")
            ch = _whole("ch", op.ch, 0, 16, where)
            lo = _whole("lo", op.lo, 0, 127, where)
            hi = _whole("hi", op.hi, 0, 127, where)
            if lo > hi:
                raise ModelError(f"{where}: the note range lo..hi is empty, got {lo}..{hi}")
            return ("listen", name, ch, lo, hi, op.on)
        if isinstance(op, P.Follow):
            name = need(op.name)
            if op.param not in P.FOLLOW_PARAMS:
                raise ModelError(
                    f"{where}: follow drives {' or '.join(P.FOLLOW_PARAMS)}, got {op.param!r}"
                )
            src = need(op.src) if op.src else ""
            by = _whole("by", op.by, -127, 127, where)
            return ("follow", name, op.param, src, by)
        if isinstance(op, P.NoteIn):
            return (
                "note_in",
                _whole("ch", op.ch, 1, 16, where),
                _whole("note", op.note, 0, 127, where),
                _whole("vel", op.vel, 1, 127, where),
            )
        if isinstance(op, P.MidiClock):
            if not isinstance(op.on, bool):
                raise ModelError(f"{where}: on must be True or False, got {op.on!r}")
            return ("clock", op.on)
        return None

    # -- application (called from Patching._apply_one) ---------------------------------------
    def _apply_midi(self, o: tuple, t: float) -> None:
        st = self.midi
        kind = o[0]
        if kind == "listen":
            _, name, ch, lo, hi, on = o
            if on:
                st.inputs[name] = (ch, lo, hi)
            else:
                st.inputs.pop(name, None)
                st.heard.pop(name, None)
                for key in [k for k, (src, _by) in st.follows.items() if src == name]:
                    self._drop_follow(key)
                self._refresh(self._neurons[name])
            self.shape += 1
        elif kind == "follow":
            _, name, param, src, by = o
            if src:
                st.follows[(name, param)] = (src, by)
                self._refresh(self._neurons[name])
            else:
                self._drop_follow((name, param))
        elif kind == "note_in":
            _, ch, note, vel = o
            fired = self.listeners(ch, note)
            for name in fired:
                st.heard[name] = (note, vel)
            if fired:
                heard = set(fired)
                for (name, _param), (src, _by) in st.follows.items():
                    if src in heard:
                        self._refresh(self._neurons[name])
                for name in fired:
                    n = self._neurons[name]
                    self._refresh(n)
                    if self.running:
                        heappush(self._heap, (t, _FIRE, next(self._seq), n, _FORCED, None))
        elif kind == "clock":
            st.clock = o[1]

    def _drop_follow(self, key: tuple[str, str]) -> None:
        if self.midi.follows.pop(key, None) is not None:
            n = self._neurons.get(key[0])
            if n is not None:
                self._refresh(n)

    def _unfollow(self, name: str, param: str | None = None) -> None:
        """Setting a followed parameter (or redefining the neuron) ends the follow."""
        st = self.midi
        if not st.follows:
            return
        for key in [k for k in st.follows if k[0] == name and (param is None or k[1] == param)]:
            del st.follows[key]
        n = self._neurons.get(name)
        if n is not None:
            n.fnote, n.fvel = self._effective(n)  # set_params, called next, applies them

    def _forget_midi(self, name: str | None) -> None:
        """``name`` was removed (None: every neuron was): drop its input, heard and links."""
        st = self.midi
        if name is None:
            st.inputs.clear()
            st.heard.clear()
            st.follows.clear()
            return
        st.inputs.pop(name, None)
        st.heard.pop(name, None)
        for key in [k for k, (src, _by) in st.follows.items() if k[0] == name or src == name]:
            self._drop_follow(key)

    def _refresh(self, n: Any) -> None:
        """Recompute ``n``'s effective note and velocity from what its sources heard."""
        note, vel = self._effective(n)
        if (note, vel) != (n.fnote, n.fvel):
            n.fnote, n.fvel = note, vel
            n.set_params(n.params)

    def _effective(self, n: Any) -> tuple[int | None, int | None]:
        """The note and velocity ``n`` plays instead of its parameters (None: its own)."""
        st = self.midi
        note = vel = None
        own = st.heard.get(n.name) if n.name in st.inputs else None
        if own is not None:
            note, vel = own
        for param in P.FOLLOW_PARAMS:
            link = st.follows.get((n.name, param))
            if link is None:
                continue
            h = st.heard.get(link[0])
            if h is None:
                continue
            if param == "note":
                note = _clamp(h[0] + link[1], 0, 127)
            else:
                vel = _clamp(h[1] + link[1], 1, 127)
        return note, vel

    # -- snapshot ------------------------------------------------------------------------------
    def _midi_snapshot(self) -> dict:
        st = self.midi
        return {
            "inputs": {
                name: {"ch": ch, "lo": lo, "hi": hi} for name, (ch, lo, hi) in st.inputs.items()
            },
            "follows": [
                {"name": name, "param": param, "src": src, "by": by}
                for (name, param), (src, by) in st.follows.items()
            ],
            "heard": {name: list(h) for name, h in st.heard.items()},
            "clock": st.clock,
        }

    def _midi_restore(self, snap: dict) -> None:
        st = self._midi_state = MidiState()
        names = self._neurons
        for name, d in snap.get("inputs", {}).items():
            if name in names:
                st.inputs[name] = (int(d["ch"]), int(d["lo"]), int(d["hi"]))
        for name, h in snap.get("heard", {}).items():
            if name in st.inputs:
                st.heard[name] = (int(h[0]), int(h[1]))
        for f in snap.get("follows", ()):
            if f["name"] in names and f["src"] in names and f["param"] in P.FOLLOW_PARAMS:
                st.follows[(f["name"], f["param"])] = (f["src"], int(f["by"]))
        st.clock = bool(snap.get("clock", False))
        for n in names.values():
            self._refresh(n)
