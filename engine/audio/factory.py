"""The synth factory: a SoundFont synth when a font and tinysoundfont are there, else the
built-in voices, and one line saying what plays (and, with no font, how to get one)."""

from __future__ import annotations

from engine.audio.fonts import HOW_TO_GET, find_soundfont
from engine.audio.synth import Synth
from engine.audio.voices import BuiltinVoices

__all__ = ["open_synth"]


def open_synth(soundfont: str | None = None, rate: int = 48000) -> tuple[Synth, str]:
    """``(synth, line)``: the General MIDI synth to play and one line saying what plays.

    ``soundfont`` is the ``--soundfont`` option (a file, or "none" for the built-in
    voices); without it ``LIVECODE_SOUNDFONT`` and the system's places are searched
    (:mod:`engine.audio.fonts`). Never raises for a missing or broken font: the built-in
    voices play and the line says why.
    """
    choice = find_soundfont(soundfont)
    note = f"; {choice.problem}" if choice.problem else ""
    if choice.path is None:
        if choice.why in ("--soundfont", "LIVECODE_SOUNDFONT"):  # asked for by "none"
            return BuiltinVoices(rate), f"sound: built-in voices ({choice.why} none)"
        return BuiltinVoices(
            rate
        ), f"sound: built-in voices (no SoundFont found{note}: {HOW_TO_GET})"
    from engine.audio.sf2 import SoundFontError, SoundFontSynth, tinysoundfont_missing

    if tinysoundfont_missing():
        return BuiltinVoices(rate), (
            f"sound: built-in voices ({choice.path.name} found, but tinysoundfont is not "
            "installed: pip install --no-deps tinysoundfont)"
        )
    try:
        synth = SoundFontSynth(choice.path, rate)
    except SoundFontError as exc:
        return BuiltinVoices(rate), f"sound: built-in voices ({exc}{note})"
    where = "" if choice.why == "system" else f", from {choice.why}"
    return synth, f"sound: {synth.name} (General MIDI{where}){note}"
