"""What the network produces: one MIDI message at an exact logical time."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EVENT_TYPES", "Event", "midi_bytes"]

# status byte (without the channel) and data length of each event type
_STATUS = {"note_on": 0x90, "note_off": 0x80, "control_change": 0xB0, "program_change": 0xC0}
EVENT_TYPES = frozenset(_STATUS)  # every type of event the network produces


@dataclass(unsafe_hash=True)
class Event:
    """One MIDI message the network produced, at logical time ``t`` seconds (``beat`` beats).

    Not frozen: the model makes one per MIDI message and a frozen ``__init__`` costs
    four times as much. Treat events as immutable all the same.
    """

    t: float
    beat: float
    type: str  # "note_on", "note_off", "control_change", "program_change"
    neuron: str
    ch: int  # 1..16
    note: int  # for control_change: the controller number; program_change: the program 0..127
    vel: int  # for control_change: the value; program_change: 0

    def as_dict(self, sent: float | None = None) -> dict:
        """The JSON-lines record of DESIGN §5."""
        return {
            "t": round(self.t, 9),
            "sent": sent,
            "type": self.type,
            "neuron": self.neuron,
            "ch": self.ch,
            "note": self.note,
            "vel": self.vel,
        }


def midi_bytes(ev: Event) -> list[int]:
    """The raw channel message of ``ev`` (status | channel, data...): the one encoding that
    the MIDI ports and the synths play."""
    status = _STATUS[ev.type] | (ev.ch - 1)
    if ev.type == "program_change":
        return [status, ev.note]
    return [status, ev.note, ev.vel]
