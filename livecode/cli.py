"""The ``livecode`` command: REPL (default), play, render, ports, bench."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from engine.runtime.process import EngineHandle, EngineOptions, prepare_audio
from livecode.cli_audio import SOUNDFONT_HELP, add_audio_file_options, audio_summary
from livecode.headless import run_until_done
from livecode.language.errors import LivecodeError
from livecode.language.sessionfile import load_session
from livecode.shipped import resolve_session

__all__ = ["main", "build_parser"]

COMMANDS = ("play", "render", "ports", "bench", "repl", "replay", "export", "plot", "fit")


def _add_realtime_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("real-time options")
    g.add_argument(
        "--midi-api", default="auto", choices=("auto", "alsa", "jack", "coremidi", "winmm", "none")
    )
    g.add_argument(
        "--virtual",
        default="livecode",
        metavar="NAME",
        help="name of the output port the engine opens (default: livecode)",
    )
    g.add_argument(
        "--port", metavar="NAME", help="send to an existing output port instead (substring match)"
    )
    g.add_argument("--osc-port", type=int, default=8000, metavar="N", help="0 turns OSC off")
    g.add_argument("--osc-host", default="127.0.0.1", metavar="ADDR")
    g.add_argument(
        "--osc-allow",
        default="",
        metavar="IP,...",
        help="accept OSC only from these sender addresses",
    )
    g.add_argument(
        "--osc-feedback",
        metavar="HOST:PORT",
        help="send /fired and parameter echoes there (TouchOSC listens on 9000)",
    )
    g.add_argument(
        "--midi-in",
        action="append",
        default=[],
        metavar="NAME",
        help="also listen to this MIDI input port (substring match; repeatable); "
        "the engine always opens a virtual input NAME-in (see --virtual)",
    )
    g.add_argument(
        "--clock-out",
        action="store_true",
        help="send MIDI clock (24 per beat, start/stop, song position) on the output port",
    )
    sync = g.add_mutually_exclusive_group()
    sync.add_argument(
        "--link",
        action="store_true",
        help="join an Ableton Link session: its tempo and beat lead (pip install 'livecode[link]')",
    )
    sync.add_argument(
        "--clock-in",
        metavar="PORT",
        help="follow the MIDI clock arriving from this input port (substring match)",
    )
    g.add_argument(
        "--latency",
        type=float,
        metavar="SECONDS",
        help="JACK: run this far ahead and write each note at its exact frame "
        "(default: 2 JACK periods; 0 sends through rtmidi at once)",
    )
    _add_audio_options(g)
    g.add_argument("--tempo", type=float, metavar="BPM")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--events", metavar="FILE.jsonl", help="log every MIDI message sent")
    g.add_argument("--record", metavar="FILE.sqlite", help="record the performance")


def _add_audio_options(g: argparse._ActionsContainer, default: str = "auto") -> None:
    g.add_argument(
        "--audio",
        default=default,
        metavar="{auto,jack,device,wav:FILE,none}",
        help="play the built-in synth: JACK audio ports, the sound device, a new WAV file "
        f"written live, or none (default {default}; auto: JACK if a server runs, else the "
        "device, else MIDI only)",
    )
    g.add_argument("--soundfont", metavar="FILE", help=SOUNDFONT_HELP)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="livecode",
        description=(
            "Live-code an oscillating network of integrate-and-fire neurons that plays MIDI. "
            "With no command: the REPL."
        ),
    )
    sub = parser.add_subparsers(dest="command")

    repl = sub.add_parser("repl", help="the live-coding REPL (the default)")
    repl.add_argument("session", nargs="?", metavar="SESSION.neu")
    repl.add_argument("--watch", action="store_true", help="re-apply the session file on save")
    _add_realtime_options(repl)

    play = sub.add_parser("play", help="play a session headless, in real time")
    play.add_argument("session", metavar="SESSION.neu")
    play.add_argument("--seconds", type=float, metavar="S", help="stop after S seconds")
    play.add_argument("--watch", action="store_true", help="re-apply the session file on save")
    _add_realtime_options(play)

    render = sub.add_parser("render", help="render a session offline to .mid, .jsonl or .wav")
    render.add_argument("session", metavar="SESSION.neu")
    render.add_argument("--seconds", type=float, required=True, metavar="S")
    render.add_argument("-o", "--output", required=True, metavar="OUT.mid|OUT.jsonl|OUT.wav")
    render.add_argument("--seed", type=int, default=0)
    render.add_argument(
        "--tempo", type=float, metavar="BPM", help="play at this tempo, whatever the session says"
    )
    add_audio_file_options(render)

    sub.add_parser("ports", help="list MIDI APIs and ports")

    bench = sub.add_parser("bench", help="timing report on this machine")
    bench.add_argument("--seconds", type=float, default=10.0, metavar="S")
    bench.add_argument("--json", action="store_true", help="one JSON object instead of text")
    bench.add_argument(
        "--midi-api", default="auto", choices=("auto", "alsa", "jack", "coremidi", "winmm", "none")
    )
    bench.add_argument(
        "--latency",
        type=float,
        metavar="SECONDS",
        help="JACK: how far ahead (default 2 periods; 0: rtmidi)",
    )
    bench.add_argument(
        "--no-osc", action="store_true", help="leave out the OSC load (osc_ms is then null)"
    )
    bench.add_argument(
        "--synth",
        action="store_true",
        help="instead: the synths' CPU per block, the demo's WAV render speed, memory",
    )
    bench.add_argument(
        "--osc-hostile",
        action="store_true",
        help="make the OSC load a garbage flood (3,000 hostile datagrams a second)",
    )
    _add_audio_options(bench, default="none")
    from livecode.replay import add_commands

    add_commands(sub, _add_realtime_options)
    from livecode.fit import add_command as add_fit

    add_fit(sub)
    return parser


def _options(args: argparse.Namespace, seconds: float | None = None) -> EngineOptions:
    """The performer's engine options, built once from the command line."""
    allow = tuple(a.strip() for a in args.osc_allow.split(",") if a.strip())
    return EngineOptions(
        midi_api=args.midi_api,
        virtual=args.virtual,
        port=args.port,
        tempo=args.tempo or 120.0,
        seed=args.seed,
        events=args.events,
        seconds=seconds,
        osc_port=args.osc_port,
        osc_host=args.osc_host,
        osc_feedback=args.osc_feedback,
        osc_allow=allow,
        latency=args.latency,
        midi_in=tuple(args.midi_in),
        clock_out=args.clock_out,
        link=args.link,
        clock_in=args.clock_in,
        record=_record_path(args.record),
        audio=prepare_audio(args.audio),
        soundfont=args.soundfont,
    )


