"""MIDI out: the factory that picks the output the options ask for, among every backend.

The ports themselves live one backend per module (:mod:`engine.io.rtmidi_ports`,
:mod:`engine.io.jack_out`) on the base in :mod:`engine.io.midi_base`. Nothing here opens
a device at import time; :func:`open_midi_out` is called once the engine runs in its own
process.
"""

from __future__ import annotations

import os

from engine.io.midi_base import MidiOut, MidiUnavailable, NullOut, PortNotFound
from engine.io.rtmidi_ports import API_NAMES, RtMidiOut, compiled_apis, list_ports

__all__ = [
    "MidiOut",
    "RtMidiOut",
    "NullOut",
    "open_midi_out",
    "list_ports",
    "API_NAMES",
    "MidiUnavailable",
    "NO_MIDI_HINT",
    "NO_PORT_HINT",
    "PortNotFound",
]

NO_MIDI_HINT = (
    "no MIDI system found ({why}); playing silent. Start a JACK server "
    "(jackd -d dummy, or your audio setup) or load snd-seq for ALSA, then start livecode "
    "again (a server started later is not picked up; save() first); "
    "--midi-api none silences this line."
)
NO_PORT_HINT = (
    "MIDI out: no port matches {port!r} ({why}); playing silent. Start the synth, or "
    "choose one of those ports (`livecode ports` lists them), and start livecode again."
)


def _sample_accurate_jack(
    virtual: str, port: str | None, latency: float | None, reconnect: tuple[str, ...]
) -> tuple[MidiOut, str] | None:
    """The JACK-Client port, if that optional extra is installed and not turned off."""
    if latency == 0:
        return None  # --latency 0: rtmidi, sending at once
    try:
        from engine.io.jack_out import open_jack_out
    except (ImportError, OSError):
        return None  # livecode[jack] not installed: rtmidi's JACK backend instead
    return open_jack_out(virtual, port, latency, reconnect)


def open_midi_out(
    api: str = "auto",
    virtual: str = "livecode",
    port: str | None = None,
    latency: float | None = None,
    reconnect: tuple[str, ...] = (),
) -> tuple[MidiOut, str]:
    """Open the output the options ask for; return it and a one-line description.

    With ``api="auto"`` the first API that opens wins. On JACK the sample-accurate port
    is used when JACK-Client is installed and ``latency`` is not 0. When no API opens,
    a :class:`NullOut` comes back with the one line that says why and what to do.
    """
    os.environ.setdefault("JACK_NO_START_SERVER", "1")  # never spawn a jackd behind the user's back
    if api == "none":
        return NullOut(), "MIDI off (--midi-api none)"
    apis = compiled_apis() if api == "auto" else (api,)
    reasons = []
    missing: list[PortNotFound] = []  # systems that are up, without the port asked for
    for name in apis:
        try:
            found = (
                _sample_accurate_jack(virtual, port, latency, reconnect) if name == "jack" else None
            )
            if found is not None:
                return found
            out = RtMidiOut(name, virtual, port)
        except PortNotFound as exc:
            missing.append(exc)
        except MidiUnavailable as exc:
            reasons.append(str(exc))
        except (ImportError, OSError, RuntimeError, ValueError, KeyError) as exc:
            reasons.append(f"{name}: {str(exc).strip() or type(exc).__name__}")
        else:
            kind = "virtual port" if port is None else "port"
            return out, f"MIDI out: {kind} {out.name!r} on {name}"
    if missing:  # a system is up: the port is what is missing, not MIDI
        null = NullOut()
        null.missing_port = port
        return null, NO_PORT_HINT.format(port=port, why="; ".join(map(str, missing)))
    return NullOut(), NO_MIDI_HINT.format(why="; ".join(reasons) or "no API")
