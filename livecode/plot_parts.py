"""The panels of ``livecode plot``: the network as a graph, drum lanes, a piano roll, and
the beat and bar grid they share. Each function draws on one matplotlib Axes and says
what it drew, so a test can check the picture's content without reading pixels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

from engine.protocol import Event

__all__ = [
    "Wire",
    "GM_DRUMS",
    "DRUM_CHANNEL",
    "BEATS_PER_BAR",
    "note_name",
    "draw_graph",
    "draw_drums",
    "draw_roll",
    "draw_grid",
    "EXCITE",
    "INHIBIT",
]

DRUM_CHANNEL = 10  # General MIDI's percussion channel
BEATS_PER_BAR = 4  # the network has no metre; bars of four beats read best for most music
EXCITE, INHIBIT = "#1f6fb4", "#d62728"  # blue pulls, red pushes (and a bar end, not an arrow)

# General MIDI percussion key map (notes 35..81).
GM_DRUMS = dict(
    enumerate(
        (
            "Acoustic Bass Drum",
            "Bass Drum",
            "Side Stick",
            "Acoustic Snare",
            "Hand Clap",
            "Electric Snare",
            "Low Floor Tom",
            "Closed Hi-Hat",
            "High Floor Tom",
            "Pedal Hi-Hat",
            "Low Tom",
            "Open Hi-Hat",
            "Low-Mid Tom",
            "Hi-Mid Tom",
            "Crash Cymbal",
            "High Tom",
            "Ride Cymbal",
            "Chinese Cymbal",
            "Ride Bell",
            "Tambourine",
            "Splash Cymbal",
            "Cowbell",
            "Crash Cymbal 2",
            "Vibraslap",
            "Ride Cymbal 2",
            "Hi Bongo",
            "Low Bongo",
            "Mute Hi Conga",
            "Open Hi Conga",
            "Low Conga",
            "High Timbale",
            "Low Timbale",
            "High Agogo",
            "Low Agogo",
            "Cabasa",
            "Maracas",
            "Short Whistle",
            "Long Whistle",
            "Short Guiro",
            "Long Guiro",
            "Claves",
            "Hi Wood Block",
            "Low Wood Block",
            "Mute Cuica",
            "Open Cuica",
            "Mute Triangle",
            "Open Triangle",
        ),  # fmt: skip
        start=35,
    )
)
_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
COLOURS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
    "#7f7f7f", "#aec7e8", "#ffbb78", "#98df8a", "#c5b0d5", "#c49c94",
)  # fmt: skip


class Wire(NamedTuple):
    """A connection as drawn."""

    src: str
    dst: str
    w: float
    delay: float = 0.0
    kind: str = "pulse"


def note_name(note: int) -> str:
    """MIDI note number as the language writes it (60 = "C4")."""
    return f"{_NAMES[note % 12]}{note // 12 - 1}"


def draw_graph(ax: Any, names: list[str], wires: list[Wire], colour_of: dict) -> list[dict]:
    """The network on a circle: a node per neuron, an arrow per connection labelled with
    its weight (and delay); excitatory blue arrows, inhibitory red bar-ended lines,
    ``cont`` dotted. Returns what was drawn, one dict per connection."""
    from matplotlib.patches import FancyArrowPatch

    n = max(1, len(names))
    pos = {
        name: (
            math.cos(math.pi / 2 - 2 * math.pi * i / n),
            math.sin(math.pi / 2 - 2 * math.pi * i / n),
        )
        for i, name in enumerate(names)
    }
    ax.set_aspect("equal")
    ax.set_xlim(-1.45, 1.45)
    ax.set_ylim(-1.35, 1.35)
    ax.axis("off")
    small = len(names) > 24
    for name, (x, y) in pos.items():
        ax.plot([x], [y], "o", ms=6 if small else 13, color=colour_of[name], zorder=3)
        ax.annotate(
            name,
            (x, y),
            xytext=(x * 1.17, y * 1.17),
            ha="center",
            va="center",
            fontsize=6 if small else 9,
            zorder=4,
        )
    drawn: list[dict] = []
    label = len(wires) <= 40  # beyond that the numbers hide the picture
    for wire in wires:
        if wire.src not in pos or wire.dst not in pos:
            continue
        inhibit = wire.w < 0
        colour = INHIBIT if inhibit else EXCITE
        style = "dotted" if wire.kind == "cont" else "solid"
        (x0, y0), (x1, y1) = pos[wire.src], pos[wire.dst]
        width = 0.8 + min(3.0, 2.5 * abs(wire.w))
        if wire.src == wire.dst:  # a loop onto itself: a small circle outside the node
            ax.add_patch(
                FancyArrowPatch(
                    (x0 * 1.02, y0 * 1.02), (x0 * 1.04 + 0.01, y0 * 1.04),
                    connectionstyle="arc3,rad=2.5", color=colour, lw=width, linestyle=style,
                    arrowstyle="-[" if inhibit else "-|>", mutation_scale=8,
                )
            )  # fmt: skip
        else:
            ax.add_patch(
                FancyArrowPatch(
                    (x0, y0), (x1, y1), connectionstyle="arc3,rad=0.18", color=colour,
                    lw=width, linestyle=style, alpha=0.8, shrinkA=9, shrinkB=9,
                    arrowstyle="-[,widthB=0.6" if inhibit else "-|>", mutation_scale=12,
                )
            )  # fmt: skip
        if label:
            text = f"{wire.w:+g}" + (f" d{wire.delay:g}" if wire.delay else "")
            mx, my = (x0 + x1) / 2, (y0 + y1) / 2
            # the arc bulges to the right of src->dst: put the label on the bulge
            nx, ny = (y1 - y0) * 0.09, -(x1 - x0) * 0.09
            ax.text(mx + nx, my + ny, text, fontsize=7, color=colour, ha="center", va="center",
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8})  # fmt: skip
        drawn.append(
            {"src": wire.src, "dst": wire.dst, "w": wire.w, "colour": colour, "style": style}
        )
    ax.set_title(
        "network: blue arrows excite, red bars inhibit, dotted = cont; labels: weight, delay",
        fontsize=8,
        loc="left",
    )
    return drawn


def _drum_label(note: int, neurons: list[str]) -> str:
    return f"{GM_DRUMS.get(note, note_name(note))}  ({', '.join(neurons)})"


def draw_drums(ax: Any, ons: Sequence[Event], colour_of: dict) -> list[str]:
    """One lane per drum sound on channel 10, named by the General MIDI kit and the
    neurons that play it; a tick per hit, its height by velocity. Returns the lane labels,
    bottom to top (low notes, the kick, at the bottom)."""
    drums = [ev for ev in ons if ev.ch == DRUM_CHANNEL]
    notes = sorted({ev.note for ev in drums})
    lane = {note: i for i, note in enumerate(notes)}
    players: dict[int, list[str]] = {note: [] for note in notes}
    for ev in drums:
        if ev.neuron not in players[ev.note]:
            players[ev.note].append(ev.neuron)
    from matplotlib.collections import LineCollection

    segs = [
        ((ev.beat, lane[ev.note] - 0.42 * ev.vel / 127), (ev.beat, lane[ev.note] + 0.42 * ev.vel / 127))
        for ev in drums
    ]  # fmt: skip
    ax.add_collection(
        LineCollection(segs, colors=[colour_of.get(ev.neuron, "#333") for ev in drums], lw=2.2)
    )
    labels = [_drum_label(note, players[note]) for note in notes]
    ax.set_ylim(-0.6, max(0, len(notes) - 1) + 0.6)
    ax.set_yticks(range(len(notes)))
    ax.set_yticklabels(labels, fontsize=8)
    for i in range(len(notes)):
        ax.axhline(i, color="#dddddd", lw=0.5, zorder=0)
    ax.set_title(
        "drums (channel 10): a lane per sound, tick height = velocity", fontsize=9, loc="left"
    )
    return labels


def draw_roll(ax: Any, events: Sequence[Event], end_beat: float, colour_of: dict) -> list[int]:
    """The pitched channels (not 10) as a piano roll: a bar per note from its note-on to
    its note-off, coloured by neuron, note names on the side. Returns the notes played."""
    from matplotlib.collections import PolyCollection

    bars, colours = [], []
    start: dict[tuple[int, int], Event] = {}
    for ev in events:
        if ev.ch == DRUM_CHANNEL:
            continue
        key = (ev.ch, ev.note)
        if ev.type == "note_on":
            start[key] = ev
        elif ev.type == "note_off" and key in start:
            on = start.pop(key)
            x0, x1, y = on.beat, max(ev.beat, on.beat + 0.02), on.note
            bars.append(((x0, y - 0.42), (x1, y - 0.42), (x1, y + 0.42), (x0, y + 0.42)))
            colours.append(colour_of.get(on.neuron, "#555555"))
    for on in start.values():  # still sounding at the end
        x0, y = on.beat, on.note
        bars.append(((x0, y - 0.42), (end_beat, y - 0.42), (end_beat, y + 0.42), (x0, y + 0.42)))
        colours.append(colour_of.get(on.neuron, "#555555"))
    ax.add_collection(PolyCollection(bars, facecolors=colours, edgecolors="none"))
    played = sorted({ev.note for ev in events if ev.type == "note_on" and ev.ch != DRUM_CHANNEL})
    lo, hi = (played[0], played[-1]) if played else (58, 62)
    ax.set_ylim(lo - 1.5, hi + 1.5)
    ticks = played if len(played) <= 24 else [n for n in range(lo, hi + 1) if n % 12 == 0]
    ax.set_yticks(ticks)
    ax.set_yticklabels([note_name(n) for n in ticks], fontsize=7)
    for n in range(lo - 1, hi + 2):  # black keys shaded, as on a keyboard
        if n % 12 in (1, 3, 6, 8, 10):
            ax.axhspan(n - 0.5, n + 0.5, color="#f2f2f2", zorder=0)
    neurons = list(
        dict.fromkeys(ev.neuron for ev in events if ev.ch != DRUM_CHANNEL and ev.type == "note_on")
    )
    if 0 < len(neurons) <= 12:  # beyond that a legend covers the notes
        from matplotlib.patches import Patch

        ax.legend(
            handles=[Patch(color=colour_of.get(n, "#555"), label=n) for n in neurons],
            fontsize=7, loc="upper right", ncol=min(6, len(neurons)), framealpha=0.8,
        )  # fmt: skip
    ax.set_title("pitched parts: piano roll, colour = neuron", fontsize=9, loc="left")
    return played


def draw_grid(axes: Sequence[Any], start: float, end: float, top: Any) -> int:
    """Beats as light lines and bars (four beats) as darker ones, numbered on ``top``'s
    upper edge; every beat only when there are few enough to see. Returns the bars marked."""
    first = math.floor(start / BEATS_PER_BAR) * BEATS_PER_BAR
    bars = list(range(int(first), int(math.ceil(end)) + 1, BEATS_PER_BAR))
    beats = end - start <= 256
    for ax in axes:
        if beats:
            for b in range(int(math.floor(start)), int(math.ceil(end)) + 1):
                if b % BEATS_PER_BAR:
                    ax.axvline(b, color="#e4e4e4", lw=0.5, zorder=0)
        for b in bars:
            ax.axvline(b, color="#9a9a9a", lw=0.8, zorder=0)
    step = max(1, len(bars) // 32)  # at most ~32 numbers
    twin = top.secondary_xaxis("top")
    shown = bars[::step]
    twin.set_xticks([b for b in shown])
    twin.set_xticklabels([str(b // BEATS_PER_BAR + 1) for b in shown], fontsize=7)
    twin.set_xlabel(f"bar ({BEATS_PER_BAR} beats)", fontsize=8)
    return len(bars)
