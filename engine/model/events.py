"""What the network produces: one MIDI message at an exact logical time."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Event"]


@dataclass(unsafe_hash=True)
class Event:
    """One MIDI message the network produced, at logical time ``t`` seconds (``beat`` beats).

    Not frozen: the model makes one per MIDI message and a frozen ``__init__`` costs
    four times as much. Treat events as immutable all the same.
    """

    t: float
    beat: float
    type: str  # "note_on", "note_off", "control_change"
    neuron: str
    ch: int  # 1..16
    note: int  # for control_change: the controller number
    vel: int  # for control_change: the value

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
