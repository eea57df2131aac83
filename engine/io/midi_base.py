"""The MIDI port bases every backend builds on: an output, an input, the silent output.

Backends (:mod:`engine.io.rtmidi_ports`, :mod:`engine.io.jack_out`,
:mod:`engine.io.jack_in`) import this module and nothing of each other; the factories
that know every backend are :mod:`engine.io.midi_out` and :mod:`engine.io.midi_in`.
Fakes for tests subclass these bases (``tests/engine/fakes.py``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator

import mido

from engine.errors import MidiUnavailable, PortNotFound
from engine.runtime.clock import Clock

__all__ = [
    "MidiOut",
    "NullOut",
    "MidiInPort",
    "Sink",
    "MidiUnavailable",
    "PortNotFound",
    "quiet_stderr",
    "SETTLE_SECONDS",
]

# JACK makes a port and its connections live at a later cycle; what is sent before then
# is lost, so a newly opened or connected JACK port waits this long.
SETTLE_SECONDS = 0.05

# sink(port index, message bytes, arrival as a monotonic reading)
Sink = Callable[[int, "list[int] | bytes", float], None]


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Hide what ALSA's and JACK's C libraries print while we probe them; we say it once, clearly."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class MidiOut:
    """A MIDI destination. ``send`` sends at once; ``close`` drains first.

    Backends override :meth:`send` (and :meth:`send_bytes` where they can skip decoding);
    ports that can wait for a logical time (JACK) override :meth:`send_at` and
    :meth:`clock`. The counters below stay 0 on ports that send at once.
    """

    name = "none"
    api = "none"
    latency = 0.0  # how far ahead of the clock the engine hands messages over
    late = 0  # messages written after their time (queued too late for their cycle)
    dropped = 0  # messages the port had no room for
    xruns = 0  # JACK: cycles the server reported missed (its graph ran late)
    frame0: int | None = None  # the port's frame of logical time 0, on frame-clocked ports

    def send_at(self, data: list[int], t: float) -> None:
        """Send encoded ``data`` meant for logical time ``t``; ports that can't wait send now."""
        self.send_bytes(data)

    def send(self, msg: mido.Message) -> None:
        raise NotImplementedError

    def send_bytes(self, data: list[int]) -> None:
        """Send one encoded message; ports that can skip decoding override this."""
        self.send(mido.Message.from_bytes(data))

    def clock(self, epoch: float | None = None) -> Clock:
        """The clock logical time runs on for this port, from ``epoch`` (None: now).

        Ports that send at once use the system's monotonic clock; a port with its own
        frame clock (JACK) returns a clock read off it.
        """
        return Clock(epoch)

    def connections(self) -> list[str]:
        """The ports this output is connected to, where the backend can tell (else none)."""
        return []

    def close(self) -> None:
        """Close the port; subclasses drain what is queued first."""


class NullOut(MidiOut):
    """Silent output: used when no MIDI system exists or with ``--midi-api none``.

    ``missing_port`` is the ``--port`` name no running MIDI system had (else None).
    """

    missing_port: str | None = None

    def send(self, msg: mido.Message) -> None:
        pass  # nothing to send to: the engine already said so once

    def send_bytes(self, data: list[int]) -> None:
        pass


class MidiInPort:
    """A MIDI source. It hands each message to ``sink(index, data, arrival)`` from any
    thread; ``arrival`` is a ``time.perf_counter()`` reading taken as it came in.

    ``virtual`` is True for a port this program created for others to connect to
    (``NAME-in``), False for a connection to an existing port or a test's fake.
    """

    name = "none"
    virtual = False

    def __init__(self) -> None:
        self.index = 0
        self.sink: Sink = lambda index, data, arrival: None

    def connect(self, index: int, sink: Sink) -> None:
        self.index, self.sink = index, sink

    def close(self) -> None:
        """Stop delivering."""
