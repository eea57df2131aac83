"""A groove read from a MIDI file: one bar pattern (or several bars) of onsets per voice.

Times stay in the file's integer ticks so that "at the same time" is exact; a voice is one
(channel, note, velocity level) and becomes one neuron. Names come from the General MIDI
drum map (``kick``, ``snare``, ``hat``); a note's softer velocity levels are ``<name>_mid``
and ``<name>_soft``.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from fractions import Fraction

import mido

__all__ = ["Groove", "Voice", "GrooveError", "read_groove", "parse_grid", "parse_bars", "GM_DRUMS"]

#: General MIDI percussion (channel 10) names; none ends in _<digits> (save() groups those)
GM_DRUMS = {
    35: "kick_ac", 36: "kick", 37: "rim", 38: "snare", 39: "clap", 40: "snare_el",
    41: "tom_floor_lo", 42: "hat", 43: "tom_floor_hi", 44: "hat_pedal", 45: "tom_lo",
    46: "hat_open", 47: "tom_lomid", 48: "tom_himid", 49: "crash", 50: "tom_hi", 51: "ride",
    52: "china", 53: "ride_bell", 54: "tambourine", 55: "splash", 56: "cowbell",
    57: "crash_b", 58: "vibraslap", 59: "ride_b", 60: "bongo_hi", 61: "bongo_lo",
    62: "conga_mute", 63: "conga_hi", 64: "conga_lo", 65: "timbale_hi", 66: "timbale_lo",
    67: "agogo_hi", 68: "agogo_lo", 69: "cabasa", 70: "maracas", 71: "whistle_short",
    72: "whistle_long", 73: "guiro_short", 74: "guiro_long", 75: "claves", 76: "block_hi",
    77: "block_lo", 78: "cuica_mute", 79: "cuica_open", 80: "triangle_mute",
    81: "triangle_open",
}  # fmt: skip
# a note's velocity levels, loudest first, by how many there are
_LEVELS = {1: ("",), 2: ("", "_soft"), 3: ("", "_mid", "_soft")}
MAX_LEVELS = len(_LEVELS)
MAX_BARS = 8  # the longest pattern fitted (each voice's program grows with its onsets)


class GrooveError(ValueError):
    """The file or the options do not give a groove; the message says what to change."""


@dataclass(frozen=True)
class Voice:
    """One neuron to be: its onsets in ticks from the pattern's start, ascending."""

    name: str
    ch: int
    note: int
    vel: int
    dur: float  # beats
    onsets: tuple[int, ...]


@dataclass(frozen=True)
class Groove:
    """The pattern that repeats: ``period`` ticks long, ``tpb`` ticks per beat."""

    tpb: int
    tempo: float
    period: int
    bar: int  # ticks per bar
    voices: tuple[Voice, ...]
    moved: float = 0.0  # the largest move --grid made, in beats

    @property
    def beats(self) -> float:
        return self.period / self.tpb

    @property
    def bars(self) -> int:
        return self.period // self.bar


def parse_grid(text: str) -> Fraction:
    """``"1/16"`` (a 16th note), ``"1/8t"`` (an 8th triplet): the grid step in beats."""
    m = re.fullmatch(r"\s*1/(\d{1,3})(t?)\s*", text or "")
    if not m or int(m.group(1)) == 0:
        raise GrooveError(f'a grid is a note value like "1/16" or "1/8t", got {text!r}')
    step = Fraction(4, int(m.group(1)))
    return step * Fraction(2, 3) if m.group(2) else step


def parse_bars(text: str) -> tuple[int, int]:
    """``"5:8"``: bars 5 to 8, counted from 1, both included."""
    m = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+)\s*", text or "")
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
        raise GrooveError(f'bars are "A:B", first and last bar counted from 1, got {text!r}')
    return int(m.group(1)), int(m.group(2))


@dataclass
class _Note:
    tick: int
    ch: int
    note: int
    vel: int
    length: int


def _notes(mid: mido.MidiFile, track: int | None) -> tuple[list[_Note], float, Fraction]:
    """Every note-on with its length, the first tempo and the first bar length in beats."""
    tracks = list(mid.tracks)
    if track is not None:
        if not 1 <= track <= len(tracks):
            raise GrooveError(f"the file has tracks 1..{len(tracks)}, got --track {track}")
        picked = {track - 1}
    else:
        picked = set(range(len(tracks)))
    tempo, bar_beats = None, None
    notes: list[_Note] = []
    for i, tr in enumerate(tracks):
        tick = 0
        open_: dict[tuple[int, int], list[_Note]] = {}
        for msg in tr:
            tick += msg.time
            if msg.type == "set_tempo" and tempo is None:
                tempo = mido.tempo2bpm(msg.tempo)
            elif msg.type == "time_signature" and bar_beats is None:
                bar_beats = Fraction(4 * msg.numerator, msg.denominator)
            elif i not in picked or msg.type not in ("note_on", "note_off"):
                continue
            elif msg.type == "note_on" and msg.velocity > 0:
                n = _Note(tick, msg.channel + 1, msg.note, msg.velocity, 0)
                notes.append(n)
                open_.setdefault((n.ch, n.note), []).append(n)
            else:
                for n in open_.pop((msg.channel + 1, msg.note), []):
                    n.length = tick - n.tick
    return notes, round(tempo or 120.0, 3), bar_beats or Fraction(4)


