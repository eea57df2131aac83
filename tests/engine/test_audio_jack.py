"""Live audio on a real JACK server (dummy driver): onsets on the model's frames, silence
after stop, panic and SIGKILL, and what happens with no server."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from engine.protocol import Batch
from engine.record.recording import read_jsonl
from engine.runtime.options import EngineOptions
from livecode.language.sessionfile import load_session
from tests.engine.audio_rig import AudioRecorder, EngineRun, wait_for
from tests.engine.fakes import ClickSynth, HoldSynth

pytestmark = pytest.mark.jack

# Three voices that never fire on the same frame, one of them leaky (its times are not
# on any grid), all short notes.
ONSET_SESSION = """
tempo(137)
a = neuron(60, rate=4, dur=0.05)
b = neuron(64, rate=3, phase=0.1, dur=0.05)
c = neuron(67, rate=5, leak=0.7, phase=0.3, dur=0.05)
"""
# Two long notes at once, then nothing for 20 beats: a panic (which leaves the network
# running) is then followed by silence too.
HOLD_SESSION = """
pad = neuron(48, rate=0.05, phase=0.99, dur=64)
lead = neuron(72, rate=0.05, phase=0.98, dur=64, ch=2)
"""


def session(tmp_path, text: str) -> Batch:
    path = tmp_path / "s.neu"
    path.write_text(text)
    return load_session(str(path))[1]


@pytest.fixture
def recorder(rt_audio_jack_server):
    rec = AudioRecorder()
    try:
        yield rec
    finally:
        rec.close()


def run_engine(tmp_path, text: str, synth, **options) -> EngineRun:
    options.setdefault("midi_api", "none")
    run = EngineRun(
        EngineOptions(osc_port=0, audio="jack", **options),
        session(tmp_path, text),
        synth,
    )
    run.start()
    return run


def audio_up(run: EngineRun) -> bool:
    status = run.last_status()
    return bool(status and status.get("audio"))


@pytest.mark.parametrize("midi_api", ["none", "jack"])
def test_onsets_fall_on_the_models_frames(rt_audio_jack_server, recorder, tmp_path, midi_api):
    events = tmp_path / "events.jsonl"
    run = run_engine(
        tmp_path, ONSET_SESSION, ClickSynth, seconds=8.0, events=str(events), midi_api=midi_api
    )
    try:
        assert wait_for(lambda: audio_up(run), 15), run.notices()
        recorder.connect_from("livecode-audio")
        run.process.join(30)
        assert run.process.exitcode == 0, run.notices()
    finally:
        run.stop()
    first, audio = recorder.frames()
    _, mask = recorder.recorded()
    got = np.flatnonzero(audio[:, 0] > 0) + first
    notes = [e for e in read_jsonl(str(events)) if e["type"] == "note_on"]
    frame0 = run.last_status()["audio"]["frame0"]
    expected = np.array([frame0 + round(e["t"] * recorder.rate) for e in notes])
    # From the first onset on (the recorder was connected after the first notes), and only
    # where the recorder ran: a cycle it missed says nothing of the engine.
    expected = expected[(expected >= got[0]) & (expected < first + len(mask))]
    heard = expected[mask[expected - first]]
    # And not next to an xrun the server reported (a lost cycle is the loaded machine's;
    # ``livecode bench`` counts xruns): at most a few notes.
    heard = heard[~recorder.near_xrun(heard)]
    assert len(heard) > 100 and len(heard) >= 0.95 * len(expected), (len(heard), len(expected))
    # Each note on its frame: the nearest onset to each expected frame, and its interval
    # from the note before.
    nearest = got[np.clip(np.searchsorted(got, heard), 0, len(got) - 1)]
    before = got[np.clip(np.searchsorted(got, heard) - 1, 0, len(got) - 1)]
    nearest = np.where(np.abs(before - heard) < np.abs(nearest - heard), before, nearest)
    errors = np.abs(nearest - heard)
    assert np.mean(errors <= 1) >= 0.99, np.sort(errors)[-10:]
    interval_errors = np.abs(np.diff(nearest) - np.diff(heard))
    assert np.mean(interval_errors <= 1) >= 0.99
    # None beyond one period: every onset recorded is within a period of a note's frame.
    ends = np.searchsorted(expected, got)
    distance = np.minimum(
        np.abs(got - expected[np.clip(ends, 0, len(expected) - 1)]),
        np.abs(got - expected[np.clip(ends - 1, 0, len(expected) - 1)]),
    )
    # Beyond that, only what the loaded machine explains: a cycle lost at an xrun, or a
    # message the engine handed over after its cycle (counted late; at most 1 % of notes).
    far = (distance > recorder.period) & (got <= expected[-1]) & ~recorder.near_xrun(got)
    late = run.last_status()["audio"]["late"]
    assert far.sum() <= late <= 0.01 * len(expected), (far.sum(), late, distance.max())


def silent_after(recorder: AudioRecorder, frame: int, within: float) -> bool:
    """True if the recording is all zeros from ``within`` seconds after ``frame`` on, and
    at least a period of it has been recorded."""
    first, audio = recorder.frames()
    start = frame + round(within * recorder.rate) - first
    tail = audio[max(start, 0) :]
    return len(tail) >= recorder.period and not np.any(tail)


def sounding(recorder: AudioRecorder) -> bool:
    _, audio = recorder.frames()
    return bool(np.any(audio[-recorder.period :]))


@pytest.mark.parametrize("how", ["stop", "panic", "quit", "sigkill"])
def test_silent_within_half_a_second(rt_audio_jack_server, recorder, tmp_path, how):
    from engine.protocol import Panic, Stop

    run = run_engine(tmp_path, HOLD_SESSION, HoldSynth)
    try:
        assert wait_for(lambda: audio_up(run), 15), run.notices()
        recorder.connect_from("livecode-audio")
        assert wait_for(lambda: len((run.last_status() or {}).get("sounding", ())) == 2, 10)
        assert wait_for(lambda: sounding(recorder), 10)  # both notes held from here
        at = recorder.now_frame()
        if how == "stop":
            run.send(Batch((Stop(),)))
        elif how == "panic":
            run.send(Batch((Panic(),)))
        elif how == "quit":
            run.send("quit")
        else:
            os.kill(run.process.pid, signal.SIGKILL)
        assert wait_for(lambda: silent_after(recorder, at, 0.5), 10)
        if how in ("stop", "panic"):
            assert run.process.is_alive()
    finally:
        run.stop()


def test_a_restarted_engine_brings_the_sound_back(rt_audio_jack_server, recorder, tmp_path):
    from engine.runtime.process import EngineHandle

    handle = EngineHandle(
        EngineOptions(midi_api="none", osc_port=0, audio="jack", status_interval=0.05),
        initial=session(tmp_path, "a = neuron(48, rate=4, dur=0.2)\n"),
    )
    handle.start()
    try:
        status = lambda: handle.last_status or {}  # noqa: E731
        assert wait_for(lambda: bool(status().get("audio")), 15)
        recorder.connect_from("livecode-audio")
        assert wait_for(lambda: sounding(recorder), 10)

        def known() -> bool:  # the supervisor has seen where the sound goes
            audio = status().get("audio") or {}
            return f"left>{recorder.ports[0].name}" in audio.get("connections", ())

        assert wait_for(known, 10)
        first_pid = handle.pid
        os.kill(first_pid, signal.SIGKILL)
        # (that the sound dies with a killed engine is test_silent_within_half_a_second's:
        # here the spare engine takes over within a few tenths and plays on at once)
        assert wait_for(lambda: handle.pid not in (None, first_pid), 10)
        # The new engine's audio is connected where the dead one's was: no patchbay needed.
        assert wait_for(lambda: sounding(recorder), 15)
    finally:
        handle.stop()


def test_no_sound_device_one_line_and_midi_keeps_playing(midi_receiver):
    import subprocess
    import sys

    from engine.io.device_audio import list_devices

    if not isinstance(list_devices(), str) and list_devices():
        pytest.skip("this machine has a sound device")
    result = subprocess.run(
        [sys.executable, "-m", "livecode.cli", "play", "demo", "--seconds", "2"]
        + ["--midi-api", "jack", "--port", "lcrecv", "--audio", "device", "--osc-port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr  # MIDI could play
    lines = [line for line in result.stderr.splitlines() if "no audio output" in line]
    assert len(lines) == 1 and "device" in lines[0] and "MIDI only" in lines[0]
    assert "Traceback" not in result.stderr
    assert wait_for(lambda: len(midi_receiver.received()) > 10, 5)
