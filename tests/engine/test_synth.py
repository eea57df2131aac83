"""The synths (SoundFont, built-in voices), finding a SoundFont, and the program change on
the MIDI output."""

from __future__ import annotations

import multiprocessing as mp

import numpy as np
import pytest

from engine import protocol as P
from engine.audio.factory import open_synth
from engine.audio.fonts import find_soundfont
from engine.audio.voices import BuiltinVoices
from engine.model.network import Network
from engine.runtime.clock import Clock
from engine.runtime.loop import Engine
from tests.engine.fakes import RecordingOut
from tests.sound import need_soundfont

RATE = 48000


@pytest.fixture(params=["builtin", "soundfont"])
def synth(request):
    s = BuiltinVoices(RATE) if request.param == "builtin" else open_synth(need_soundfont())[0]
    yield s
    s.close()


def _loud(block: np.ndarray) -> float:
    return float(np.abs(block).max())


# --- the contract: messages at exact frames ------------------------------------------------


def test_a_message_at_frame_k_sounds_exactly_k_frames_in(synth):
    k = 77
    block = synth.render_timed(256, [(k, [0x99, 37, 120])])
    assert _loud(block[:k]) == 0.0
    assert np.flatnonzero(np.abs(block).max(axis=1) > 0)[0] in (k, k + 1)  # sample's own start


def test_the_drum_channel_plays_a_kit_and_programs_change_the_sound(synth):
    drum = synth.render_timed(4800, [(0, [0x99, 38, 110])])  # snare on channel 10
    assert _loud(drum) > 0.05
    synth.message([0xB9, 120, 0])  # all sound off: a fast fade, no click
    synth.render(RATE // 20)
    assert _loud(synth.render(4800)) < 1e-3
    piano = synth.render_timed(9600, [(0, [0x91, 40, 110]), (4800, [0x81, 40, 0])])
    synth.message([0xB1, 120, 0])
    synth.render(4800)
    bass = synth.render_timed(
        9600, [(0, [0xC1, 33]), (0, [0x91, 40, 110]), (4800, [0x81, 40, 0])]
    )  # program 34 (data byte 33): fingered bass
    assert not np.array_equal(piano, bass)


def test_all_notes_off_and_all_sound_off_leave_no_sound_hanging(synth):
    synth.message([0x90, 60, 120])
    synth.message([0x92, 64, 120])
    assert _loud(synth.render(2400)) > 0.01
    synth.message([0xB0, 123, 0])
    synth.message([0xB2, 123, 0])
    synth.render(RATE // 2)  # within half a second: the release has faded
    assert _loud(synth.render(1024)) < 1e-3
    synth.message([0x90, 60, 120])
    synth.render(2400)
    synth.message([0xB0, 120, 0])
    synth.render(RATE // 20)  # all sound off fades within 50 ms
    assert _loud(synth.render(1024)) < 1e-3


def test_builtin_note_off_fades_without_a_click():
    synth = BuiltinVoices(RATE)
    block = synth.render_timed(9600, [(0, [0x92, 45, 127]), (4800, [0x82, 45, 0])])
    mono = block[:, 0]
    steps = np.abs(np.diff(mono[4700:6000]))
    assert steps.max() < 4 * np.abs(np.diff(mono[4000:4700])).max()  # no jump at note-off
    assert _loud(block[-1000:]) < 1e-3


def test_garbage_messages_change_nothing():
    for synth in (BuiltinVoices(RATE),):
        for data in ([], [0x90], [0xF8], [0xC0], [0xB0, 7], [0x90, 200, 300]):
            synth.message(data)
        assert synth.render(64).shape == (64, 2)


# --- finding a SoundFont -------------------------------------------------------------------


def _font(path) -> str:
    path.write_bytes(b"RIFF")
    return str(path)


def test_the_search_order_option_then_variable_then_places_then_pip(tmp_path):
    a, b, c = (tmp_path / d for d in "abc")
    for d in (a, b, c):
        d.mkdir()
    opt, var = _font(a / "mine.sf2"), _font(b / "env.sf2")
    _font(c / "zz.sf2")
    gm = _font(c / "FluidR3_GM.sf2")  # a known GM name wins over others in a directory
    env = {"LIVECODE_SOUNDFONT": var}
    places = [str(tmp_path / "missing"), str(c)]
    assert str(find_soundfont(opt, env, places).path) == opt
    assert str(find_soundfont(None, env, places).path) == var
    assert str(find_soundfont(None, {}, places).path) == gm
    assert find_soundfont("none", env, places).path is None  # the built-in voices, asked for
    missing = find_soundfont(str(a / "typo.sf2"), {}, places)
    assert str(missing.path) == gm and "typo.sf2: no such file" in missing.problem
    # a pip package's font, when no place has one (any importable package stands in)
    pkg = tmp_path / "fontpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    shipped = _font(pkg / "TimGM6mb.sf2")
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        found = find_soundfont(None, {}, [str(a / "none")], [("fontpkg", "TimGM6mb.sf2")])
    finally:
        sys.path.remove(str(tmp_path))
    assert str(found.path) == shipped and found.why == "pip package fontpkg"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert find_soundfont(None, {"LIVECODE_SOUNDFONT_DIRS": str(empty)}, places).path is None


def test_open_synth_says_what_plays(tmp_path, monkeypatch):
    monkeypatch.setenv("LIVECODE_SOUNDFONT_DIRS", str(tmp_path))
    monkeypatch.delenv("LIVECODE_SOUNDFONT", raising=False)
    synth, line = open_synth()
    assert isinstance(synth, BuiltinVoices)
    assert line == (
        "sound: built-in voices (no SoundFont found: "
        "apt install timgm6mb-soundfont, or --soundfont FILE)"
    )
    broken = tmp_path / "broken.sf2"
    broken.write_bytes(b"not a soundfont")
    synth, line = open_synth(str(broken))
    assert isinstance(synth, BuiltinVoices) and "broken.sf2" in line
    synth, line = open_synth(need_soundfont())
    assert line == "sound: TimGM6mb.sf2 (General MIDI, from --soundfont)"
    assert synth.rate == RATE and synth.render(128).dtype == np.float32


# --- the program change on the MIDI output -------------------------------------------------


def test_program_goes_out_on_the_midi_port_before_the_notes():
    out = RecordingOut()
    sent: list[list[int]] = []
    out.send_at = lambda data, t: sent.append(list(data))  # type: ignore[method-assign]
    _, child = mp.Pipe()
    engine = Engine(child, out, Network(), Clock())
    ack = engine.apply(
        P.Batch(
            (
                P.DefineNeuron("b", {"note": 36, "ch": 2, "phase": 1.0}),
                P.Program(2, "Fingered Bass"),
                P.Program(10, "TR 808"),
            )
        ),
        0.0,
    )
    assert ack.ok
    assert sent[:3] == [[0xC1, 33], [0xC9, 25], [0x91, 36, 100]]
    refused = engine.apply(P.Batch((P.Program(2, "Fingerd Bass"),)), 0.0)
    assert not refused.ok and "did you mean 'Fingered Bass'" in refused.error
    assert engine.net.state.programs == {2: 34, 10: 26}
