"""Offline render: deterministic bytes, a MIDI file that reads back, times that match the log."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import mido
import pytest

from engine.record.eventlog import read_jsonl

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "sessions" / "demo.neu"


def render(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "livecode.cli", "render", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("render")
    paths = {}
    for name in ("a.mid", "b.mid", "a.jsonl", "b.jsonl"):
        result = render(str(DEMO), "--seconds", "30", "--seed", "7", "-o", str(out / name))
        assert result.returncode == 0, result.stderr
        paths[name] = out / name
    return paths


def test_same_input_same_bytes(rendered):
    assert rendered["a.mid"].read_bytes() == rendered["b.mid"].read_bytes()
    assert rendered["a.jsonl"].read_bytes() == rendered["b.jsonl"].read_bytes()


def test_seed_changes_the_prob_draws(rendered, tmp_path):
    other = tmp_path / "c.jsonl"
    assert render(str(DEMO), "--seconds", "30", "--seed", "8", "-o", str(other)).returncode == 0
    assert other.read_bytes() != rendered["a.jsonl"].read_bytes()  # the demo uses prob < 1


def midi_events(path: Path) -> list[tuple[float, str, int, int, int]]:
    """(seconds, type, channel 1..16, note, velocity) of every channel message.

    Tracks are per channel, so each channel's messages come out in the file's order.
    """
    mid = mido.MidiFile(str(path))
    assert mid.ticks_per_beat >= 960
    tempos = [m for m in mid.tracks[0] if m.type == "set_tempo"]
    assert tempos, "the file needs tempo meta events"
    out = []
    for track in mid.tracks[1:]:
        tick = 0
        for msg in track:
            tick += msg.time
            seconds = mido.tick2second(tick, mid.ticks_per_beat, tempos[0].tempo)
            if msg.type in ("note_on", "note_off"):
                out.append((seconds, msg.type, msg.channel + 1, msg.note, msg.velocity))
            elif msg.type == "program_change":  # the demo sets its channels' sounds
                out.append((seconds, msg.type, msg.channel + 1, msg.program, 0))
    return out


def test_midi_reads_back_and_matches_the_log(rendered):
    from_midi = midi_events(rendered["a.mid"])
    log = [
        (e["t"], e["type"], e["ch"], e["note"], e["vel"])
        for e in read_jsonl(str(rendered["a.jsonl"]))
    ]
    log.sort(key=lambda e: e[2])  # by channel, keeping the log's order within one
    assert len(from_midi) == len(log) > 100
    tick = 60 / 112 / 960  # the demo's tempo; one tick is the file's resolution
    for (t1, *rest1), (t2, *rest2) in zip(from_midi, log, strict=False):
        assert rest1 == rest2
        assert abs(t1 - t2) <= tick


def test_every_note_on_has_its_note_off(rendered):
    sounding: dict[tuple[int, int], int] = {}
    for _, kind, ch, note, _vel in midi_events(rendered["a.mid"]):
        key = (ch, note)
        if kind == "note_on":
            assert key not in sounding, f"{key} started again while sounding"
            sounding[key] = 1
        else:
            sounding.pop(key, None)
    assert sounding == {}


def test_tempo_option_overrides_the_session(tmp_path):
    out = tmp_path / "fast.jsonl"
    assert render(str(DEMO), "--seconds", "10", "--tempo", "224", "-o", str(out)).returncode == 0
    normal = tmp_path / "normal.jsonl"
    assert render(str(DEMO), "--seconds", "20", "-o", str(normal)).returncode == 0
    fast = [e for e in read_jsonl(str(out)) if e["type"] == "note_on"]
    slow = [e for e in read_jsonl(str(normal)) if e["type"] == "note_on"]
    # Twice the tempo: the same notes at half the time.
    n = len([e for e in slow if e["t"] < 19])
    for a, b in zip(fast[: n // 2], slow[: n // 2], strict=False):
        assert (a["neuron"], a["note"]) == (b["neuron"], b["note"])
        assert abs(a["t"] * 2 - b["t"]) < 1e-6


def test_errors_in_the_session_are_shown_with_position(tmp_path):
    bad = tmp_path / "bad.neu"
    bad.write_text("kick = neuron(60)\nsnare = neuron(62)\nkick >> snar @ 0.3\n")
    result = render(str(bad), "--seconds", "1", "-o", str(tmp_path / "x.mid"))
    assert result.returncode == 2
    assert "bad.neu:3:" in result.stderr and "did you mean" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.mid").exists()


def test_unknown_output_kind_is_refused(tmp_path):
    result = render(str(DEMO), "--seconds", "1", "-o", str(tmp_path / "x.ogg"))
    assert result.returncode == 2 and ".mid, .jsonl or .wav" in result.stderr
