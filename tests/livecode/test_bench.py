"""``livecode bench --json``: every key, finite non-negative numbers (not the goals)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEYS = {
    "lateness_ms",
    "patch_ms",
    "osc_ms",
    "engine_cpu_pct",
    "render_x_realtime",
    "first_note_s",
    "events",
    "jack",
    "process_us_per_firing",
    "audio",
    "first_sound_s",
    "clock",
    "jack_xruns",
}


def numbers(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from numbers(v)
    elif value is not None and not isinstance(value, str):  # the clock's domain is a name
        yield value


def run_bench(*extra: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "livecode.cli", "bench", "--seconds", "3", "--json", *extra],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def check_shape(report: dict) -> None:
    assert set(report) == KEYS
    assert set(report["lateness_ms"]) == {"p50", "p99", "max"}
    assert set(report["patch_ms"]) == {"p50", "p99"}
    assert set(report["process_us_per_firing"]) == {
        "plain",
        "markov",
        "learning",
        "walk",
        "choose",
        "jitter",
    }
    assert report["osc_ms"] is None or set(report["osc_ms"]) == {"p50", "p99", "max"}
    assert report["clock"]["ratio_min"] <= report["clock"]["ratio_max"]
    for value in numbers({k: v for k, v in report.items() if k != "audio"}):
        assert isinstance(value, (int, float)) and math.isfinite(value) and value >= 0, report
    # Three seconds of bench64 at 120 BPM is hundreds of messages.
    assert report["events"] > 300
    assert (
        report["lateness_ms"]["p50"] <= report["lateness_ms"]["p99"] <= report["lateness_ms"]["max"]
    )


def test_bench_json_without_midi():
    report = run_bench("--midi-api", "none")
    check_shape(report)
    assert report["jack"] is None and report["jack_xruns"] is None
    assert report["audio"] is None and report["first_sound_s"] is None  # --audio none
    assert report["osc_ms"] is not None  # the OSC load ran and its fires were timed
    assert report["clock"]["domain"] == "monotonic" and report["clock"]["ratio_last"] == 1.0


def test_bench_json_on_jack_fills_the_jack_key(jack_server):
    report = run_bench("--midi-api", "jack")
    check_shape(report)
    assert report["jack"]["period_frames"] == jack_server.period
    assert set(report["jack"]["error_ms"]) == {"p50", "p99", "max"}
    assert report["jack_xruns"] >= 0  # the engine's count of cycles the graph ran late
    # OSC is timed on JACK too, on the monotonic clock, and the clock mapping is reported
    assert report["osc_ms"] is not None
    assert report["clock"]["domain"] == "jack" and report["clock"]["ratio_last"] > 0


def test_bench_json_with_jack_audio_reports_the_output_and_the_first_sound(jack_server):
    report = run_bench("--midi-api", "jack", "--no-osc", "--audio", "jack")
    check_shape(report)
    audio = report["audio"]
    assert audio["audio"].startswith("jack:livecode-bench-audio")
    assert audio["xruns"] >= 0 and audio["late"] >= 0 and audio["cpu_pct"] > 0
    assert audio["errors"] == 0 and audio["peak"] > 0  # the synth played
    assert report["first_sound_s"] > 0  # `livecode play demo --audio jack` was heard
