"""A SoundFont synth: TinySoundFont (the ``tinysoundfont`` package, MIT) playing a .sf2/.sf3.

``tinysoundfont``'s wheel declares PyAudio, but only its own ``Synth.start()`` playback
imports it; this backend uses the C extension's ``SoundFont`` directly and never does, so
livecode installs it with ``pip install --no-deps tinysoundfont`` (README).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from engine.audio.synth import Synth
from engine.errors import EngineError
from engine.model.gm import DRUM_CH

__all__ = ["SoundFontSynth", "SoundFontError", "tinysoundfont_missing"]

_GAIN_DB = -6.0  # headroom: a dozen loud voices together stay under full scale
_MAX_VOICES = 256
_DRUMS = DRUM_CH - 1


class SoundFontError(EngineError, OSError):
    """A SoundFont that cannot be loaded (missing, unreadable, not a SoundFont)."""


def tinysoundfont_missing() -> bool:
    """True when the ``tinysoundfont`` package cannot be imported."""
    try:
        import tinysoundfont._tinysoundfont  # noqa: F401
    except ImportError:
        return True
    return False


class SoundFontSynth(Synth):
    """General MIDI from a SoundFont: channel 10 plays bank 128 (the drum kits)."""

    def __init__(self, path: str | Path, rate: int = 48000) -> None:
        from tinysoundfont import _tinysoundfont as tsf  # here: an optional package

        path = Path(path)
        try:
            self._sf = tsf.SoundFont(str(path))
        except Exception as exc:  # the extension raises plain RuntimeError/OSError
            raise SoundFontError(f"cannot load SoundFont {path}: {exc}") from None
        if self._sf.get_preset_count() == 0:
            raise SoundFontError(f"{path} has no presets")
        self.name = path.resolve().name  # default-GM.sf2 is a link: say which font
        self.path = path
        self.rate = rate
        self._sf.set_output(tsf.OutputMode.StereoInterleaved, rate, _GAIN_DB)
        self._sf.set_max_voices(_MAX_VOICES)
        for ch in range(16):
            self._program(ch, 0)

    def _program(self, ch: int, program: int) -> None:
        """Select ``program`` (MIDI 0..127) on ``ch``; a font without it keeps the old one."""
        try:
            self._sf.channel_set_preset_number(ch, program, ch == _DRUMS)
        except RuntimeError:
            if program != 0:  # a missing drum kit or program: the standard one
                self._program(ch, 0)

    def message(self, data: Sequence[int]) -> None:
        if not data:
            return
        kind, ch = data[0] & 0xF0, data[0] & 0x0F
        sf = self._sf
        if kind == 0x90 and len(data) >= 3:
            if data[2] > 0:
                sf.channel_note_on(ch, data[1] & 0x7F, data[2] / 127.0)
            else:
                sf.channel_note_off(ch, data[1] & 0x7F)
        elif kind == 0x80 and len(data) >= 2:
            sf.channel_note_off(ch, data[1] & 0x7F)
        elif kind == 0xB0 and len(data) >= 3:
            sf.channel_midi_control(ch, data[1] & 0x7F, data[2] & 0x7F)
        elif kind == 0xC0 and len(data) >= 2:
            self._program(ch, data[1] & 0x7F)
        elif kind == 0xE0 and len(data) >= 3:
            sf.channel_set_pitch_wheel(ch, (data[2] & 0x7F) << 7 | (data[1] & 0x7F))

    def render(self, frames: int) -> np.ndarray:
        out = np.empty((frames, 2), dtype=np.float32)
        if frames:
            self._sf.render(memoryview(out.data).cast("B"), False)
        return out

    def preset_name(self, ch: int) -> str:
        """The preset playing on ``ch`` (0..15), as the SoundFont names it."""
        return str(self._sf.get_preset_name(self._sf.channel_get_preset_index(ch)))

    def close(self) -> None:
        self._sf = None  # type: ignore[assignment]
