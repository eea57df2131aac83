"""The engine's errors: one root, each subclass also the builtin it is closest to.

``except EngineError`` catches every refusal the engine makes on purpose; anything else
that escapes is a bug, and the fault barriers (the loop, the supervisor's reader, the
REPL's submit) report it as one and carry on.
"""

from __future__ import annotations

__all__ = [
    "EngineError",
    "ProtocolError",
    "ModelError",
    "UnknownNeuron",
    "EngineDown",
    "MidiUnavailable",
    "PortNotFound",
    "AudioUnavailable",
    "RecordError",
    "OscError",
]


class EngineError(Exception):
    """Root of every error the engine raises on purpose."""


class ProtocolError(EngineError, ValueError):
    """An operation or parameter value breaks the contract."""


class ModelError(EngineError, ValueError):
    """The model refused an operation; the message says the rule and the bad value."""


class UnknownNeuron(ModelError, KeyError):
    """An operation names a neuron that does not exist."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class EngineDown(EngineError, RuntimeError):
    """The engine process is not running (and could not be restarted)."""


class MidiUnavailable(EngineError, RuntimeError):
    """No MIDI system could be opened."""


class PortNotFound(MidiUnavailable, LookupError):
    """A MIDI system is up, but no port there matches the name asked for (``--port``)."""

    def __init__(self, api: str, port: str, kind: str, available: list[str]) -> None:
        self.api, self.port, self.kind, self.available = api, port, kind, list(available)
        there = ", ".join(repr(n) for n in self.available) or "none"
        super().__init__(f"{api}: no {kind} port matches {port!r}; the {kind} ports there: {there}")


class AudioUnavailable(EngineError, RuntimeError):
    """An audio output could not be opened (no JACK server, no sound device, a bad file)."""


class RecordError(EngineError, OSError):
    """A recording cannot be written or read."""


class OscError(EngineError, ValueError):
    """OSC cannot start as configured (bad address, port in use...)."""
