"""``livecode bench --synth``: a report with every figure it promises, for both synths."""

from __future__ import annotations

import json

from livecode.cli import main
from tests.sound import need_soundfont


def test_bench_synth_reports_block_costs_render_speed_and_memory(capsys):
    font = need_soundfont()
    assert main(["bench", "--synth", "--seconds", "1", "--json", "--soundfont", font]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["sound"] == "sound: TimGM6mb.sf2 (General MIDI, from --soundfont)"
    assert set(report["blocks"]) == {"TimGM6mb.sf2", "built-in voices"}
    for rows in report["blocks"].values():
        assert {(r["notes"], r["frames"]) for r in rows} == {
            (n, f) for n in (16, 64) for f in (64, 128, 256)
        }
        assert all(0 < r["us_p50"] <= r["us_p99"] for r in rows)
    assert set(report["render_demo"]) == {"TimGM6mb.sf2", "built-in voices"}
    assert all(d["x_real_time"] > 1 for d in report["render_demo"].values())
    assert report["memory_mb"]["soundfont"] > 1  # the font is loaded into memory
