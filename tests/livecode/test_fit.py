"""``livecode fit``: classic rhythms and real drum patterns (Hydrogen's demo songs) fitted,
checked through the real model over 64 bars, after save()/load and 3-decimal rounding."""

from __future__ import annotations

import os
import random
from fractions import Fraction

import mido
import pytest

from livecode.cli import main
from livecode.fit import fit_file
from livecode.language.interpreter import Interpreter
from livecode.language.session_text import session_text
from livecode.learn.check import check_text, rounded
from livecode.learn.groove import GrooveError, parse_grid, read_groove
from tests.conftest import REQUIRE_JACK
from tests.livecode import hydrogen

pytest.importorskip("scipy")

# name: (beats per bar, bars, [(note, vel, onsets in beats)])
CLASSICS = {
    "tresillo": (4, 1, [(36, 100, [0, 1.5, 3])]),
    "son_clave": (4, 2, [(75, 100, [0, 1.5, 3, 5, 6])]),
    "rumba_clave": (4, 2, [(75, 100, [0, 1.5, 3.5, 5, 6])]),
    "backbeat_ghosts": (
        4,
        1,
        [
            (36, 110, [0, 2.5]),
            (38, 110, [1, 3]),
            (38, 40, [1.75, 2.25, 3.75]),
            (42, 80, [k / 2 for k in range(8)]),
        ],
    ),
    "swung_hats": (
        4,
        1,
        [
            (36, 100, [0, 2]),
            (38, 100, [1, 3]),
            (42, 70, [b + s for b in range(4) for s in (0, 2 / 3)]),
        ],
    ),
    "waltz": (3, 1, [(36, 100, [0]), (42, 80, [1, 2])]),
    "funk_16ths": (
        4,
        1,
        [(36, 120, [0, 0.75, 2.5]), (38, 110, [1, 3]), (42, 60, [k / 4 for k in range(16)])],
    ),
}


