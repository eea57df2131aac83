"""Hydrogen's demo songs (Debian ``hydrogen-data``, GPL: read where installed, never copied)
as one-bar MIDI grooves, and the figures of fitting them all.

``python3 -m tests.livecode.hydrogen`` fits every non-empty pattern and prints one line per
pattern and a summary (the figures in the README).
"""

from __future__ import annotations

import glob
import os
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import mido

SONGS = "/usr/share/hydrogen/data/demo_songs"
TPB = 48  # Hydrogen's ticks per quarter note
FIRST_NOTE = 36  # Hydrogen's MIDI out plays instrument i as note 36 + i (GM kits line up)


@dataclass(frozen=True)
class Pattern:
    song: str
    name: str
    size: int  # ticks
    notes: tuple[tuple[int, int, int], ...]  # (tick, note, velocity)

    @property
    def label(self) -> str:
        return f"{self.song}:{self.name}"


def patterns() -> list[Pattern]:
    """Every non-empty pattern of every demo song, in file order; [] if none installed."""
    out = []
    for path in sorted(glob.glob(os.path.join(SONGS, "*.h2song"))):
        root = ET.parse(path).getroot()
        song = os.path.basename(path).removesuffix(".h2song")
        for p in root.findall("./patternList/pattern"):
            notes = set()
            for n in p.findall("./noteList/note"):
                vel = max(1, min(127, round(float(n.findtext("velocity", "0.8")) * 127)))
                note = FIRST_NOTE + int(n.findtext("instrument", "0"))
                notes.add((int(n.findtext("position", "0")), note, vel))
            if notes:
                size = int(p.findtext("size", "192"))
                out.append(Pattern(song, p.findtext("name", "?"), size, tuple(sorted(notes))))
    return out


def write_midi(p: Pattern, path: str) -> None:
    """The pattern as a one-bar type-0 MIDI file on channel 10, 120 BPM."""
    mid = mido.MidiFile(type=0, ticks_per_beat=TPB)
    tr = mido.MidiTrack()
    mid.tracks.append(tr)
    beats = p.size // TPB
    tr.append(mido.MetaMessage("time_signature", numerator=beats, denominator=4))
    tr.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(120)))
    events = []
    for tick, note, vel in p.notes:
        events.append((tick, 1, note, vel))
        events.append((tick + 6, 0, note, 0))
    events.append((p.size, 0, 0, 0))  # the bar's end, so the file lasts a whole bar
    now = 0
    for tick, on, note, vel in sorted(events):
        msg = "note_on" if on else "note_off"
        tr.append(mido.Message(msg, channel=9, note=note, velocity=vel, time=tick - now))
        now = tick
    mid.save(path)


def main() -> int:
    import tempfile
    import time

    from livecode.fit import fit_file

    pats = patterns()
    if not pats:
        print(f"no Hydrogen songs in {SONGS}: apt-get install hydrogen-data", file=sys.stderr)
        return 2
    rows, t0 = [], time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for k, p in enumerate(pats):
            path = os.path.join(tmp, f"p{k}.mid")
            write_midi(p, path)
            r = fit_file(path)
            ok = r.check.f1 == 1.0 and r.check_rounded.f1 == 1.0
            rows.append((p, r, ok))
            print(
                f"{p.label:40s} voices {len(r.fit.voices):2d} neurons {len(r.fit.voices) + 1:2d} "
                f"conns {r.fit.connections:2d} taps {r.fit.taps:3d} fit {r.fit.seconds:6.2f} s "
                f"F1 {r.check.f1:.3f}/{r.check_rounded.f1:.3f} worst {r.check.worst:.1e}/"
                f"{r.check_rounded.worst:.1e} s",
                flush=True,
            )
    secs = sorted(r.fit.seconds for _p, r, _ok in rows)
    slow = max(rows, key=lambda row: row[1].fit.seconds)
    med = sorted(len(r.fit.voices) + 1 for _p, r, _ok in rows)[len(rows) // 2]
    medc = sorted(r.fit.connections for _p, r, _ok in rows)[len(rows) // 2]
    print(
        f"{sum(ok for *_x, ok in rows)} of {len(rows)} patterns fit (F1 1.0 as written and "
        f"rounded); median {med} neurons, {medc} connections; fit time median "
        f"{secs[len(secs) // 2]:.2f} s, slowest {secs[-1]:.2f} s ({slow[0].label}); "
        f"worst error {max(r.check.worst for _p, r, _ok in rows):.1e} s as written, "
        f"{max(r.check_rounded.worst for _p, r, _ok in rows):.1e} s rounded; "
        f"total {time.perf_counter() - t0:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
