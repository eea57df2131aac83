"""MIDI output ports: a small base class, the rtmidi port, a silent port and a recording fake.

Nothing here opens a device at import time; :func:`open_midi_out` is the factory the
engine calls once it runs in its own process.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import mido

from engine.errors import MidiUnavailable

__all__ = [
    "MidiOut",
    "RtMidiOut",
    "NullOut",
    "RecordingOut",
    "open_midi_out",
    "list_ports",
    "API_NAMES",
    "MidiUnavailable",
    "quiet_stderr",
    "open_rtmidi_port",
]


# DESIGN §5 --midi-api names -> rtmidi API names as mido spells them.
def _rtmidi_api(name: str) -> Callable[[], int]:
    def lookup() -> int:
        import rtmidi

        return int(getattr(rtmidi, f"API_{name}"))

    return lookup


API_NAMES = {
    "alsa": "LINUX_ALSA",
    "jack": "UNIX_JACK",
    "coremidi": "MACOSX_CORE",
    "winmm": "WINDOWS_MM",
}
RTMIDI_APIS = {api: _rtmidi_api(name) for api, name in API_NAMES.items()}
AUTO_ORDER = ("alsa", "jack", "coremidi", "winmm")
NO_MIDI_HINT = (
    "no MIDI system found ({why}); playing silent. Start a JACK server "
    "(jackd -d dummy, or your audio setup), load snd-seq for ALSA, "
    "or pass --midi-api none to silence this line."
)


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
    latency = 0.0  # how far ahead of the clock the engine hands messages over

    def send_at(self, data: list[int], t: float) -> None:
        """Send encoded ``data`` meant for logical time ``t``; ports that can't wait send now."""
        self.send_bytes(data)

    def send(self, msg: mido.Message) -> None:
        raise NotImplementedError

    def send_bytes(self, data: list[int]) -> None:
        """Send one encoded message; ports that can skip decoding override this."""
        self.send(mido.Message.from_bytes(data))

    def close(self) -> None:
        """Close the port; subclasses drain what is queued first."""


class NullOut(MidiOut):
    """Silent output: used when no MIDI system exists or with ``--midi-api none``."""

    def send(self, msg: mido.Message) -> None:
        pass  # nothing to send to: the engine already said so once

    def send_bytes(self, data: list[int]) -> None:
        pass


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
    """An rtmidi output port: a virtual port, or a connection to an existing one.

    mido encodes the messages; python-rtmidi is used directly for the port because
    mido names a JACK connection after its destination ("client:lcrecv:in"), and
    rtmidi's JACK backend then fails to connect it.
    """

    # rtmidi's JACK backend hands messages to a ringbuffer read by JACK's process
    # callback; closing straight after a burst drops the tail, so wait a few periods.
    DRAIN_SECONDS = 0.05
    SETTLE_SECONDS = 0.05

    def __init__(self, api: str, client: str, port: str | None = None) -> None:
        import rtmidi

        self.api = api
        with quiet_stderr():
            self._rt = rtmidi.MidiOut(rtapi=RTMIDI_APIS[api](), name=client)
            self.name = open_rtmidi_port(self._rt, api, client, port, "out")
        if api == "jack":
            # JACK makes the port and its connection live at a later cycle; what is
            # sent before then is lost, so give it a few periods.
            time.sleep(self.SETTLE_SECONDS)

    def send(self, msg: mido.Message) -> None:
        self._rt.send_message(msg.bytes())

    def send_bytes(self, data: list[int]) -> None:
        """Send already encoded bytes (the engine's hot path)."""
        self._rt.send_message(data)

    def close(self) -> None:
        time.sleep(self.DRAIN_SECONDS)
        self._rt.close_port()
        del self._rt


def open_rtmidi_port(rt: Any, api: str, client: str, port: str | None, side: str) -> str:
    """Open a virtual port named ``client`` on ``rt`` (an rtmidi MidiIn or MidiOut), or
    connect to the first existing port whose name contains ``port``; return the port name.
    """
    if port is None:
        rt.open_virtual_port(client)
        return client
    names = rt.get_ports()
    matches = [i for i, n in enumerate(names) if port.lower() in n.lower()]
    if not matches:
        rt.delete()
        kind = "input" if side == "in" else "output"
        raise MidiUnavailable(
            f"no {api} {kind} port matches {port!r}; ports: {', '.join(names) or 'none'}"
        )
    rt.open_port(matches[0], name=side)
    return names[matches[0]]


def _compiled_apis() -> tuple[str, ...]:
    import rtmidi  # python-rtmidi says which APIs this build has: "alsa", "jack", "core", ...

    compiled = {rtmidi.get_api_name(a) for a in rtmidi.get_compiled_api()}
    return tuple(a for a in AUTO_ORDER if a in compiled or a[:4] in compiled)


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
    apis = _compiled_apis() if api == "auto" else (api,)
    reasons = []
    for name in apis:
        try:
            found = (
                _sample_accurate_jack(virtual, port, latency, reconnect) if name == "jack" else None
            )
            if found is not None:
                return found
            out = RtMidiOut(name, virtual, port)
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
    import rtmidi

    os.environ.setdefault("JACK_NO_START_SERVER", "1")
    found: dict[str, dict[str, list[str]] | str] = {}
    for name in _compiled_apis():
        try:
            with quiet_stderr():
                api = RTMIDI_APIS[name]()
                found[name] = {
                    "outputs": rtmidi.MidiOut(rtapi=api, name="livecode-ports").get_ports(),
                    "inputs": rtmidi.MidiIn(rtapi=api, name="livecode-ports").get_ports(),
                }
        except (OSError, RuntimeError, ValueError) as exc:
            found[name] = f"unavailable: {str(exc).strip() or type(exc).__name__}"
    return found
