"""What an input neuron or a follower plays instead of its own note and velocity.

An input neuron (:class:`engine.model.ops.Listen`) fires whenever a matching note-on
arrives (:class:`engine.model.ops.NoteIn`) and plays the note and velocity it heard; a
follow link (:class:`engine.model.ops.Follow`) makes another neuron's note or velocity the
last one its source heard, plus ``by``. The network applies the result when a note arrives
or a link changes, outside the firing hot path (``Neuron.fnote``/``fvel``). Pure.
"""

from __future__ import annotations

from engine.model.ops import FOLLOW_PARAMS
from engine.model.state import NetState

__all__ = ["Heard", "effective", "listeners"]

Heard = dict[str, tuple[int, int]]  # input neuron -> the (note, vel) it last heard


def listeners(state: NetState, ch: int, note: int) -> list[str]:
    """The input neurons a note-on on ``ch`` (1..16) with ``note`` fires, in creation order."""
    return [
        name
        for name, li in state.inputs.items()
        if (li.ch == 0 or li.ch == ch) and li.lo <= note <= li.hi
    ]


def effective(state: NetState, heard: Heard, name: str) -> tuple[int | None, int | None]:
    """The note and velocity ``name`` plays instead of its parameters (None: its own)."""
    note = vel = None
    own = heard.get(name) if name in state.inputs else None
    if own is not None:
        note, vel = own
    for param in FOLLOW_PARAMS:
        link = state.follows.get((name, param))
        if link is None:
            continue
        h = heard.get(link.src)
        if h is None:
            continue
        if param == "note":
            note = _clamp(h[0] + link.by, 0, 127)
        else:
            vel = _clamp(h[1] + link.by, 1, 127)
    return note, vel


def _clamp(v: int, lo: int, hi: int) -> int:
    return lo if v < lo else hi if v > hi else v
