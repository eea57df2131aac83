"""Markov chains on the performer's side: a melody read from a MIDI file, and the table a
chain is trained on (sent to the engine as plain data in :class:`engine.protocol.Markov`).

Pure apart from parsing bytes the host read; nothing here opens a file.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import mido

__all__ = ["Melody", "melody", "train", "MAX_NOTES"]

MAX_NOTES = 20_000  # notes taken from one file (a chain's table stays well under its bound)
DUR_GRID = 96  # durations are rounded to 1/96 beat: a chain of durations stays small


@dataclass(frozen=True)
class Melody:
    """One line of a MIDI file, in time order: its notes, velocities and lengths in beats."""

    notes: tuple[int, ...]
    vels: tuple[int, ...]
    durs: tuple[float, ...]


def melody(data: bytes, track: int | None = None, ch: int | None = None) -> Melody:
    """The melody of a MIDI file's bytes: the note-ons of ``track`` (None: all tracks) on
    ``ch`` (1..16; None: every channel but 10, the drums), the highest of notes struck
    together. Raises ValueError with the reason for a file that is not one or has no notes.
    """
    try:
        mid = mido.MidiFile(file=io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - mido raises many kinds on a bad file
        raise ValueError(f"not a readable MIDI file ({exc or type(exc).__name__})") from None
    if mid.type == 2:
        raise ValueError("MIDI files of type 2 (independent songs) are not read")
    tpb = mid.ticks_per_beat or 480
    if track is not None and not 0 <= track < len(mid.tracks):
        raise ValueError(f"the file has tracks 0..{len(mid.tracks) - 1}, got track={track}")
    tracks = [mid.tracks[track]] if track is not None else mid.tracks
    onsets: dict[int, tuple[int, int, int]] = {}  # tick -> (note, vel, index of its on)
    ons: list[list] = []  # [tick, note, vel, off tick]
    sounding: dict[tuple[int, int], int] = {}
    for trk in tracks:
        tick = 0
        for msg in trk:
            tick += msg.time
            if msg.type not in ("note_on", "note_off"):
                continue
            c = msg.channel + 1
            if (ch is None and c == 10) or (ch is not None and c != ch):
                continue
            key = (c, msg.note)
            if msg.type == "note_on" and msg.velocity > 0:
                if key in sounding:
                    ons[sounding[key]][3] = tick
                sounding[key] = len(ons)
                ons.append([tick, msg.note, msg.velocity, None])
                if len(ons) > MAX_NOTES * 4:
                    raise ValueError(f"too many notes; at most {MAX_NOTES} are read")
            elif key in sounding:
                ons[sounding.pop(key)][3] = tick
    for i, (tick, note, vel, _off) in enumerate(ons):
        top = onsets.get(tick)
        if top is None or note > top[0]:  # a chord: its highest note carries the melody
            onsets[tick] = (note, vel, i)
    if not onsets:
        where = "" if ch is None else f" on channel {ch}"
        raise ValueError(
            f"no notes{where} in the file" + (" (channel 10 is skipped)" * (ch is None))
        )
    picked = [onsets[t] for t in sorted(onsets)][:MAX_NOTES]
    durs = []
    for _note, _vel, i in picked:
        tick, _n, _v, off = ons[i]
        length = (off if off is not None else tick + tpb // 4) - tick
        durs.append(round(length * DUR_GRID / tpb) / DUR_GRID)
    return Melody(tuple(p[0] for p in picked), tuple(p[1] for p in picked), tuple(durs))


def train(values: list | tuple, order: int) -> tuple[tuple, tuple]:
    """``(table, start)`` of an order-``order`` chain over ``values`` played as a loop (its
    end leads back to its start, so the chain never runs into a dead end)."""
    n = len(values)
    counts: dict[tuple, dict] = {}
    for i in range(n):
        ctx = tuple(values[(i + j) % n] for j in range(order))
        nxt = values[(i + order) % n]
        row = counts.setdefault(ctx, {})
        row[nxt] = row.get(nxt, 0) + 1
    table = tuple((ctx, tuple(row.items())) for ctx, row in counts.items())
    start = tuple(values[j % n] for j in range(order))
    return table, start
