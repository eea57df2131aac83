"""``livecode render -o OUT.wav``: byte-identical, every note on its frame, loud enough and
never clipped, programs heard; with no SoundFont the built-in voices and a line saying
what to do."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from livecode.cli import main
from tests.sound import centroid, need_soundfont, onsets, read_wav

# A percussive test sound (side stick, note 37, on the drum channel) at times that fall
# between frames: one neuron whose period is no whole number of frames.
CLICKS = """
tempo(131)
program(10, "Standard")
click = neuron(37, rate=1.37, dur=0.05, ch=10, vel=110)
"""


def _render(tmp_path, session_text: str, out: str, *extra: str, seconds: float = 20) -> str:
    session = tmp_path / "s.neu"
    session.write_text(session_text)
    path = str(tmp_path / out)
    assert main(["render", str(session), "--seconds", str(seconds), "-o", path, *extra]) == 0
    return path


def _note_frames(tmp_path, session_text: str, rate: int, seconds: float = 20) -> list[int]:
    path = _render(tmp_path, session_text, "notes.jsonl", seconds=seconds)
    with open(path) as f:
        events = [json.loads(line) for line in f]
    # computed here, not with the renderer's own conversion, so a wrong one shows
    return [round(e["t"] * rate) for e in events if e["type"] == "note_on"]


@pytest.mark.parametrize("font", ["builtin", "soundfont"])
def test_the_same_session_and_seed_give_the_same_bytes(tmp_path, font):
    sf = "none" if font == "builtin" else need_soundfont()
    a = _render(tmp_path, CLICKS, "a.wav", "--soundfont", sf, "--seed", "3")
    b = _render(tmp_path, CLICKS, "b.wav", "--soundfont", sf, "--seed", "3")
    with open(a, "rb") as fa, open(b, "rb") as fb:
        assert fa.read() == fb.read()


def test_onsets_fall_on_the_frames_of_the_note_times(tmp_path):
    """Built-in click: it starts at its peak, so each onset is exactly the note's frame."""
    path = _render(tmp_path, CLICKS, "clicks.wav", "--soundfont", "none")
    samples, rate = read_wav(path)
    want = _note_frames(tmp_path, CLICKS, rate)
    got = onsets(samples, threshold=0.01, quiet=rate // 20)
    assert len(want) > 40
    assert len(got) == len(want)
    assert max(abs(g - w) for g, w in zip(got, want, strict=True)) <= 1


def test_soundfont_onsets_keep_the_note_intervals_to_one_frame(tmp_path):
    """The SoundFont's side stick may start a few frames into its sample; every hit the
    same few: the intervals between onsets are the notes' intervals, to one frame."""
    path = _render(tmp_path, CLICKS, "sf.wav", "--soundfont", need_soundfont())
    samples, rate = read_wav(path)
    want = _note_frames(tmp_path, CLICKS, rate)
    got = onsets(samples, threshold=0.002, quiet=rate // 20)
    assert len(got) == len(want) > 40
    offsets = [g - w for g, w in zip(got, want, strict=True)]
    assert 0 <= offsets[0] < rate // 100  # within 10 ms: the sample's own start
    assert max(offsets) - min(offsets) <= 1


def test_the_demo_is_loud_enough_and_never_clipped(tmp_path):
    for sf in ("none", need_soundfont()):
        out = str(tmp_path / "demo.wav")
        assert main(["render", "demo", "--seconds", "20", "-o", out, "--soundfont", sf]) == 0
        samples, rate = read_wav(out)
        assert rate == 48000 and samples.shape == (20 * 48000, 2)
        rms = float(np.sqrt(np.mean(samples**2)))
        assert rms > 0.02, f"{sf}: RMS {rms:.4f}"
        assert np.abs(samples).max() < 32767 / 32767  # no sample at full scale


BASS = """
tempo(120)
{program}
b = neuron("C2", rate=2, dur=0.4, ch=2, vel=100)
"""


@pytest.mark.parametrize("font", ["builtin", "soundfont"])
def test_a_bass_program_changes_the_spectrum_and_survives_save(tmp_path, font):
    sf = "none" if font == "builtin" else need_soundfont()
    plain = _render(tmp_path, BASS.format(program=""), "plain.wav", "--soundfont", sf, seconds=6)
    bass = _render(
        tmp_path,
        BASS.format(program='program(2, "Fingered Bass")'),
        "bass.wav",
        "--soundfont",
        sf,
        seconds=6,
    )
    c_plain, c_bass = (centroid(*read_wav(p)) for p in (plain, bass))
    assert c_bass < 0.85 * c_plain, (c_plain, c_bass)  # the bass is darker than piano/lead

    # save() writes the program; the saved session renders the same bytes
    from livecode.language.interpreter import Interpreter
    from livecode.language.session_text import session_text

    it = Interpreter()
    it.run(BASS.format(program='program(2, "Fingered Bass")'))
    saved = _render(tmp_path, session_text(it.mirror), "saved.wav", "--soundfont", sf, seconds=6)
    with open(saved, "rb") as fa, open(bass, "rb") as fb:
        assert fa.read() == fb.read()


def test_with_no_soundfont_the_builtin_voices_play_and_say_what_to_do(tmp_path):
    empty = tmp_path / "no-fonts"
    empty.mkdir()
    out = tmp_path / "bare.wav"
    env = {**os.environ, "LIVECODE_SOUNDFONT_DIRS": str(empty), "PYTHONPATH": os.getcwd()}
    env.pop("LIVECODE_SOUNDFONT", None)
    proc = subprocess.run(
        [sys.executable, "-m", "livecode.cli", "render", "demo", "--seconds", "8", "-o", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "sound: built-in voices (no SoundFont found" in proc.stderr
    assert "apt install timgm6mb-soundfont" in proc.stderr
    samples, _ = read_wav(out)
    assert float(np.sqrt(np.mean(samples**2))) > 0.02


@pytest.mark.parametrize("font", ["builtin", "soundfont"])
def test_pan_and_volume_are_heard(tmp_path, font):
    sf = "none" if font == "builtin" else need_soundfont()
    renders = {}
    for name, mix in (("centre", ""), ("left", "pan(2, -1)"), ("soft", "volume(2, 40)")):
        path = _render(
            tmp_path, BASS.format(program=mix), f"{name}.wav", "--soundfont", sf, seconds=4
        )
        samples, _ = read_wav(path)
        renders[name] = np.sqrt(np.mean(samples**2, axis=0))  # RMS of left, right
    centre, left, soft = renders["centre"], renders["left"], renders["soft"]
    assert abs(centre[0] - centre[1]) < 0.2 * centre[0]
    assert left[1] < 0.1 * left[0]
    assert soft.sum() < 0.5 * centre.sum()
