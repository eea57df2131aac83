"""``livecode replay``, ``export`` and ``plot``: the commands that work on recordings.

``replay FILE.sqlite -o OUT.mid|OUT.jsonl|OUT.wav`` re-runs the recorded operations through the
model offline (deterministic: the notes as recorded); without ``-o`` it plays them live
into a fresh engine, each batch scheduled at its recorded logical time (``--speed``
scales time, tempo included).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from livecode.cli_audio import add_audio_file_options, audio_summary

if TYPE_CHECKING:
    from engine.record.recording import Recording

__all__ = ["add_commands", "cmd_replay", "cmd_export", "cmd_plot", "replay_offline"]


def add_commands(
    sub: argparse._SubParsersAction, realtime_options: Callable[[argparse.ArgumentParser], None]
) -> None:
    """Add the ``replay``, ``export`` and ``plot`` subcommands to the CLI's parser."""
    replay = sub.add_parser("replay", help="replay a recording, live or offline to a file")
    replay.add_argument("recording", metavar="FILE.sqlite")
    replay.add_argument(
        "--speed",
        type=float,
        default=1.0,
        metavar="X",
        help="play X times as fast (tempo scaled; live only)",
    )
    replay.add_argument(
        "-o",
        "--output",
        metavar="OUT.mid|OUT.jsonl|OUT.wav",
        help="offline: write the replayed events (or their sound) here instead of playing",
    )
    realtime_options(replay)  # --soundfont is one of them
    add_audio_file_options(replay, soundfont=False)

    export = sub.add_parser("export", help="a recording as .mid, .jsonl, .wav, .neu or .txt")
    export.add_argument("recording", metavar="FILE.sqlite")
    export.add_argument("-o", "--output", required=True, metavar="OUT.mid|.jsonl|.wav|.neu|.txt")
    add_audio_file_options(export)

    plot = sub.add_parser(
        "plot",
        help="a spike raster and piano roll of a session or a "
        "recording, as PNG (needs livecode[plot])",
    )
    plot.add_argument("source", metavar="SESSION.neu|FILE.sqlite")
    plot.add_argument("--seconds", type=float, metavar="S", help="for a session: how long")
    plot.add_argument("--seed", type=int, default=0)
    plot.add_argument("-o", "--output", required=True, metavar="OUT.png")


def replay_offline(path: str, out: str) -> int:
    """Replay the recording at ``path`` through the model into ``out``; how many messages."""
    from livecode.export import write_events

    if not out.lower().endswith((".mid", ".midi", ".jsonl")):
        raise ValueError(f"output must end in .mid, .jsonl or .wav, got {out!r}")
    return write_events(_replayed(path), out)


def _replayed(path: str) -> Recording:
    """The recording at ``path`` with its events replaced by the model's replay of it."""
    from engine.record.recording import Recording, load, replay_events

    rec = load(path)
    result = replay_events(rec)
    return Recording(
        path,
        [
            dataclasses.replace(seg, events=evs, sent=[None] * len(evs))
            for seg, evs in zip(rec.segments, result.per_segment, strict=True)
        ],
    )


def cmd_replay(args: argparse.Namespace, options_of: Callable, say: Callable[[str], None]) -> int:
    if args.output and args.output.lower().endswith(".wav"):
        from livecode.export import write_recording_audio

        started = time.perf_counter()
        stats, line = write_recording_audio(
            _replayed(args.recording), args.output, args.rate, args.soundfont
        )
        say(line)
        say(audio_summary(stats, args.output, time.perf_counter() - started))
        return 0
    if args.output:
        count = replay_offline(args.recording, args.output)
        say(f"wrote {count} MIDI messages to {args.output}")
        return 0
    from engine.record.recording import load
    from livecode.headless import run_until_done

    if not args.speed > 0:
        raise ValueError(f"--speed must be above 0, got {args.speed:g}")
    rec = load(args.recording)
    end = max((seg.last_time() for seg in rec.segments), default=0.0)
    options = dataclasses.replace(
        options_of(args, seconds=end / args.speed),
        replay=os.path.abspath(args.recording),
        speed=args.speed,
    )
    say(
        f"replaying {args.recording}: {end - rec.t0:.1f} s"
        + (f" at {args.speed:g}x" if args.speed != 1 else "")
    )
    return run_until_done(options, say)


def cmd_export(args: argparse.Namespace, say: Callable[[str], None]) -> int:
    from livecode.export import export, write_recording_audio

    if args.output.lower().endswith(".wav"):
        from engine.record.recording import load

        started = time.perf_counter()
        stats, line = write_recording_audio(
            load(args.recording), args.output, args.rate, args.soundfont
        )
        say(line)
        say(audio_summary(stats, args.output, time.perf_counter() - started))
        return 0
    say(export(args.recording, args.output))
    return 0


def cmd_plot(args: argparse.Namespace, say: Callable[[str], None]) -> int:
    from livecode.plot import plot_recording, plot_session

    if args.source.endswith((".sqlite", ".db", ".sqlite3")):
        say(plot_recording(args.source, args.output))
        return 0
    if args.seconds is None:
        raise ValueError("plot SESSION.neu needs --seconds S (how long to render)")
    say(plot_session(args.source, args.seconds, args.output, args.seed))
    return 0
