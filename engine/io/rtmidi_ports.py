"""The python-rtmidi backend: output and input ports on ALSA, JACK, CoreMIDI or WinMM.

mido encodes the messages; python-rtmidi is used directly for the ports because mido
names a JACK connection after its destination ("client:lcrecv:in"), and rtmidi's JACK
backend then fails to connect it. Nothing is opened at import time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import mido

from engine.io.midi_base import (
    SETTLE_SECONDS,
    MidiInPort,
    MidiOut,
    PortNotFound,
    quiet_stderr,
)

__all__ = [
    "RtMidiOut",
    "RtMidiIn",
    "open_rtmidi_port",
    "compiled_apis",
    "list_ports",
    "API_NAMES",
    "RTMIDI_APIS",
    "AUTO_ORDER",
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


class RtMidiOut(MidiOut):
    """An rtmidi output port: a virtual port, or a connection to an existing one."""

    # rtmidi's JACK backend hands messages to a ringbuffer read by JACK's process
    # callback; closing straight after a burst drops the tail, so wait a few periods.
    DRAIN_SECONDS = 0.05
    SETTLE_SECONDS = SETTLE_SECONDS

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


class RtMidiIn(MidiInPort):
    """An rtmidi input: a virtual port named ``client``, or a connection to an existing port."""

    def __init__(self, api: str, client: str, port: str | None = None) -> None:
        super().__init__()
        import rtmidi

        self.api = api
        self.virtual = port is None
        with quiet_stderr():
            self._rt = rtmidi.MidiIn(rtapi=RTMIDI_APIS[api](), name=client)
            # SysEx is let through to be counted; clock and active sensing are not wanted
            self._rt.ignore_types(sysex=False, timing=True, active_sense=True)
            self.name = open_rtmidi_port(self._rt, api, client, port, "in")
        self._rt.set_callback(self._callback)

    def _callback(self, event: tuple, data: object = None) -> None:
        # rtmidi's thread: stamp, hand over and return
        self.sink(self.index, event[0], time.perf_counter())

    def close(self) -> None:
        self._rt.cancel_callback()
        self._rt.close_port()
        self._rt.delete()


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
        raise PortNotFound(api, port, "input" if side == "in" else "output", names)
    rt.open_port(matches[0], name=side)
    return str(names[matches[0]])


def compiled_apis() -> tuple[str, ...]:
    """The --midi-api names this python-rtmidi build has, in the order ``auto`` tries them."""
    import rtmidi  # python-rtmidi says which APIs this build has: "alsa", "jack", "core", ...

    compiled = {rtmidi.get_api_name(a) for a in rtmidi.get_compiled_api()}
    return tuple(a for a in AUTO_ORDER if a in compiled or a[:4] in compiled)


def list_ports() -> dict[str, dict[str, list[str]] | str]:
    """For each MIDI API compiled into rtmidi: its output and input ports, or why it is unavailable."""
    import rtmidi

    os.environ.setdefault("JACK_NO_START_SERVER", "1")
    found: dict[str, dict[str, list[str]] | str] = {}
    for name in compiled_apis():
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
