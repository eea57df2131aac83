"""``livecode bench --synth``: what the General MIDI synths cost on this machine.

For the SoundFont synth (when one is found) and the built-in voices: CPU time per block of
64, 128 and 256 frames with 16 and 64 notes held (median and p99, and as a share of the
block's own duration, i.e. of one core in real time); the offline WAV render speed of the
demo; memory with the SoundFont loaded. Figures, never pass/fail.
"""

from __future__ import annotations

import os
import tempfile
import time

from engine.render import AUDIO_RATE, BuiltinVoices, open_synth, render_audio
from livecode.language.sessionfile import load_session
from livecode.shipped import resolve_session

__all__ = ["synth_report", "format_synth_report"]

BLOCKS = (64, 128, 256)
NOTES = (16, 64)
SUSTAINED = 49  # GM "String Ensemble 1": looped samples, the notes sound as long as held


def _rss_mb() -> float | None:
    """This process's resident memory (MB), from /proc (Linux); None elsewhere."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _hold(synth, notes: int) -> None:  # type: ignore[no-untyped-def]
    """``notes`` notes held on 8 channels (drums among them), as a busy network would."""
    for ch in range(8):
        if ch != 9:
            synth.message([0xC0 | ch, SUSTAINED])
    for i in range(notes):
        ch = i % 8
        synth.message([0x90 | ch, 36 + (i * 7) % 60, 100])


def _block_costs(make, frames: int, notes: int, seconds: float) -> dict:  # type: ignore[no-untyped-def]
    synth = make()
    _hold(synth, notes)
    synth.render(frames)  # warm
    n = max(50, int(seconds * synth.rate / frames))
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        synth.render(frames)
        times.append(time.perf_counter() - t0)
    synth.close()
    times.sort()
    period = frames / synth.rate
    median, p99 = times[len(times) // 2], times[int(0.99 * (len(times) - 1))]
    return {
        "frames": frames,
        "notes": notes,
        "us_p50": median * 1e6,
        "us_p99": p99 * 1e6,
        "cpu_pct": 100 * median / period,  # of one core, playing in real time
    }


def synth_report(soundfont: str | None = None, seconds: float = 1.0) -> dict:
    """The figures as one dict (``livecode bench --synth --json``); ``seconds`` of audio
    rendered for each block size and note count (``bench --seconds S`` gives S/10)."""
    before = _rss_mb()
    loaded, line = open_synth(soundfont, AUDIO_RATE)
    after = _rss_mb()
    synths: dict[str, object] = {"built-in voices": lambda: BuiltinVoices(AUDIO_RATE)}
    if not isinstance(loaded, BuiltinVoices):
        synths = {loaded.name: lambda: open_synth(soundfont, AUDIO_RATE)[0], **synths}
    report: dict = {
        "sound": line,
        "rate": AUDIO_RATE,
        "memory_mb": {
            "before": before,
            "with_soundfont": after,
            "soundfont": None if before is None or after is None else after - before,
        },
        "blocks": {
            name: [
                _block_costs(make, frames, notes, seconds) for notes in NOTES for frames in BLOCKS
            ]
            for name, make in synths.items()
        },
    }
    loaded.close()
    _, batch = load_session(resolve_session("demo"))
    report["render_demo"] = {}
    for name, font in ((loaded.name, soundfont), ("built-in voices", "none")):
        if name in report["render_demo"]:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            render_audio(batch, 60.0, os.path.join(tmp, "demo.wav"), soundfont=font)
            took = time.perf_counter() - t0
        report["render_demo"][name] = {"seconds": 60.0, "took_s": took, "x_real_time": 60 / took}
    return report


def format_synth_report(r: dict) -> str:
    lines = [r["sound"], f"synth CPU per block at {r['rate']} Hz (median / p99, % of one core):"]
    for name, rows in r["blocks"].items():
        lines.append(f"  {name}:")
        for row in rows:
            lines.append(
                f"    {row['notes']:3d} notes, {row['frames']:3d} frames: "
                f"{row['us_p50']:7.1f} / {row['us_p99']:7.1f} µs  ({row['cpu_pct']:.1f} %)"
            )
    mem = r["memory_mb"]
    if mem["soundfont"] is not None:
        lines.append(
            f"memory: {mem['before']:.1f} MB before the synth, {mem['with_soundfont']:.1f} MB "
            f"with it (+{mem['soundfont']:.1f} MB)"
        )
    for name, d in r["render_demo"].items():
        lines.append(
            f"render demo 60 s to .wav with {name}: {d['took_s']:.2f} s, "
            f"{d['x_real_time']:.0f}x real time"
        )
    return "\n".join(lines)