def _record_path(path: str | None) -> str | None:
    """``--record FILE``: checked (a new file, writable) before the engine starts."""
    if not path:
        return None
    from engine.record.recording import prepare

    return prepare(path)


def _say(text: str) -> None:
    print(f"livecode: {text}", file=sys.stderr, flush=True)


def cmd_render(args: argparse.Namespace) -> int:
    from engine.render import render, render_audio

    _, batch = load_session(args.session)
    start = time.perf_counter()
    if args.output.lower().endswith(".wav"):
        stats, line = render_audio(
            batch, args.seconds, args.output, args.seed, args.tempo, args.rate, args.soundfont
        )
        _say(line)
        _say(audio_summary(stats, args.output, time.perf_counter() - start))
        return 0
    count = render(batch, args.seconds, args.output, seed=args.seed, tempo=args.tempo)
    took = time.perf_counter() - start
    speed = args.seconds / took if took > 0 else float("inf")
    _say(
        f"wrote {count} MIDI messages to {args.output} ({args.seconds:g} s of music "
        f"in {took:.3f} s, {speed:.0f}x real time)"
    )
    return 0


def cmd_play(args: argparse.Namespace) -> int:
    from livecode.repl.live import LiveSession
    from livecode.repl.watch import FileWatcher

    sessions: list[LiveSession] = []
    # made before the first read: a save from then on is applied
    watcher = (
        FileWatcher(
            args.session, lambda text: sessions[0].apply_file(text, args.session), on_error=_say
        )
        if args.watch
        else None
    )
    interp, batch = load_session(args.session)
    options = _options(args, seconds=args.seconds)

    def watch(handle: EngineHandle) -> object:
        sessions.append(LiveSession(interp, handle, _say))
        return watcher

    return run_until_done(options, _say, watch if watcher is not None else None, initial=batch)


def cmd_ports(args: argparse.Namespace) -> int:
    from engine.runtime.process import list_audio, list_ports

    for api, found in list_ports().items():
        if isinstance(found, str):
            print(f"{api}: {found}")
            continue
        print(f"{api}:")
        for kind in ("outputs", "inputs"):
            names = found[kind]
            print(f"  {kind}: {', '.join(names) if names else '(none)'}")
    for kind, where in list_audio().items():  # --audio jack, --audio device
        shown = where if isinstance(where, str) else ", ".join(where) or "(none)"
        print(f"audio {kind}: {shown}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help")):
        argv.insert(0, "repl")
    args = build_parser().parse_args(argv)
    for name in ("session", "source"):  # a shipped session's name works where a file does
        if getattr(args, name, None):
            setattr(args, name, resolve_session(getattr(args, name)))
    try:
        if args.command == "render":
            return cmd_render(args)
        if args.command == "play":
            return cmd_play(args)
        if args.command in ("replay", "export", "plot"):
            from livecode import replay

            if args.command == "replay":
                return replay.cmd_replay(args, _options, _say)
            if args.command == "export":
                return replay.cmd_export(args, _say)
            return replay.cmd_plot(args, _say)
        if args.command == "ports":
            return cmd_ports(args)
        if args.command == "fit":
            from livecode.fit import cmd_fit

            return cmd_fit(args, _say)
        if args.command == "bench" and args.synth:
            import json

            from livecode.bench_synth import format_synth_report, synth_report

            report = synth_report(args.soundfont, seconds=args.seconds / 10)
            print(json.dumps(report) if args.json else format_synth_report(report))
            return 0
        if args.command == "bench":
            from livecode.bench import main as bench_main

            return bench_main(
                args.seconds,
                args.json,
                args.midi_api,
                args.latency,
                osc=not args.no_osc,
                hostile=args.osc_hostile,
                audio=prepare_audio(args.audio),
                soundfont=args.soundfont,
            )
        if args.command == "repl":
            from livecode.repl.prompt import run_repl

            return run_repl(args, _options(args))
    except LivecodeError as exc:
        print(exc.render() if hasattr(exc, "render") else str(exc), file=sys.stderr)
        return 2
    except (OSError, ValueError, RuntimeError) as exc:
        _say(str(exc))
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
