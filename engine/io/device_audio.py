"""The default sound device through ``sounddevice`` (PortAudio; extra ``livecode[sound]``).

PortAudio calls back for each block on its own thread; a :class:`FrameMap` puts the
engine's logical times on the device's frames (paced: ``lag`` behind the engine's clock,
following the device's sample clock without drift). The stream closes with the process.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from engine.io.audio_base import RELEASE_WAIT, AudioOut, AudioUnavailable, FrameMap, SynthFactory
from engine.io.midi_base import quiet_stderr

__all__ = ["DeviceAudioOut", "list_devices"]

BLOCK = 256  # frames per callback: 5.3 ms at 48 kHz


def _sounddevice() -> Any:
    try:
        import sounddevice
    except ImportError as exc:
        raise AudioUnavailable(
            "sounddevice is not installed (pip install 'livecode[sound]')"
        ) from exc
    except OSError as exc:  # the module is there, PortAudio is not
        raise AudioUnavailable(
            f"PortAudio is missing ({exc}; apt-get install libportaudio2)"
        ) from exc
    return sounddevice


@contextlib.contextmanager
def _portaudio() -> Iterator[Any]:
    """sounddevice with PortAudio initialised for the block, and terminated after it.

    PortAudio's JACK host API asserts (and aborts the process) if it is terminated at
    exit after the JACK server it connected to went away; terminated here, while the
    server is still up, nothing is left for exit."""
    sd = _sounddevice()
    if not sd._initialized:
        with quiet_stderr():
            sd._initialize()
    try:
        yield sd
    finally:
        while sd._initialized:
            try:
                sd._terminate()
            except sd.PortAudioError:
                break


def _sound_cards(sd: Any) -> list[int]:
    """Stereo outputs that are not PortAudio's JACK host API: ``--audio jack`` plays on
    JACK with its exact frame clock; a second, PortAudio JACK client would only double it."""
    apis = sd.query_hostapis()
    return [
        i
        for i, d in enumerate(sd.query_devices())
        if d["max_output_channels"] >= 2 and "JACK" not in apis[d["hostapi"]]["name"]
    ]


def list_devices() -> list[str] | str:
    """Output devices PortAudio sees, default first; a string says why there are none."""
    try:
        with _portaudio() as sd, quiet_stderr():
            devices = sd.query_devices()
            default = sd.default.device[1]
            usable = _sound_cards(sd)
    except AudioUnavailable as exc:
        return str(exc)
    outs = [
        f"{d['name']}{' (default)' if i == default else ''}"
        for i, d in enumerate(devices)
        if i in usable
    ]
    return sorted(outs, key=lambda name: not name.endswith("(default)"))


class DeviceAudioOut(AudioOut):
    """A stereo output stream on the default device (or ``device``, a name or index)."""

    kind = "device"

    def __init__(
        self, synth_factory: SynthFactory, device: str | int | None = None, rate: int = 48000
    ) -> None:
        self._portaudio = _portaudio()
        sd = self._portaudio.__enter__()
        try:
            self._open(sd, synth_factory, device, rate)
        except BaseException:
            self._portaudio.__exit__(None, None, None)
            raise

    def _open(
        self, sd: Any, synth_factory: SynthFactory, device: str | int | None, rate: int
    ) -> None:
        with quiet_stderr():
            try:
                cards = _sound_cards(sd)
                if device is None:  # the default output, unless it is JACK's: the first card
                    default = sd.default.device[1]
                    device = default if default in cards else (cards[0] if cards else None)
                if device is None:
                    raise ValueError("no output device but JACK's (use --audio jack)")
                info = sd.query_devices(device, "output")
            except (ValueError, sd.PortAudioError) as exc:
                raise AudioUnavailable(f"no sound device found ({exc})") from exc
            self.rate = rate
            self.period = BLOCK
            super().__init__(synth_factory(rate))
            try:
                self.stream = sd.OutputStream(
                    samplerate=rate,
                    blocksize=BLOCK,
                    device=device,
                    channels=2,
                    dtype="float32",
                    latency="low",
                    callback=self._callback,
                )
            except sd.PortAudioError as exc:
                raise AudioUnavailable(f"sound device {info['name']!r}: {exc}") from exc
        self.name = str(info["name"])
        # Behind the engine's clock by two blocks plus the engine's worst lateness seen in
        # ``livecode bench`` (2 ms), so every message of a block is in before it renders.
        self.map = FrameMap(rate, lag=2 * BLOCK / rate + 0.002)
        self._frame = 0
        self.stream.start()

    def _callback(self, outdata: Any, frames: int, info: Any, status: Any) -> None:
        if status.output_underflow:
            self.xruns += 1
        if self._clock is None:  # not playing yet
            outdata.fill(0)
            return
        self.map.place(self._frame, self._clock.now())
        outdata[:] = self.render_block(self._frame, frames, self.map.frame_of)
        self._frame += frames

    def close(self) -> None:
        deadline = time.monotonic() + 1.0
        while self.pending() and time.monotonic() < deadline:
            time.sleep(BLOCK / self.rate)
        time.sleep(RELEASE_WAIT + self.map.lag)
        self.stream.stop()
        self.stream.close()
        self._portaudio.__exit__(None, None, None)
        super().close()
