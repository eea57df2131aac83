"""The loop's hook API: what an input or a timer served by the engine may use of it.

The servers that run inside the engine's loop (the OSC server, MIDI input, the MIDI
clock out, the recording switch, live replay) are typed against :class:`EngineHooks`,
not :class:`engine.runtime.loop.Engine`, so each names exactly what it reaches for and
a test may serve them from anything that has these parts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # annotations only: this module imports nothing at run time
    from engine.io.midi_base import MidiOut
    from engine.model.network import Network
    from engine.protocol import Ack, Batch, Event
    from engine.runtime.clock import Clock

__all__ = ["EngineHooks", "Pipe"]


class Pipe(Protocol):
    """One end of the pipe to the parent (a ``multiprocessing`` connection)."""

    def poll(self, timeout: float | None = ...) -> bool: ...
    def recv(self) -> Any: ...
    def send(self, obj: Any) -> None: ...
    def fileno(self) -> int: ...


class EngineHooks(Protocol):
    """The parts of the engine's loop that the servers it runs may use.

    ``net``, ``midi`` and ``clock`` are the network model, the output port and the
    clock of logical time; ``lead`` is how far ahead of the clock the loop plays (the
    port's latency). Every callback is called on the loop's thread.
    """

    net: Network
    midi: MidiOut
    clock: Clock
    lead: float
    quiet_sources: set[str]  # batch sources whose acks the parent does not want

    def add_input(self, readable: Any, handler: Callable[[], None]) -> None:
        """Wake the loop when ``readable`` has data; call ``handler``."""

    def remove_input(self, readable: Any) -> None:
        """Stop waiting on ``readable``."""

    def on_message(self, kind: type, handler: Callable[[Any], None]) -> None:
        """Call ``handler(msg)`` for every pipe message of type ``kind``."""

    def add_status(self, key: str, part: Callable[[], object]) -> None:
        """Put ``part()`` under ``key`` in every status snapshot."""

    def add_tap(self, tap: Callable[[list[Event]], None]) -> None:
        """Call ``tap(events)`` with the events played, after they were sent."""

    def watch(self, watcher: Callable[[Batch, Ack], None]) -> None:
        """Call ``watcher(batch, ack)`` after every batch applied or refused."""

    def add_timer(self, next_time: Callable[[], float], play: Callable[[float], None]) -> None:
        """Wake for ``next_time()`` and call ``play(t)`` with what is due up to ``t``."""

    def mark_fired(self, names: list[str]) -> None:
        """Count ``names`` as fired in the next status."""

    def schedule(self, batch: Batch, t: float) -> None:
        """Apply ``batch`` at logical time ``t``."""

    def schedule_mono(self, batch: Batch, mono: float) -> None:
        """Apply ``batch`` when the monotonic clock reads ``mono``."""

    def arrival_time(self, mono: float) -> float:
        """The logical time to apply an input that arrived at monotonic reading ``mono``."""

    def apply(self, batch: Batch, t: float | None = None) -> Ack:
        """Apply ``batch`` whole at ``t`` (default: the earliest time still open) or refuse it."""
