"""Audio out: the factory that opens what ``--audio`` asks for, and MIDI and audio as one port.

:func:`open_audio_out` knows every backend (JACK, the sound device, a WAV file) and says in
one line what it opened or why nothing. :class:`MidiAndAudio` is the one output the
engine's loop sees when audio plays: each message goes to the MIDI port and to the audio
output at the same logical time, and it picks the clock both play on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mido

from engine.audio.synth import Synth
from engine.io.audio_base import AudioOut, AudioUnavailable, SynthFactory
from engine.io.midi_base import MidiOut
from engine.runtime.clock import Clock

__all__ = [
    "open_audio_out",
    "MidiAndAudio",
    "AudioChoice",
    "AUDIO_CHOICES",
    "parse_audio",
    "prepare_audio",
    "list_audio",
]

AUDIO_CHOICES = ("auto", "jack", "device", "wav:FILE", "none")
NO_AUDIO_HINT = (
    "no audio output ({why}); MIDI only. Start a JACK server, install sound support "
    "(pip install 'livecode[sound]', apt-get install libportaudio2), "
    "or pass --audio wav:FILE or --audio none"
)


def parse_audio(spec: str) -> tuple[str, str | None]:
    """``--audio``'s value as (kind, path): ValueError names the choices."""
    kind, _, path = spec.partition(":")
    if kind == "wav" and path:
        return kind, path
    if spec in ("auto", "jack", "device", "none"):
        return spec, None
    raise ValueError(f"--audio must be one of {', '.join(AUDIO_CHOICES)}, got {spec!r}")


def prepare_audio(spec: str) -> str:
    """``--audio`` checked before the engine starts: a WAV file must be new (a gig's audio
    is never overwritten) and writable; returned with the file's absolute path."""
    import os

    kind, path = parse_audio(spec)
    if kind != "wav" or path is None:
        return spec
    full = os.path.abspath(os.path.expanduser(path))
    if os.path.exists(full) and os.path.getsize(full) > 0:
        raise ValueError(f"{path} already exists; write the audio to a new file")
    if not os.path.isdir(os.path.dirname(full)):
        raise ValueError(f"cannot write {path}: no directory {os.path.dirname(full)}")
    return f"wav:{full}"


def list_audio() -> dict[str, list[str] | str]:
    """Where audio can go (``livecode ports``): JACK playback ports, sound devices."""
    found: dict[str, list[str] | str] = {}
    try:
        import jack

        from engine.io.midi_base import quiet_stderr

        with quiet_stderr():
            client = jack.Client("livecode-ports", no_start_server=True)
        try:
            found["jack"] = [
                p.name for p in client.get_ports(is_audio=True, is_input=True, is_physical=True)
            ]
        finally:
            client.close()
    except (ImportError, OSError) as exc:
        found["jack"] = f"unavailable ({exc})"
    except Exception as exc:  # noqa: BLE001 - jack.JackError: no server
        found["jack"] = f"no server ({exc})"
    from engine.io.device_audio import list_devices

    found["device"] = list_devices()
    return found


@dataclass
class AudioChoice:
    """What :func:`open_audio_out` opened (or None) and the lines to tell the performer."""

    out: AudioOut | None
    lines: list[tuple[str, str]] = field(default_factory=list)  # (level, text)


def _open_one(
    kind: str,
    path: str | None,
    synth_factory: SynthFactory,
    latency: float | None,
    client_name: str,
    append: bool,
    reconnect: tuple[str, ...] = (),
) -> AudioOut:
    if kind == "jack":
        try:
            from engine.io.jack_audio import JackAudioOut
        except (ImportError, OSError) as exc:
            raise AudioUnavailable(
                f"JACK-Client unusable ({exc}; pip install 'livecode[jack]')"
            ) from exc
        return JackAudioOut(synth_factory, client_name, latency, reconnect=reconnect)
    if kind == "device":
        from engine.io.device_audio import DeviceAudioOut

        return DeviceAudioOut(synth_factory)
    from engine.io.wav_audio import WavAudioOut

    return WavAudioOut(synth_factory, path or "", append=append)


