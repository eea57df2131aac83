"""MIDI output ports: the factory, the silent fallback, and a real JACK port."""

from __future__ import annotations

import time

import mido

from engine.io.midi_out import NullOut, RtMidiOut, list_ports, open_midi_out
from tests.engine.fakes import RecordingOut


def test_none_api_is_silent_and_says_so():
    out, line = open_midi_out("none")
    assert isinstance(out, NullOut)
    assert "--midi-api none" in line


def test_no_midi_system_gives_one_line_with_what_to_do(monkeypatch):
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "no-such-server-here")
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    out, line = open_midi_out("jack")
    assert isinstance(out, NullOut)
    assert "\n" not in line and "silent" in line and "jackd" in line
    assert "start livecode again" in line  # a server started later is not picked up


def test_recording_out_keeps_messages():
    out = RecordingOut()
    out.send(mido.Message("note_on", note=60))
    out.close()
    assert [m.note for _, m in out.messages] == [60] and out.closed


def test_jack_with_latency_zero_is_rtmidi_sending_at_once(midi_receiver):
    out, line = open_midi_out("jack", virtual="lcsend", port="lcrecv", latency=0)
    assert isinstance(out, RtMidiOut), line
    out.send(mido.Message("note_on", channel=9, note=36, velocity=100))
    out.send(mido.Message("note_off", channel=9, note=36, velocity=0))
    out.close()
    deadline = time.monotonic() + 2
    while len(midi_receiver.received()) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [d for _, d in midi_receiver.received()] == [
        bytes([0x99, 36, 100]),
        bytes([0x89, 36, 0]),
    ]


def test_jack_defaults_to_the_sample_accurate_port(midi_receiver):
    from engine.io.jack_out import JackOut

    out, line = open_midi_out("jack", virtual="lcsend", port="lcrecv")
    try:
        assert isinstance(out, JackOut) and "sample-accurate" in line
        assert out.latency == 2 * midi_receiver.period / midi_receiver.rate
        assert out.name == "lcrecv:in"
    finally:
        out.close()


def test_ports_lists_the_receiver(midi_receiver):
    found = list_ports()
    assert "lcrecv:in" in " ".join(found["jack"]["outputs"])


def test_a_port_that_is_not_there_is_named_with_the_ports_there_are(midi_receiver):
    for latency in (None, 0):  # the sample-accurate port and rtmidi's JACK backend
        out, line = open_midi_out("jack", virtual="lcsend", port="fluidsynth", latency=latency)
        assert isinstance(out, NullOut) and out.missing_port == "fluidsynth"
        assert "no port matches 'fluidsynth'" in line and "lcrecv:in" in line, line
        assert "no MIDI system" not in line and "\n" not in line


def test_play_with_a_port_that_is_not_there_says_so_and_fails(midi_receiver, tmp_path):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "livecode.cli", "play", "demo", "--midi-api", "jack"]
        + ["--port", "fluidsynth", "--osc-port", "0", "--seconds", "60"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert "no port matches 'fluidsynth'" in done.stderr and "lcrecv:in" in done.stderr
    assert "no MIDI system" not in done.stderr
