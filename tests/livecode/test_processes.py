"""walk(), choose() and markov() in the language: the ops they make, the MIDI files markov()
reads, what save() writes and ls() shows, and the messages for bad input."""

from __future__ import annotations

import mido
import pytest

from engine import protocol as P
from livecode.language.errors import LivecodeError
from livecode.language.interpreter import Interpreter
from livecode.language.markov import melody, train
from livecode.language.session_text import session_text
from livecode.language.sessionfile import file_reader

TUNE = [60, 62, 64, 60, 60, 62, 64, 60, 64, 65, 67, 64, 65, 67]  # "Frère Jacques"


def midi_file(path, parts: list[tuple[int, list[int]]], chord_on: int | None = None) -> str:
    """A type-1 MIDI file: one track per (channel, notes), each note 1/2 beat long (and
    velocity 40 + its index); ``chord_on`` adds a lower note under that note's index."""
    mid = mido.MidiFile(ticks_per_beat=480)
    for ch, notes in parts:
        trk = mido.MidiTrack()
        mid.tracks.append(trk)
        for i, n in enumerate(notes):
            trk.append(mido.Message("note_on", channel=ch - 1, note=n, velocity=40 + i, time=0))
            if i == chord_on:
                trk.append(mido.Message("note_on", channel=ch - 1, note=n - 12, velocity=5))
                trk.append(mido.Message("note_off", channel=ch - 1, note=n - 12, time=240))
                trk.append(mido.Message("note_off", channel=ch - 1, note=n, time=0))
            else:
                trk.append(mido.Message("note_off", channel=ch - 1, note=n, time=240))
    mid.save(str(path))
    return str(path)


@pytest.fixture
def interp(tmp_path):
    midi_file(tmp_path / "tune.mid", [(1, TUNE), (10, [36, 38] * 20)], chord_on=3)
    return Interpreter(read_file=file_reader(str(tmp_path)))


def ops_of(interp, text: str) -> list:
    return interp.run(text).ops


def test_markov_of_a_file_trains_the_melody_for_the_parameter(interp):
    ops = ops_of(interp, 'lead = neuron(60)\nlead.note = markov("tune.mid")')
    (op,) = [o for o in ops if isinstance(o, P.Markov)]
    table, start = train(TUNE, 1)  # the drums (channel 10) and the chord's low note left out
    assert (op.table, op.start, op.call) == (table, start, "markov('tune.mid')")
    ops = ops_of(interp, 'lead.vel = markov("tune.mid", order=2)\nlead.dur = markov("tune.mid")')
    vel, dur = ops
    assert vel.order == 2 and {v for _, row in vel.table for v, _ in row} == {
        40 + i for i in range(len(TUNE))
    }
    assert dur.table == (((0.5,), ((0.5, len(TUNE)),)),)


def test_markov_reads_a_chosen_channel_or_track(tmp_path):
    data = open(midi_file(tmp_path / "t.mid", [(1, TUNE), (10, [36, 38, 42])]), "rb").read()
    assert melody(data).notes == tuple(TUNE)
    assert melody(data, ch=10).notes == (36, 38, 42)
    with pytest.raises(ValueError, match="no notes"):
        melody(data, track=1)  # the drum track, drums skipped by default
    assert melody(data, track=1, ch=10).durs == (0.5, 0.5, 0.5)


def test_markov_of_a_list_and_of_an_input_neuron(interp):
    ops = ops_of(interp, 'a = neuron(60)\na.note = markov(["C4", 62, 64, 62], order=2)')
    op = ops[-1]
    assert op.start == (60, 62) and op.call == "markov(['C4', 62, 64, 62], order=2)"
    ops = ops_of(interp, "keys = listen(ch=1)\na.note = markov(keys, memory=64)")
    assert ops[-1] == P.Markov("a", "note", 1, (), (), "keys", 64, "markov(keys, memory=64)")


def test_walk_and_choose_make_their_ops(interp):
    ops = ops_of(
        interp,
        'a = neuron(60)\na.rate = walk(1, 4, step=0.1)\na.note = choose(["C4", "E4"], [3, 1])',
    )
    assert ops[1] == P.Walk("a", "rate", 1.0, 4.0, 0.1, None, "walk(1, 4, step=0.1)")
    assert ops[2] == P.Choose("a", "note", (60, 64), (3.0, 1.0), "choose(['C4', 'E4'], [3, 1])")
    assert ops_of(interp, "a.vel = walk(40, 120)")[0].step == 5.0  # (hi - lo) / 16


def test_save_writes_the_calls_and_loading_them_gives_the_same_network(interp, tmp_path):
    interp.run(
        "keys = listen(ch=1)\nlead = neuron(60, rate=4, jitter=0.05)\n"
        'lead.note = markov("tune.mid", order=2)\nlead.vel = choose([60, 90], [1, 3])\n'
        "lead.rate = walk(1, 4, step=0.25)\necho = neuron(48)\necho.note = markov(keys)"
    )
    text = session_text(interp.mirror)
    assert "lead.note = markov('tune.mid', order=2)" in text
    assert "echo.note = markov(keys)" in text and "jitter=0.05" in text
    again = Interpreter(read_file=file_reader(str(tmp_path)))
    again.run(text)
    assert again.mirror == interp.mirror


def test_ls_shows_the_processes_and_what_the_engine_learned(tmp_path):
    drawn = {"echo.note": "learned 5 transitions over 3 values"}
    interp = Interpreter(read_file=file_reader(str(tmp_path)), drawn=lambda: drawn)
    interp.run("keys = listen(ch=1)\necho = neuron(48)\necho.note = markov(keys)")
    (text,) = interp.run("ls()").output
    assert "[note = markov(keys): learned 5 transitions over 3 values]" in text


def test_setting_the_parameter_again_ends_the_process(interp):
    interp.run("a = neuron(60)\na.note = choose([60, 64])")
    assert ("a", "note") in interp.mirror.sources
    interp.run("a.note = 62")
    assert interp.mirror.sources == {}


@pytest.mark.parametrize(
    "text, message, column",
    [
        ("a.thr = walk(1, 2)", "walk() draws note, vel, dur, prob, rate, not .thr", 3),
        ("a.vel = walk(0, 300)", "vel must be in range 1..127", 3),
        ('a.note = markov("nofile.mid")', "cannot read nofile.mid: no such file", 17),
        ('a.note = markov("bad.mid")', "bad.mid: not a readable MIDI file", 17),
        ("a.note = markov(b)", "does not listen to MIDI", 17),
        ("a.note = markov([])", "at least one value", 17),
        ('a.note = markov("tune.mid", order=7)', "order must be in range 1..4", 29),
        ('a.note = markov("tune.mid", track=5)', "the file has tracks 0..1", 17),
        ('a.rate = markov("tune.mid")', "draws .note, .vel or .dur", 3),
        ("a.vel = choose([1, 2], [1])", "one weight per value", 3),
        ("a.vel = choose(5)", "non-empty list", 16),
    ],
)
def test_bad_calls_are_refused_with_the_place_and_change_nothing(
    interp, tmp_path, text, message, column
):
    (tmp_path / "bad.mid").write_bytes(b"MThd garbage \x00\xff" * 10)
    interp.run("a = neuron(60)\nb = neuron(62)")
    before = interp.mirror.copy()
    with pytest.raises(LivecodeError) as err:
        interp.run(text)
    assert message in str(err.value)
    assert err.value.col == column
    assert str(err.value).count("cannot read") <= 1
    assert interp.mirror == before
