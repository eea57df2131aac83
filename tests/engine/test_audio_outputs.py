"""The audio output family without JACK: the hand-over, the frame map, a live WAV file,
and what the performer is told when an output cannot open."""

from __future__ import annotations

import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from engine.io.audio_base import FrameMap
from engine.io.audio_out import open_audio_out, prepare_audio
from engine.io.device_audio import list_devices
from engine.io.wav_audio import WavAudioOut
from engine.record.recording import read_jsonl
from engine.runtime.clock import Clock
from engine.runtime.options import EngineOptions
from livecode.language.sessionfile import load_session
from tests.engine.audio_rig import EngineRun, wait_for
from tests.engine.fakes import ClickSynth, HoldSynth, PulledAudioOut

ROOT = Path(__file__).resolve().parents[2]
SESSION = """
tempo(131)
a = neuron(60, rate=4, dur=0.05)
b = neuron(64, rate=3, phase=0.1, dur=0.05, vel=64)
c = neuron(67, rate=5, leak=0.7, phase=0.3, dur=0.05)
"""


def read_wav(path: Path) -> tuple[int, np.ndarray]:
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth()) == (2, 2)
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)
        return w.getframerate(), data


def test_messages_start_on_their_frame_within_a_block():
    out = PulledAudioOut(ClickSynth())
    out.send_at([0x90, 60, 127], 10 / 48000)  # frame 10
    out.send_at([0x90, 61, 127], 300 / 48000)  # frame 300: the second block
    first = out.pull(256)
    second = out.pull(256)
    assert list(np.flatnonzero(first[:, 0])) == [10]
    assert list(np.flatnonzero(second[:, 0])) == [300 - 256]
    assert out.late == 0


def test_a_message_after_its_block_is_played_at_once_and_counted_late():
    out = PulledAudioOut(ClickSynth())
    out.pull(256)
    out.send_at([0x90, 60, 127], 100 / 48000)  # its block has gone
    block = out.pull(256)
    assert list(np.flatnonzero(block[:, 0])) == [0] and out.late == 1


def test_send_now_plays_at_the_next_block_and_silences():
    out = PulledAudioOut(HoldSynth())
    out.send_at([0x90, 60, 100], 0.0)
    assert out.pull(64).all()
    out.send_now([0xB0, 123, 0])  # All Notes Off (a dead engine's notes)
    assert not out.pull(64).any()


class BrokenSynth(ClickSynth):
    def render(self, frames: int) -> np.ndarray:
        raise ValueError("broken voice")


def test_a_failing_synth_gives_silence_and_a_count_never_an_exception():
    out = PulledAudioOut(BrokenSynth())
    out.send_at([0x90, 60, 100], 0.0)
    assert not out.pull(128).any()
    assert out.errors == 1 and "broken voice" in out.last_error
    assert out.status()["errors"] == 1


def test_frame_map_anchors_then_follows_a_drifting_device_without_jumps():
    rate, block = 48000, 256
    fm = FrameMap(rate, lag=0.01)
    fm.place(0, 5.0)
    assert fm.frame_of(5.0 - 0.01) == 0  # the first frame sits lag behind the clock
    # A device whose sample clock runs 100 ppm fast: its blocks come early, more and more.
    moves = []
    for k in range(1, 20000):
        before = fm.base
        fm.place(k * block, 5.0 + k * block / rate / 1.0001)
        moves.append(abs(fm.base - before) * rate)
    assert max(moves) <= fm.slew + 1e-9  # never more than a twentieth of a frame a block
    # ... and it has caught up: the map stays within a frame of the device's clock.
    k = 20000
    assert abs(fm.frame_of(5.0 + k * block / rate / 1.0001 - 0.01) - k * block) <= 1
    assert fm.corrections == 0


def test_frame_map_jumps_after_a_stall():
    fm = FrameMap(48000, lag=0.01)
    fm.place(0, 1.0)
    fm.place(256, 2.0)  # a second without callbacks (an xrun, a suspend)
    assert fm.corrections == 1 and fm.frame_of(2.0 - 0.01) == 256


def test_wav_output_writes_every_note_on_its_exact_frame(tmp_path):
    path = tmp_path / "live.wav"
    out = WavAudioOut(ClickSynth, str(path))
    clock = Clock()
    out.attach(clock)
    times = [0.05 + i * 0.0371 for i in range(20)]
    for t in times:
        out.send_at([0x90, 60, 127], t)
    wait_for(lambda: clock.now() > times[-1] + 0.05, 5)
    out.close()
    rate, data = read_wav(path)
    assert rate == 48000
    assert list(np.flatnonzero(data[:, 0])) == [round(t * rate) for t in times]
    assert data[:, 0].max() == 32767  # full scale, not clipped beyond


