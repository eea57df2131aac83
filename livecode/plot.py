"""``livecode plot``: a picture of a performance, a session file or a recording, as a PNG.

A page a performer would print. On the left, the network as a graph: a node per neuron,
an arrow per connection labelled with its weight (blue arrows excite, red bar-ended lines
inhibit, dotted ones are ``cont``). On the right, sharing one time axis in beats with
bars of four numbered along the top: a spike raster (a row per neuron), the drums
(channel 10) on lanes of their own named after the General MIDI kit and the neurons
that play them, and the pitched parts on a piano roll with note names. For a recording,
each block of code typed is a thin grey line across the time panels.

Needs the optional extra ``livecode[plot]`` (matplotlib). Nothing is imported or opened
until :func:`plot` runs, and it draws off-screen (Agg): no window, no display needed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from engine.protocol import Event
from livecode.plot_parts import (
    COLOURS,
    DRUM_CHANNEL,
    Wire,
    draw_drums,
    draw_graph,
    draw_grid,
    draw_roll,
)

__all__ = ["plot", "plot_session", "plot_recording", "PlotError", "Picture", "Wire"]


class PlotError(RuntimeError):
    """The picture cannot be made (matplotlib missing, nothing to draw)."""


def _matplotlib():  # type: ignore[no-untyped-def]
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise PlotError("plot needs matplotlib: pip install 'livecode[plot]'") from exc
    return Figure, FigureCanvasAgg


def plot_session(session: str, seconds: float, out: str, seed: int = 0) -> str:
    """Render ``session`` for ``seconds`` (offline, as ``render`` does) and plot it."""
    from engine.render import render_events
    from livecode.language.sessionfile import load_session

    _, batch = load_session(session)
    events, _bpm = render_events(batch, seconds, seed)
    mirror = _mirror_of(batch, seed)
    names = list(mirror.neurons)
    conns = [_wire(s, d, c.w, c.delay, c.kind) for (s, d), c in mirror.connections.items()]
    plot(events, names, conns, out, title=f"{os.path.basename(session)}, {seconds:g} s", marks=[])
    return f"wrote {out} ({len(events)} MIDI messages, {len(names)} neurons)"


def _mirror_of(batch, seed: int):  # type: ignore[no-untyped-def]
    from livecode.language.mirror import Mirror

    mirror = Mirror()
    for op in batch.ops:
        mirror.apply(op)
    return mirror


def _wire(src: str, dst: str, w: object, delay: object, kind: str) -> Wire:
    """A connection as drawn: with several taps, its strongest tap (weight and delay)."""
    if isinstance(w, (list, tuple)):
        delays = delay if isinstance(delay, (list, tuple)) else [delay] * len(w)
        w, delay = max(zip(w, delays, strict=True), key=lambda tap: abs(tap[0]))
    elif isinstance(delay, (list, tuple)):
        delay = delay[0]
    return Wire(src, dst, float(w), float(delay), kind)  # type: ignore[arg-type]


def plot_recording(path: str, out: str) -> str:
    """Plot the recording at ``path``: the notes as played, code changes marked."""
    from engine.record.recording import load, replay_events
    from livecode.export import played_events

    rec = load(path)
    events, _tempos = played_events(rec)
    end = replay_events(rec).network.snapshot()
    names: list[str] = []
    for seg in rec.segments:  # every neuron that ever was, in order of appearance
        names += [n for n in seg.snapshot["neurons"] if n not in names]
    names += [ev.neuron for ev in events if ev.neuron and ev.neuron not in names]
    names = list(dict.fromkeys(names + list(end["neurons"])))
    conns = [
        _wire(c["src"], c["dst"], c["w"], c.get("delay", 0.0), c.get("kind", "pulse"))
        for c in end["connections"]
    ]
    marks = _block_beats(rec, events)
    plot(events, names, conns, out, title=os.path.basename(path), marks=marks)
    return f"wrote {out} ({len(events)} MIDI messages, {len(names)} neurons, {len(marks)} blocks)"


def _block_beats(rec, events: list[Event]) -> list[float]:  # type: ignore[no-untyped-def]
    """Beats at which blocks of code (REPL, file) were applied."""
    import bisect

    times = [ev.t for ev in events]
    out = []
    for b in rec.blocks:
        if b.source in ("repl", "file") and b.ok and events:
            i = min(len(events) - 1, bisect.bisect_left(times, b.t))
            out.append(events[i].beat)
    return out


@dataclass
class Picture:
    """What a plot shows, for tests and for the line ``plot`` prints."""

    figure_size: tuple[float, float] = (0.0, 0.0)  # inches
    graph_width: float = 0.0  # the graph's share of the page's width
    wires: list[dict] = field(default_factory=list)
    drum_lanes: list[str] = field(default_factory=list)
    roll_notes: list[int] = field(default_factory=list)
    bars: int = 0


def plot(
    events: Sequence[Event],
    names: list[str],
    conns: Sequence[Wire | tuple],
    out: str,
    title: str = "",
    marks: Sequence[float] = (),
) -> Picture:
    """Draw the network ``conns`` and ``events`` (beats on x) into the PNG ``out``."""
    from matplotlib.collections import LineCollection

    Figure, FigureCanvasAgg = _matplotlib()
    if not out.lower().endswith(".png"):
        raise PlotError(f"output must end in .png, got {out!r}")
    wires = [c if isinstance(c, Wire) else Wire(*c) for c in conns]
    rows = {name: i for i, name in enumerate(names)}
    colour_of = {name: COLOURS[i % len(COLOURS)] for i, name in enumerate(names)}
    ons = [ev for ev in events if ev.type == "note_on"]
    has_drums = any(ev.ch == DRUM_CHANNEL for ev in ons)
    has_pitched = any(ev.ch != DRUM_CHANNEL for ev in ons) or not ons
    start_beat = min((ev.beat for ev in events), default=0.0)
    end_beat = max((ev.beat for ev in events), default=4.0) or 4.0
    n = max(1, len(names))
    heights = [min(9.0, max(1.4, 0.22 * n))]
    if has_drums:
        heights.append(min(5.0, max(1.2, 0.3 * len({ev.note for ev in ons if ev.ch == 10}))))
    if has_pitched:
        heights.append(3.6)
    size = (17.0, max(7.5, sum(heights) + 1.6))
    fig = Figure(figsize=size, dpi=100)
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(
        len(heights), 2, width_ratios=(6, 11), height_ratios=heights,
        wspace=0.16, hspace=0.28, left=0.01, right=0.985, top=0.86, bottom=0.07,
    )  # fmt: skip
    picture = Picture(figure_size=size)
    graph_ax = fig.add_subplot(grid[:, 0])
    picture.wires = draw_graph(graph_ax, names, wires, colour_of)
    box = graph_ax.get_position()
    picture.graph_width = box.width
    if title:
        fig.suptitle(title, fontsize=12, x=0.01, y=0.985, ha="left")

    raster = fig.add_subplot(grid[0, 1])
    axes = [raster]
    counts: dict[str, int] = {}
    for ev in ons:
        counts[ev.neuron] = counts.get(ev.neuron, 0) + 1
    segs = [
        ((ev.beat, rows[ev.neuron] - 0.38), (ev.beat, rows[ev.neuron] + 0.38))
        for ev in ons
        if ev.neuron in rows
    ]
    colours = [colour_of[ev.neuron] for ev in ons if ev.neuron in rows]
    raster.add_collection(LineCollection(segs, colors=colours, linewidths=1.2))
    raster.set_ylim(n - 0.5, -0.5)
    raster.set_yticks(range(len(names)))
    raster.set_yticklabels([f"{name} ({counts.get(name, 0)})" for name in names], fontsize=7)
    raster.set_xlim(start_beat, end_beat)
    raster.set_title("firings per neuron (count in brackets)", fontsize=9, loc="left", pad=18)
    row = 1
    if has_drums:
        drums = fig.add_subplot(grid[row, 1], sharex=raster)
        picture.drum_lanes = draw_drums(drums, ons, colour_of)
        axes.append(drums)
        row += 1
    if has_pitched:
        roll = fig.add_subplot(grid[row, 1], sharex=raster)
        picture.roll_notes = draw_roll(roll, events, end_beat, colour_of)
        axes.append(roll)
    for ax in axes[:-1]:
        ax.tick_params(labelbottom=False)
    axes[-1].set_xlabel("beats", fontsize=9)
    picture.bars = draw_grid(axes, start_beat, end_beat, raster)
    for beat in marks:
        for ax in axes:
            ax.axvline(beat, color="#777777", lw=0.7, alpha=0.7, ls="--")
    fig.savefig(out, format="png")
    return picture
