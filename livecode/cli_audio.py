"""The command line's pieces for audio files: ``--rate``/``--soundfont`` and the summary line
of a .wav render (``render``, ``replay``, ``export``)."""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.render import AudioStats

__all__ = ["SOUNDFONT_HELP", "add_audio_file_options", "audio_summary"]

SOUNDFONT_HELP = (
    "the General MIDI SoundFont (.sf2/.sf3) to play; default: $LIVECODE_SOUNDFONT, then the "
    "system's (/usr/share/sounds/sf2 ...); 'none': the built-in voices"
)


def add_audio_file_options(parser: argparse.ArgumentParser, soundfont: bool = True) -> None:
    """``--rate`` and ``--soundfont`` of the commands that write a .wav file."""
    parser.add_argument(
        "--rate", type=int, default=48000, metavar="HZ", help="of a .wav output (default 48000)"
    )
    if soundfont:
        parser.add_argument("--soundfont", metavar="FILE", help=SOUNDFONT_HELP)


def audio_summary(stats: AudioStats, out: str, took: float) -> str:
    """The line a .wav render ends with: what, how fast, how loud, anything clipped."""
    speed = stats.seconds / took if took > 0 else float("inf")
    db = 20 * math.log10(stats.peak) if stats.peak > 0 else -math.inf
    clip = f", {stats.clipped} samples clipped" if stats.clipped else ""
    return (
        f"wrote {stats.seconds:g} s of 16-bit stereo at {stats.rate} Hz to {out} "
        f"({stats.messages} MIDI messages, in {took:.2f} s, {speed:.0f}x real time; "
        f"peak {db:.1f} dBFS{clip})"
    )
