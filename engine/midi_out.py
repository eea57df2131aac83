"""MIDI output ports: a small base class, the rtmidi port, a silent port and a recording fake.

Nothing here opens a device at import time; :func:`open_midi_out` is the factory the
engine calls once it runs in its own process.
"""
from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator

import mido

__all__ = ["MidiOut", "RtMidiOut", "NullOut", "RecordingOut", "open_midi_out", "list_ports",
           "API_NAMES", "MidiUnavailable", "quiet_stderr"]

# DESIGN §5 --midi-api names -> rtmidi API names as mido spells them.
API_NAMES = {"alsa": "LINUX_ALSA", "jack": "UNIX_JACK", "coremidi": "MACOSX_CORE",
             "winmm": "WINDOWS_MM"}
AUTO_ORDER = ("alsa", "jack", "coremidi", "winmm")
NO_MIDI_HINT = ("no MIDI system found ({why}); playing silent. Start a JACK server "
                "(jackd -d dummy, or your audio setup), load snd-seq for ALSA, "
                "or pass --midi-api none to silence this line.")


class MidiUnavailable(RuntimeError):
    """No MIDI system could be opened for output."""


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
    """A MIDI destination. ``send`` sends at once; ``close`` drains first."""

    name = "none"
    api = "none"

    def send(self, msg: mido.Message) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Close the port; subclasses drain what is queued first."""


class NullOut(MidiOut):
    """Silent output: used when no MIDI system exists or with ``--midi-api none``."""

    def send(self, msg: mido.Message) -> None:
        pass  # nothing to send to: the engine already said so once


class RecordingOut(MidiOut):
    """Keeps every message with the wall time it was sent (a fake for tests)."""

    name = "recording"
    api = "fake"

    def __init__(self) -> None:
        self.messages: list[tuple[float, mido.Message]] = []
        self.closed = False

    def send(self, msg: mido.Message) -> None:
        self.messages.append((time.perf_counter(), msg))

    def close(self) -> None:
        self.closed = True


class RtMidiOut(MidiOut):
    """An rtmidi output port through mido: a virtual port, or an existing one by name."""

    # rtmidi's JACK backend hands messages to a ringbuffer read by JACK's process
    # callback; closing straight after a burst drops the tail, so wait a few periods.
    DRAIN_SECONDS = 0.05

    def __init__(self, port: mido.ports.BaseOutput, api: str) -> None:
        self._port = port
        self.name = port.name
        self.api = api

    def send(self, msg: mido.Message) -> None:
        self._port.send(msg)

    def close(self) -> None:
        time.sleep(self.DRAIN_SECONDS)
        self._port.close()


def _backend(api: str) -> mido.Backend:
    return mido.Backend(f"mido.backends.rtmidi/{API_NAMES[api]}", load=True)


def _compiled_apis() -> tuple[str, ...]:
    import rtmidi  # python-rtmidi says which APIs this build has: "alsa", "jack", "core", ...

    compiled = {rtmidi.get_api_name(a) for a in rtmidi.get_compiled_api()}
    return tuple(a for a in AUTO_ORDER if a in compiled or a[:4] in compiled)


def _open_one(api: str, virtual: str, port: str | None) -> RtMidiOut:
    backend = _backend(api)
    with quiet_stderr():
        if port is None:
            opened = backend.open_output(virtual, virtual=True, client_name=virtual)
        else:
            names = backend.get_output_names()
            matches = [n for n in names if port.lower() in n.lower()]
            if not matches:
                raise MidiUnavailable(f"no {api} output port matches {port!r}; ports: {names or 'none'}")
            opened = backend.open_output(matches[0], client_name=virtual)
    return RtMidiOut(opened, api)


def open_midi_out(api: str = "auto", virtual: str = "livecode",
                  port: str | None = None) -> tuple[MidiOut, str]:
    """Open the output the options ask for; return it and a one-line description.

    With ``api="auto"`` the first API that opens wins. When none does, a :class:`NullOut`
    comes back with the one line that says why and what to do.
    """
    os.environ.setdefault("JACK_NO_START_SERVER", "1")  # never spawn a jackd behind the user's back
    if api == "none":
        return NullOut(), "MIDI off (--midi-api none)"
    apis = _compiled_apis() if api == "auto" else (api,)
    reasons = []
    for name in apis:
        try:
            out = _open_one(name, virtual, port)
        except MidiUnavailable as exc:
            reasons.append(str(exc))
        except (ImportError, OSError, RuntimeError, ValueError, KeyError) as exc:
            reasons.append(f"{name}: {str(exc).strip() or type(exc).__name__}")
        else:
            kind = "virtual port" if port is None else "port"
            return out, f"MIDI out: {kind} {out.name!r} on {name}"
    return NullOut(), NO_MIDI_HINT.format(why="; ".join(reasons) or "no API")


def list_ports() -> dict[str, dict[str, list[str]] | str]:
    """For each MIDI API compiled into rtmidi: its output and input ports, or why it is unavailable."""
    os.environ.setdefault("JACK_NO_START_SERVER", "1")
    found: dict[str, dict[str, list[str]] | str] = {}
    for name in AUTO_ORDER:
        try:
            backend = _backend(name)
            if API_NAMES[name] not in backend.module.get_api_names():
                continue
            with quiet_stderr():
                found[name] = {"outputs": backend.get_output_names(),
                               "inputs": backend.get_input_names()}
        except (ImportError, OSError, RuntimeError, ValueError) as exc:
            found[name] = f"unavailable: {str(exc).strip() or type(exc).__name__}"
    return found