def open_audio_out(
    spec: str,
    synth_factory: SynthFactory | None,
    latency: float | None = None,
    client_name: str = "livecode-audio",
    append: bool = False,
    own_process: bool = False,
    soundfont: str | None = None,
    reconnect: tuple[str, ...] = (),
) -> AudioChoice:
    """Open the output ``spec`` (``--audio``'s value) names; never raises for a missing one.

    ``auto`` tries JACK (if a server runs), then the sound device; with neither it says
    so once and the engine plays MIDI only. ``append``: a restarted engine carries on a
    WAV file; ``reconnect``: JACK ports ``"left>target"``/``"right>target"`` a dead engine's
    audio fed. ``synth_factory(rate)`` is called once the output knows its rate (None:
    :func:`engine.audio.factory.open_synth` with ``soundfont``). ``own_process``: the
    output and its synth run in a process of their own (:mod:`engine.io.audio_process`),
    as the engine runs them.
    """
    kind, path = parse_audio(spec)
    if kind == "none":
        return AudioChoice(None, [("info", "audio off (--audio none)")])
    if own_process:
        from engine.io.audio_process import AudioProcess

        try:
            proc = AudioProcess(
                spec, synth_factory, latency, client_name, append, soundfont, reconnect
            )
        except AudioUnavailable as exc:
            said = getattr(exc, "lines", None)
            return AudioChoice(None, said or [("warning", NO_AUDIO_HINT.format(why=exc))])
        return AudioChoice(proc, proc.lines)
    lines: list[tuple[str, str]] = []
    if synth_factory is None:

        def synth_factory(rate: int) -> Synth:
            from engine.audio.factory import open_synth

            synth, line = open_synth(soundfont, rate)
            lines.append(("info", line))
            return synth

    kinds = ("jack", "device") if kind == "auto" else (kind,)
    reasons = []
    for each in kinds:
        try:
            out = _open_one(each, path, synth_factory, latency, client_name, append, reconnect)
        except AudioUnavailable as exc:
            reasons.append(f"{each}: {exc}")
            continue
        text = f"audio out: {out.kind} {out.name} ({out.synth.name}, {out.rate} Hz"
        return AudioChoice(out, [*lines, ("info", text + f", {out.period}-frame blocks)")])
    return AudioChoice(None, [("warning", NO_AUDIO_HINT.format(why="; ".join(reasons)))])


class MidiAndAudio(MidiOut):
    """The MIDI port and the audio output as the one port the loop plays into.

    The clock: the MIDI port's when it has a frame clock (JACK MIDI; the JACK audio
    output then reads the same ``frame0``, so MIDI and audio land on the same frame), else
    the audio output's (JACK audio), else the system's (the device and WAV outputs follow
    it). On the JACK audio clock an rtmidi port sends its messages ``latency`` ahead of
    their time, as every message is handed over that far ahead.
    """

    def __init__(self, midi: MidiOut, audio: AudioOut) -> None:
        self.midi = midi
        self.audio = audio
        self.name = midi.name
        self.api = midi.api
        self.latency = max(midi.latency, audio.latency)

    # The loop's status reads these off the MIDI port.
    @property
    def late(self) -> int:  # type: ignore[override]
        return self.midi.late

    @property
    def dropped(self) -> int:  # type: ignore[override]
        return self.midi.dropped

    @property
    def xruns(self) -> int:  # type: ignore[override]
        return self.midi.xruns

    @property
    def frame0(self) -> int | None:  # type: ignore[override]
        return self.midi.frame0

    def send_at(self, data: list[int], t: float) -> None:
        self.midi.send_at(data, t)
        self.audio.send_at(data, t)

    def send_bytes(self, data: list[int]) -> None:
        self.midi.send_bytes(data)
        self.audio.send_now(data)

    def send(self, msg: mido.Message) -> None:
        self.midi.send(msg)
        self.audio.send_now(msg.bytes())

    def clock(self, epoch: float | None = None) -> Clock:
        if self.midi.frame0 is not None:
            clock = self.midi.clock(epoch)
            self.audio.attach(clock, frames_from=self.midi)
            return clock
        clock = self.audio.clock(epoch) or Clock(epoch)
        self.audio.attach(clock)
        return clock

    def connections(self) -> list[str]:
        return self.midi.connections()

    def close(self) -> None:
        try:
            self.midi.close()
        finally:
            self.audio.close()
