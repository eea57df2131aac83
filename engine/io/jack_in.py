"""MIDI input through JACK with JACK-Client (the optional extra ``livecode[jack]``).

Used instead of rtmidi's JACK backend when the engine plays through :class:`JackOut`:
python-rtmidi holds the GIL while it opens a JACK client, and JackOut's process
callback needs the GIL to finish the cycle the server waits on, so the two stall each
other for a second. JACK-Client releases the GIL in its calls. The process callback
(JACK's thread) only hands each event to the sink; the engine's loop does the rest.
"""

from __future__ import annotations

import time

from engine.io.midi_base import MidiInPort, MidiUnavailable, PortNotFound, quiet_stderr

__all__ = ["JackIn"]


class JackIn(MidiInPort):
    """A JACK MIDI input port ``client:client``; ``port`` connects an existing output to it."""

    def __init__(self, client: str, port: str | None = None) -> None:
        super().__init__()
        import jack

        self.virtual = port is None

        with quiet_stderr():
            try:
                self.client = jack.Client(client, no_start_server=True)
            except jack.JackError as exc:
                raise MidiUnavailable(f"jack: {exc}") from exc
        self.port = self.client.midi_inports.register(client)
        self.client.set_process_callback(self._process)
        self.client.activate()
        self.name = self.port.name
        if port is not None:
            sources = [
                p.name
                for p in self.client.get_ports(is_midi=True, is_output=True)
                if port.lower() in p.name.lower()
            ]
            if not sources:
                there = [p.name for p in self.client.get_ports(is_midi=True, is_output=True)]
                self.close()
                raise PortNotFound("jack", port, "MIDI output", there)
            self.client.connect(sources[0], self.port)
            self.name = sources[0]

    def _process(self, frames: int) -> None:
        # What came in during the last period is handed over at this cycle: stamp each
        # event at its frame in that period (monotonic clock).
        sink, index = self.sink, self.index
        now = time.perf_counter()
        rate = self.client.samplerate
        for offset, data in self.port.incoming_midi_events():
            sink(index, bytes(data), now - (frames - offset) / rate)

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()