def test_wav_append_carries_on_the_files_time(tmp_path):
    path = tmp_path / "live.wav"
    first = WavAudioOut(ClickSynth, str(path))
    clock = Clock()
    first.attach(clock)
    first.send_at([0x90, 60, 127], 0.01)
    wait_for(lambda: clock.now() > 0.1, 5)
    first.close()
    again = WavAudioOut(ClickSynth, str(path), append=True)  # a restarted engine
    again.attach(clock)  # the same epoch: logical time carries on
    at = clock.now() + 0.05
    again.send_at([0x90, 60, 127], at)
    wait_for(lambda: clock.now() > at + 0.05, 5)
    again.close()
    _, data = read_wav(path)
    assert list(np.flatnonzero(data[:, 0])) == [480, round(at * 48000)]


def test_live_wav_from_the_engine_contains_the_notes(tmp_path):
    path, events = tmp_path / "gig.wav", tmp_path / "events.jsonl"
    session = tmp_path / "s.neu"
    session.write_text(SESSION)
    run = EngineRun(
        EngineOptions(
            midi_api="none", osc_port=0, audio=f"wav:{path}", seconds=3.0, events=str(events)
        ),
        load_session(str(session))[1],
        ClickSynth,
    )
    run.start()
    try:
        run.process.join(30)
        assert run.process.exitcode == 0, run.notices()
    finally:
        run.stop()
    assert any(text.startswith("audio out: wav") for text in run.notices())
    rate, data = read_wav(path)
    notes = [e for e in read_jsonl(str(events)) if e["type"] == "note_on"]
    assert len(notes) > 30
    assert list(np.flatnonzero(data[:, 0])) == [round(e["t"] * rate) for e in notes]
    assert len(data) >= 3.0 * rate  # the whole performance, release tail included


def test_wav_file_is_never_overwritten(tmp_path):
    path = tmp_path / "old.wav"
    path.write_bytes(b"last night's gig")
    with pytest.raises(ValueError, match="already exists"):
        prepare_audio(f"wav:{path}")
    assert prepare_audio(f"wav:{tmp_path / 'new.wav'}") == f"wav:{tmp_path / 'new.wav'}"
    with pytest.raises(ValueError, match="--audio must be one of"):
        prepare_audio("speakers")


def test_no_jack_server_says_so_in_one_line(monkeypatch):
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "livecode-no-such-server")
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    choice = open_audio_out("jack", ClickSynth)
    assert choice.out is None and len(choice.lines) == 1
    level, text = choice.lines[0]
    assert level == "warning" and "no JACK server" in text and "MIDI only" in text


@pytest.mark.skipif(not isinstance(list_devices(), str) and bool(list_devices()), reason="a device")
def test_no_sound_device_says_so_in_one_line():
    choice = open_audio_out("device", ClickSynth)
    assert choice.out is None and len(choice.lines) == 1
    assert "MIDI only" in choice.lines[0][1] and "device" in choice.lines[0][1]


def livecode(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "livecode.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("audio", ["jack", "device"])
def test_play_exits_3_when_nothing_could_play(tmp_path, monkeypatch, audio):
    if audio == "device" and not isinstance(list_devices(), str) and list_devices():
        pytest.skip("this machine has a sound device")
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "livecode-no-such-server")
    events = tmp_path / "e.jsonl"
    result = livecode(
        "play",
        "demo",
        "--seconds",
        "1",
        "--midi-api",
        "none",
        "--audio",
        audio,
        "--osc-port",
        "0",
        "--events",
        str(events),
    )
    assert result.returncode == 3, result.stderr
    lines = result.stderr.splitlines()
    assert sum("no audio output" in line for line in lines) == 1, result.stderr
    assert any("nothing could play" in line for line in lines)
    assert "Traceback" not in result.stderr
    assert len(read_jsonl(str(events))) > 0  # the network ran all the same


def test_play_with_both_outputs_off_on_purpose_exits_0(tmp_path):
    result = livecode(
        "play", "demo", "--seconds", "0.5", "--midi-api", "none", "--audio", "none",
        "--osc-port", "0",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_play_refuses_an_existing_wav_before_starting(tmp_path):
    path = tmp_path / "old.wav"
    path.write_bytes(b"x" * 100)
    result = livecode("play", "demo", "--seconds", "1", "--audio", f"wav:{path}")
    assert result.returncode == 2 and "already exists" in result.stderr
    assert path.read_bytes() == b"x" * 100
