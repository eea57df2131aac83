"""Programs in recordings: recorded and replayed as program changes, and heard in the
.wav that ``replay -o`` and ``export -o`` write."""

from __future__ import annotations

import json
import time

import numpy as np

from engine.model.network import Network
from engine.protocol import Ack, Batch, DefineNeuron, Program
from engine.record.recorder import Recorder
from livecode.cli import main
from tests.sound import centroid, read_wav


def _record(path: str, before: tuple, during: tuple, end: float = 6.0) -> None:
    """Ops applied before the recording starts (in its snapshot), then a block at 0.5 s."""
    net = Network(seed=1)
    net.apply(Batch(before), 0.0)
    epoch = time.perf_counter()
    now = [0.0]
    rec = Recorder(path, net.snapshot(), 0.0, epoch, lambda: now[0])
    now[0] = 0.5
    rec.tap(net.advance(0.5))
    batch = Batch(during, "repl", "program(...)")
    rec.tap(net.apply(batch, 0.5))
    rec.watch(batch, Ack(0, True, 0.5, "", epoch + 0.5))
    for events in (net.advance(end), net.release_all()):
        rec.tap(events)
    rec.close(end, "stop")


BASS = DefineNeuron("b", {"note": 36, "rate": 2.0, "dur": 0.4, "ch": 2})


def test_program_changes_are_recorded_replayed_and_exported(tmp_path):
    path = str(tmp_path / "gig.sqlite")
    _record(path, (BASS,), (Program(2, "Synth Bass 1"),))
    for command in ("replay", "export"):
        out = tmp_path / f"{command}.jsonl"
        assert main([command, path, "-o", str(out)]) == 0
        changes = [
            e for e in map(json.loads, out.read_text().splitlines()) if e["type"] != "note_on"
        ]
        assert {"type": "program_change", "ch": 2, "note": 38} in [
            {k: e[k] for k in ("type", "ch", "note")} for e in changes
        ]


def test_replay_and_export_to_wav_play_the_programs(tmp_path):
    """The program set before recording began (in the snapshot) is heard too."""
    plain, bass = str(tmp_path / "plain.sqlite"), str(tmp_path / "bass.sqlite")
    _record(plain, (BASS,), ())
    _record(bass, (Program(2, "Fingered Bass"), BASS), ())
    for command in ("replay", "export"):
        outs = []
        for rec in (plain, bass):
            out = str(tmp_path / f"{command}-{rec.rsplit('/', 1)[1]}.wav")
            assert main([command, rec, "-o", out, "--soundfont", "none", "--rate", "44100"]) == 0
            outs.append(read_wav(out))
        (a, rate), (b, _) = outs
        assert rate == 44100 and len(a) == len(b) >= 6 * rate  # the recording, and a tail
        assert float(np.sqrt(np.mean(b**2))) > 0.01
        assert centroid(b, rate) < 0.85 * centroid(a, rate)
