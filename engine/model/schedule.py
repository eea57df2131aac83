"""What the network's one heap holds: named entries, their kinds, and the model's time rules.

The network's hot path builds entries as plain tuples in these layouts and reads them by
unpacking (see :mod:`engine.model.network`); the classes name the fields. Entries order as
tuples by ``(beat, kind, seq)``: at one beat note-offs come first, then
pulses, then crossings (so a note ends before the same note starts again, and pulses land
before the volley they may join); ``seq`` is unique, so nothing after it is ever compared.
Entries are invalidated lazily: a crossing carries its neuron's version, a note-off the
token of the note-on it ends, a pulse its neurons (which may have died), a group event its
group's version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from engine.model.linear import Group
    from engine.model.neuron import Neuron

__all__ = [
    "EPS",
    "MIN_INTERVAL",
    "OFF",
    "PULSE",
    "FIRE",
    "GROUP",
    "FORCED",
    "NoteOff",
    "Pulse",
    "Crossing",
    "GroupEvent",
    "Entry",
]

EPS = 1e-9  # beats: crossings closer than this are the same instant
# A neuron fires at most once per this many beats (a 1/128 note; about 4 ms at 120 BPM).
# Only a runaway (a huge rate, a loop of near-zero delays) ever meets it; without it one
# value typed or sent over OSC could make the engine fire without end inside one instant.
MIN_INTERVAL = 1.0 / 128

OFF, PULSE, FIRE, GROUP = 0, 1, 2, 3  # entry kinds, in their order within one beat
FORCED = -1  # the version of a crossing that fires whatever the activation (fire(), a note in)


class NoteOff(NamedTuple):
    beat: float
    kind: int  # OFF
    seq: int
    ch: int
    note: int
    token: int  # the note-on it ends; a newer note-on of the same key makes it stale


class Pulse(NamedTuple):
    beat: float
    kind: int  # PULSE
    seq: int
    dst: Neuron
    w: float
    src: Neuron


class Crossing(NamedTuple):
    """A neuron reaches its threshold (a lower bound: inhibition may have moved it later)."""

    beat: float
    kind: int  # FIRE
    seq: int
    neuron: Neuron
    ver: int  # the neuron's version when scheduled, or FORCED
    pad: None = None  # every entry has six fields, so readers can unpack any of them


class GroupEvent(NamedTuple):
    """Something happens in a cont group: a crossing, a floor, or a checkpoint."""

    beat: float
    kind: int  # GROUP
    seq: int
    group: Group
    ver: int
    pad: None = None


# what the heap holds: one of the layouts above, as a plain tuple or as the NamedTuple
Entry = tuple