def write_groove(path: str, beats: int, bars: int, voices, tpb: int = 480, jitter: int = 0) -> int:
    """A type-1 MIDI file of ``voices`` on channel 10; the largest jitter used, in ticks."""
    rng = random.Random(7)
    mid = mido.MidiFile(ticks_per_beat=tpb)
    tr = mido.MidiTrack()
    mid.tracks.append(tr)
    tr.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(120)))
    tr.append(mido.MetaMessage("time_signature", numerator=beats, denominator=4))
    events, worst = [], 0
    for note, vel, onsets in voices:
        for o in onsets:
            j = rng.randint(-jitter, jitter) if jitter else 0
            worst = max(worst, abs(j))
            t = max(0, round(o * tpb) + j)
            events += [(t, 1, note, vel), (t + tpb // 8, 0, note, 0)]
    events.append((beats * bars * tpb, 0, 0, 0))
    now = 0
    for t, on, note, vel in sorted(events):
        kind = "note_on" if on else "note_off"
        tr.append(mido.Message(kind, channel=9, note=note, velocity=vel, time=t - now))
        now = t
    mid.save(path)
    return worst


def assert_exact(result) -> None:
    """F1 1.0 as written, rounded, and after a save/load round trip; locked to one clock."""
    groove = result.fit.groove
    assert result.check.f1 == 1.0, result.report()
    assert result.check.worst < 1e-6, result.report()
    assert result.check_rounded.f1 == 1.0, result.report()
    it = Interpreter()
    it.run(result.text)
    again = session_text(it.mirror)
    assert again in result.text  # save() of the loaded network writes it back unchanged
    assert check_text(again, groove).f1 == 1.0
    assert check_text(rounded(again), groove).f1 == 1.0
    driven = {d for (_s, d) in it.mirror.connections}
    assert set(it.mirror.neurons) - driven == {"bar"}  # every voice is driven: one clock


@pytest.mark.parametrize("name", sorted(CLASSICS))
def test_classic_rhythms_fit_exactly(tmp_path, name):
    beats, bars, voices = CLASSICS[name]
    path = str(tmp_path / f"{name}.mid")
    write_groove(path, beats, bars, voices)
    result = fit_file(path)
    assert result.fit.groove.bars == bars
    assert len(result.fit.voices) == len(voices)
    assert_exact(result)


def test_ghost_notes_become_their_own_voice_with_a_readable_name(tmp_path):
    path = str(tmp_path / "g.mid")
    write_groove(path, *CLASSICS["backbeat_ghosts"][:2], CLASSICS["backbeat_ghosts"][2])
    names = {v.voice.name: v.voice.vel for v in fit_file(path).fit.voices}
    assert names == {"kick": 110, "snare": 110, "snare_soft": 40, "hat": 80}


def test_a_humanised_groove_fits_after_grid_and_the_largest_move_is_reported(tmp_path, capsys):
    beats, bars, voices = CLASSICS["backbeat_ghosts"]
    path = str(tmp_path / "human.mid")
    worst = write_groove(path, beats, bars, voices, jitter=40)  # up to 42 ms at 120 BPM
    assert worst > 20
    result = fit_file(path, grid="1/16")
    assert result.fit.groove.moved == worst / 480
    assert sorted(result.fit.groove.voices[0].onsets) == [0, 1200]  # kick back on the grid
    assert_exact(result)
    out = str(tmp_path / "human.neu")
    assert main(["fit", path, "--grid", "1/16", "-o", out]) == 0
    printed = capsys.readouterr().out
    assert f"grid: largest move {worst / 480:.4g} beats ({worst / 480 * 500:.1f} ms)" in printed
    assert "onset F1 1.000 at ±10 ms over 64 bars" in printed
    assert os.path.exists(out)


def test_bad_input_gets_a_clear_message_and_no_file(tmp_path, capsys):
    junk = tmp_path / "junk.mid"
    junk.write_bytes(b"MThd\x00\x00\x00\x06garbage")
    out = tmp_path / "out.neu"
    assert main(["fit", str(junk), "-o", str(out)]) == 2
    assert "not a MIDI file" in capsys.readouterr().err
    assert not out.exists()
    good = str(tmp_path / "t.mid")
    write_groove(good, *CLASSICS["tresillo"])
    for args, why in [
        (["--grid", "1/0"], "a grid is a note value"),
        (["--bars", "3:1"], "bars are"),
        (["--channel", "3"], "no notes on channel 3"),
        (["--track", "9"], "the file has tracks 1..1"),
    ]:
        assert main(["fit", good, "-o", str(out), *args]) == 2
        assert why in capsys.readouterr().err
    assert not out.exists()
    assert parse_grid("1/8t") == Fraction(1, 3)
    with pytest.raises(GrooveError, match="bars 2:2"):
        read_groove(good, bars=(2, 2))


@pytest.fixture(scope="module")
def hydrogen_patterns():
    pats = hydrogen.patterns()
    if not pats:
        msg = f"no Hydrogen demo songs in {hydrogen.SONGS} (apt-get install hydrogen-data)"
        if REQUIRE_JACK:  # CI installs them with jackd
            pytest.fail(msg)
        pytest.skip(msg)
    return pats


SAMPLE = 9  # every 9th of the 85 patterns: each song, the densest and the triplet ones


def test_real_drum_patterns_from_hydrogen_fit_exactly(tmp_path, hydrogen_patterns):
    sample = hydrogen_patterns[::SAMPLE]
    assert len(sample) >= 9
    for k, p in enumerate(sample):
        path = str(tmp_path / f"h{k}.mid")
        hydrogen.write_midi(p, path)
        result = fit_file(path)
        assert sum(len(v.onsets) for v in result.fit.groove.voices) == len(
            {(t, n) for t, n, _v in p.notes}
        ), p.label
        assert_exact(result)


def test_a_loop_played_for_several_bars_is_fitted_as_the_bar_it_repeats(tmp_path, capsys):
    beats, _bars, voices = CLASSICS["funk_16ths"]
    path = str(tmp_path / "loop.mid")
    write_groove(
        path, beats, 8, [(n, v, [o + 4 * k for k in range(8) for o in on]) for n, v, on in voices]
    )
    result = fit_file(path)
    assert result.fit.groove.bars == 1
    assert_exact(result)
    odd = str(tmp_path / "odd.mid")  # nine bars, the last one different: no shorter pattern
    more = [
        (n, v, [o + 4 * k for k in range(9) for o in on] + [33.5] * (n == 36))
        for n, v, on in voices
    ]
    write_groove(odd, beats, 9, more)
    assert main(["fit", odd, "-o", str(tmp_path / "o.neu")]) == 2
    assert "fit at most 8 bars at a time: --bars A:B" in capsys.readouterr().err
    assert read_groove(odd, bars=(1, 8)).bars == 1
