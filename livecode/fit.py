"""``livecode fit GROOVE.mid -o OUT.neu``: teach a network a rhythm (DESIGN §9).

Reads the groove (:mod:`livecode.learn.groove`), fits one neuron per voice
(:mod:`livecode.learn.solver`), writes the network as ``save()`` writes it, then checks the
written text, and the same text rounded to 3 decimals, through the real model
(:mod:`livecode.learn.check`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

from engine import protocol as P
from livecode.language.mirror import Mirror
from livecode.language.session_text import session_text
from livecode.learn.check import Check, check_text, rounded
from livecode.learn.groove import Groove, parse_bars, parse_grid, read_groove
from livecode.learn.solver import CLOCK, Fit, fit_groove

__all__ = ["FitResult", "fit_file", "fit_text", "fitted_block", "add_command", "cmd_fit"]

NEEDS = "fit needs scipy: pip install 'livecode[learn]'"


@dataclass(frozen=True)
class FitResult:
    text: str
    fit: Fit
    check: Check
    check_rounded: Check

    def report(self) -> str:
        g, f = self.fit.groove, self.fit
        lines = [
            f"fit: {len(g.voices)} voices over {g.bars} bar{'s' if g.bars > 1 else ''} "
            f"({g.beats:g} beats at {g.tempo:g} BPM) -> {len(f.voices) + 1} neurons "
            f"(1 clock), {f.connections} connections, {f.taps} taps, in {f.seconds:.2f} s"
            + ("" if all(v.optimal for v in f.voices) else " (time limit hit: not minimal)"),
        ]
        if g.moved:
            ms = g.moved * 60000 / g.tempo
            lines.append(f"grid: largest move {g.moved:.4g} beats ({ms:.1f} ms)")
        lines.append(f"check, as written: {self.check}")
        lines.append(f"check, rounded to 3 decimals: {self.check_rounded}")
        return "\n".join(lines)


def fit_text(fit: Fit, source: str = "") -> str:
    """The fitted network as session text, exactly as ``save()`` writes it."""
    g = fit.groove
    ops: list[P.Op] = [
        P.Tempo(g.tempo),
        P.DefineNeuron(CLOCK, {"thr": g.beats, "rate": 1.0, "phase": 1.0, "mute": True}),
    ]
    for fv in sorted(fit.voices, key=lambda fv: (fv.voice.note, -fv.voice.vel)):
        v = fv.voice
        params = {"note": v.note, "ch": v.ch, "vel": v.vel, "dur": max(v.dur, 0.01)}
        ops.append(P.DefineNeuron(v.name, {**params, "rate": fv.rate, "phase": fv.phase}))
    for fv in fit.voices:
        for src, taps in fv.taps.items():
            ws = tuple(w for w, _d in taps)
            ds = tuple(d / g.tpb for _w, d in taps)
            ops.append(P.Connect(src, fv.voice.name, ws, ds))
    mirror = Mirror()
    for op in ops:
        mirror.apply(op)
    head = f"# fitted by `livecode fit {os.path.basename(source)}`" if source else "# fitted"
    return (
        f"{head}: {CLOCK} is the one clock (once per {g.beats:g} beats); every voice is"
        " driven by its taps\n" + session_text(mirror)
    )


def fitted_block(text: str, existing: set[str]) -> str:
    """The fitted session as a REPL block: the performer's tempo stays, and neurons of the
    same names are replaced (deleted first, so the new ones start in step)."""
    lines = [line for line in text.splitlines() if not line.startswith("tempo(")]
    fitted = [line.split(" = ", 1)[0] for line in lines if " = neuron(" in line]
    return "\n".join([f"del {name}" for name in fitted if name in existing] + lines) + "\n"


def fit_groove_text(groove: Groove, source: str = "", time_limit: float = 30.0) -> FitResult:
    fit = fit_groove(groove, time_limit)
    text = fit_text(fit, source)
    return FitResult(text, fit, check_text(text, groove), check_text(rounded(text), groove))


def fit_file(
    path: str,
    channel: int | None = None,
    track: int | None = None,
    bars: str | None = None,
    grid: str | None = None,
    time_limit: float = 30.0,
) -> FitResult:
    """Read, fit and check ``path`` (GrooveError, OSError, ImportError without scipy)."""
    step: Fraction | None = parse_grid(grid) if grid else None
    span = parse_bars(bars) if bars else None
    groove = read_groove(path, channel=channel, track=track, bars=span, grid=step)
    return fit_groove_text(groove, path, time_limit)


def add_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fit", help="teach a network a rhythm from a MIDI file")
    p.add_argument("groove", metavar="GROOVE.mid")
    p.add_argument("-o", "--output", required=True, metavar="OUT.neu")
    p.add_argument("--channel", type=int, metavar="CH", help="MIDI channel 1..16 (default 10)")
    p.add_argument("--track", type=int, metavar="N", help="only track N (from 1)")
    p.add_argument("--bars", metavar="A:B", help="bars A to B, from 1, both included")
    p.add_argument("--grid", metavar="1/16", help='snap onsets to a grid ("1/16", "1/8t")')
    p.add_argument(
        "--time-limit", type=float, default=30.0, metavar="S", help="per voice (default 30)"
    )


@contextlib.contextmanager
def _solver_quiet() -> Iterator[None]:
    """The command's stdout closed to the solver: HiGHS may print a stray debug line from C
    (ERGO-Code/HiGHS#2783) straight to file descriptor 1; the report is printed after."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def cmd_fit(args: argparse.Namespace, say) -> int:  # type: ignore[no-untyped-def]
    try:
        with _solver_quiet():
            result = fit_file(
                args.groove, args.channel, args.track, args.bars, args.grid, args.time_limit
            )
    except ImportError:
        say(NEEDS)
        return 2
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(result.text)
    print(result.report())
    print(f"wrote {args.output}")
    return 0 if result.check.f1 == 1.0 and result.check_rounded.f1 == 1.0 else 1
