"""``livecode plot``: a picture of a performance, a session file or a recording, as a PNG.

Two panels share the time axis, in beats: on top a spike raster, one row per neuron (a
tick per firing, in its channel's colour), with the connections drawn as arcs between
the rows on the left (green pulls, red pushes, thickness by weight, dashed for ``cont``);
below, a piano roll of the notes as played. For a recording, each block of code typed is
a thin grey line across both panels.

Needs the optional extra ``livecode[plot]`` (matplotlib). Nothing is imported or opened
until :func:`plot` runs, and it draws off-screen (Agg): no window, no display needed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from engine.protocol import Event

__all__ = ["plot", "plot_session", "plot_recording", "PlotError"]


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
    conns = [(s, d, _strongest(c.w), c.kind) for (s, d), c in mirror.connections.items()]
    plot(events, names, conns, out, title=f"{os.path.basename(session)}, {seconds:g} s", marks=[])
    return f"wrote {out} ({len(events)} MIDI messages, {len(names)} neurons)"


def _mirror_of(batch, seed: int):  # type: ignore[no-untyped-def]
    from livecode.language.mirror import Mirror

    mirror = Mirror()
    for op in batch.ops:
        mirror.apply(op)
    return mirror


def _strongest(w: object) -> float:
    """The weight drawn for a connection: its strongest tap's."""
    if isinstance(w, (list, tuple)):
        return float(max(w, key=abs))
    return float(w)  # type: ignore[arg-type]


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
        (c["src"], c["dst"], _strongest(c["w"]), c.get("kind", "pulse")) for c in end["connections"]
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


_COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
    "#aec7e8",
    "#ffbb78",
    "#98df8a",
    "#ff9896",
)


def plot(
    events: Sequence[Event],
    names: list[str],
    conns: list[tuple[str, str, float, str]],
    out: str,
    title: str = "",
    marks: Sequence[float] = (),
) -> None:
    """Draw ``events`` (raster and piano roll, beats on x) and ``conns`` to the PNG ``out``."""
    import numpy as np
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.patches import FancyArrowPatch

    Figure, FigureCanvasAgg = _matplotlib()
    if not out.lower().endswith(".png"):
        raise PlotError(f"output must end in .png, got {out!r}")
    rows = {name: i for i, name in enumerate(names)}
    colour_of = {name: _COLOURS[i % len(_COLOURS)] for i, name in enumerate(names)}
    ons = [ev for ev in events if ev.type == "note_on"]
    end_beat = max((ev.beat for ev in events), default=1.0) or 1.0
    n = max(1, len(names))
    raster_h = min(30.0, max(1.6, 0.28 * n))
    fig = Figure(figsize=(14, raster_h + 4.2), dpi=100)
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(
        2,
        2,
        width_ratios=(1.6, 14),
        height_ratios=(raster_h, 3.6),
        wspace=0.16,
        hspace=0.12,
        left=0.01,
        right=0.985,
        top=0.95,
        bottom=0.07,
    )
    conn_ax = fig.add_subplot(grid[0, 0])
    raster = fig.add_subplot(grid[0, 1])
    roll = fig.add_subplot(grid[1, 1], sharex=raster)
    if title:
        fig.suptitle(title, fontsize=11)

    counts: dict[str, int] = {}
    for ev in ons:
        counts[ev.neuron] = counts.get(ev.neuron, 0) + 1

    # raster: one tick per firing, coloured by neuron
    segs = [
        ((ev.beat, rows[ev.neuron] - 0.38), (ev.beat, rows[ev.neuron] + 0.38))
        for ev in ons
        if ev.neuron in rows
    ]
    colours = [colour_of[ev.neuron] for ev in ons if ev.neuron in rows]
    raster.add_collection(LineCollection(segs, colors=colours, linewidths=1.2))
    raster.set_ylim(n - 0.5, -0.5)
    raster.set_yticks(range(len(names)))
    raster.set_yticklabels([f"{name} ({counts.get(name, 0)})" for name in names], fontsize=8)
    raster.set_xlim(0 if not events else min(ev.beat for ev in events), end_beat)
    raster.set_title("spikes per neuron (firings in brackets)", fontsize=9, loc="left")
    raster.tick_params(labelbottom=False)
    raster.grid(axis="x", alpha=0.25)

    # connections: arcs between the rows, on the left
    conn_ax.set_ylim(n - 0.5, -0.5)
    conn_ax.set_xlim(0, 1)
    conn_ax.set_yticks([])
    conn_ax.set_xticks([])
    for side in ("top", "right", "bottom", "left"):
        conn_ax.spines[side].set_visible(False)
    drawn = 0
    for src, dst, w, kind in conns:
        if src not in rows or dst not in rows:
            continue
        a, b = rows[src], rows[dst]
        colour = "#2ca02c" if w >= 0 else "#d62728"
        if abs(a - b) > 0:
            rad = 0.5 if a < b else -0.5  # bulge to the left, away from the raster
        width = 0.6 + min(3.0, abs(w) * 3)
        if a == b:
            conn_ax.plot([0.9], [a], marker="o", mfc="none", color=colour, ms=8)
        else:
            conn_ax.add_patch(
                FancyArrowPatch(
                    (0.98, a),
                    (0.98, b),
                    arrowstyle="-|>",
                    mutation_scale=7,
                    color=colour,
                    lw=width,
                    linestyle="--" if kind == "cont" else "-",
                    connectionstyle=f"arc3,rad={rad}",
                    alpha=0.7,
                )
            )
        drawn += 1
    conn_ax.set_title(f"{drawn} conn.", fontsize=8, loc="left")

    # piano roll: a bar per note, from note-on to its note-off
    bars, bar_colours = [], []
    start: dict[tuple[int, int], Event] = {}
    for ev in events:
        key = (ev.ch, ev.note)
        if ev.type == "note_on":
            start[key] = ev
        elif ev.type == "note_off" and key in start:
            on = start.pop(key)
            x0, x1, y = on.beat, max(ev.beat, on.beat + 0.02), on.note
            bars.append(((x0, y - 0.4), (x1, y - 0.4), (x1, y + 0.4), (x0, y + 0.4)))
            bar_colours.append(colour_of.get(on.neuron, "#555555"))
    for on in start.values():  # still sounding at the end
        x0, y = on.beat, on.note
        bars.append(((x0, y - 0.4), (end_beat, y - 0.4), (end_beat, y + 0.4), (x0, y + 0.4)))
        bar_colours.append(colour_of.get(on.neuron, "#555555"))
    roll.add_collection(PolyCollection(bars, facecolors=bar_colours, edgecolors="none"))
    notes = np.array([ev.note for ev in ons]) if ons else np.array([60])
    roll.set_ylim(notes.min() - 2, notes.max() + 2)
    roll.set_ylabel("MIDI note", fontsize=8)
    roll.set_xlabel("beats", fontsize=9)
    roll.set_title("piano roll (colour: neuron)", fontsize=9, loc="left")
    roll.grid(alpha=0.25)
    for beat in marks:
        for ax in (raster, roll):
            ax.axvline(beat, color="#999999", lw=0.6, alpha=0.6)
    fig.savefig(out, format="png")