def _channel(notes: list[_Note], channel: int | None) -> int:
    chans = sorted({n.ch for n in notes})
    if channel is not None:
        if channel not in chans:
            raise GrooveError(f"no notes on channel {channel}; channels with notes: {chans}")
        return channel
    if 10 in chans:
        return 10  # the drum channel
    if len(chans) == 1:
        return chans[0]
    raise GrooveError(
        f"no drum channel (10): pick one with --channel; channels with notes: {chans}"
    )


def _levels(vels: list[int]) -> dict[int, int]:
    """Each velocity -> its level's velocity: at most three levels (nearest ones merged)."""
    groups = [[v] for v in sorted(set(vels))]
    while len(groups) > MAX_LEVELS:
        gaps = [groups[k + 1][0] - groups[k][-1] for k in range(len(groups) - 1)]
        k = gaps.index(min(gaps))
        groups[k : k + 2] = [groups[k] + groups[k + 1]]
    level = {}
    for g in groups:
        mean = round(sum(v for v in vels if v in g) / sum(1 for v in vels if v in g))
        level.update({v: mean for v in g})
    return level


def read_groove(
    path: str,
    channel: int | None = None,
    track: int | None = None,
    bars: tuple[int, int] | None = None,
    grid: Fraction | None = None,
) -> Groove:
    """The groove of ``path`` (GrooveError if there is none; OSError if unreadable)."""
    try:
        mid = mido.MidiFile(path)
    except (ValueError, EOFError, KeyError, IndexError) as exc:
        raise GrooveError(f"{path} is not a MIDI file mido can read: {exc}") from None
    if mid.type == 2:
        raise GrooveError(f"{path} is a type 2 MIDI file (independent songs); use type 0 or 1")
    tpb = mid.ticks_per_beat
    notes, tempo, bar_beats = _notes(mid, track)
    if not notes:
        raise GrooveError(f"{path} has no notes" + (f" in track {track}" if track else ""))
    ch = _channel(notes, channel)
    notes = [n for n in notes if n.ch == ch]
    bar = bar_beats * tpb
    if bar.denominator != 1:
        raise GrooveError(f"a bar of {bar_beats} beats is not a whole number of ticks")
    bar_ticks = int(bar)
    moved = 0.0
    if grid is not None:
        step = grid * tpb
        for n in notes:
            snapped = round(Fraction(n.tick) / step) * step
            if snapped.denominator != 1:
                raise GrooveError(f"a grid of {grid} beats is not a whole number of ticks here")
            moved = max(moved, abs(int(snapped) - n.tick) / tpb)
            n.tick = int(snapped)
    first, last = bars or (
        notes[0].tick // bar_ticks + 1,
        max(n.tick for n in notes) // bar_ticks + 1,
    )
    start, period = (first - 1) * bar_ticks, (last - first + 1) * bar_ticks
    notes = [n for n in notes if start <= n.tick < start + period]
    if not notes:
        raise GrooveError(f"no notes on channel {ch} in bars {first}:{last}")
    voices = _voices(notes, ch, start, tpb)
    period = _repeat(voices, period, bar_ticks)
    if period > MAX_BARS * bar_ticks:
        raise GrooveError(
            f"bars {first}:{last} do not repeat a shorter pattern; fit at most {MAX_BARS} bars "
            f"at a time: --bars A:B"
        )
    voices = tuple(
        dataclasses.replace(v, onsets=tuple(t for t in v.onsets if t < period)) for v in voices
    )
    return Groove(tpb, tempo, period, bar_ticks, voices, moved)


def _repeat(voices: tuple[Voice, ...], period: int, bar: int) -> int:
    """The shortest whole number of bars the pattern repeats after (``period`` if none)."""
    for k in range(1, period // bar):
        p = k * bar
        if period % p == 0 and all(
            {t % p for t in v.onsets} == {t for t in v.onsets if t < p}
            and len(v.onsets) == len({t for t in v.onsets if t < p}) * (period // p)
            for v in voices
        ):
            return p
    return period


def _voices(notes: list[_Note], ch: int, start: int, tpb: int) -> tuple[Voice, ...]:
    voices = []
    for note in sorted({n.note for n in notes}):
        mine = [n for n in notes if n.note == note]
        level = _levels([n.vel for n in mine])
        base = GM_DRUMS.get(note, f"n{note}") if ch == 10 else f"n{note}"
        vels = sorted(set(level.values()), reverse=True)
        for rank, vel in enumerate(vels):
            these = [n for n in mine if level[n.vel] == vel]
            onsets = tuple(sorted({n.tick - start for n in these}))
            lengths = sorted(n.length for n in these if n.length > 0)
            dur = lengths[len(lengths) // 2] / tpb if lengths else 0.25
            voices.append(
                Voice(base + _LEVELS[len(vels)][rank], ch, note, vel, round(dur, 3), onsets)
            )
    return tuple(voices)
