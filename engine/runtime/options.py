"""What an engine process is started with: the performer's options and one start's state.

:class:`EngineOptions` is built once from the command line and never changes.
:class:`EngineStart` is what the supervisor (:class:`engine.runtime.process.EngineHandle`)
knows at the moment it starts an engine (the clock's epoch, the network to restore,
what a dead engine left sounding); it builds a new one for every start and restart.
Both are plain frozen data, so they cross a ``spawn``.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.protocol import Batch

__all__ = ["EngineOptions", "EngineStart", "SOUNDING_CELLS", "CHANNELS_USED"]

# The shared array in which an engine mirrors what sounds, for the supervisor to silence
# after its death: a cell per (channel, note), then a flag per channel that played.
CHANNELS_USED = 16 * 128
SOUNDING_CELLS = CHANNELS_USED + 16


@dataclass(frozen=True)
class EngineOptions:
    """The performer's options for the engine (DESIGN §5), fixed for the whole session."""

    midi_api: str = "auto"
    virtual: str = "livecode"
    port: str | None = None
    tempo: float = 120.0
    seed: int = 0
    events: str | None = None
    seconds: float | None = None  # logical time at which to stop
    osc_port: int = 0
    osc_host: str = "127.0.0.1"
    osc_allow: tuple[str, ...] = ()
    osc_feedback: str | None = None  # "HOST:PORT" to send /fired and parameter echoes to
    status_interval: float = 0.25
    latency: float | None = None  # JACK: seconds ahead of the clock (None: 2 periods; 0: rtmidi)
    midi_in: tuple[str, ...] = ()  # existing input ports to listen to (substring match)
    clock_out: bool = False  # send MIDI clock from the start (the language's clock(True))
    link: bool = False  # join an Ableton Link session from the start (the language's link())
    clock_in: str | None = None  # follow MIDI clock from this input port (clock_in(PORT))
    record: str | None = None  # record into this SQLite file from the start
    replay: str | None = None  # replay this recording into the engine (engine.record.recording)
    speed: float = 1.0  # replay speed
    audio: str = "none"  # --audio: auto, jack, device, wav:FILE, none (the CLI's default: auto)
    soundfont: str | None = None  # --soundfont: handed to engine.audio.factory.open_synth


@dataclass(frozen=True)
class EngineStart:
    """The supervisor's state that one engine start needs besides the options."""

    epoch: float | None = None  # perf_counter reading at logical time 0 (None: now)
    restore: dict | None = None  # a status snapshot to rebuild the network from
    initial: Batch | None = None  # applied at logical time 0 (a session given at start)
    append_events: bool = False  # carry on the events file of the engine before
    silence: tuple[tuple[int, int, int], ...] = ()  # a dead engine's notes, sent first thing
    reconnect: tuple[str, ...] = ()  # ports a dead engine's JACK output was connected to
    audio_reconnect: tuple[str, ...] = ()  # ports a dead engine's JACK audio fed (left, right)
    record: str | None = None  # the file being recorded into now (record() changes it)

    @property
    def resumed(self) -> bool:
        """True when this engine carries on a dead one's network."""
        return self.restore is not None
