"""Offline rendering: run the model as fast as it goes and write a MIDI file or an event log.

This is the engine's offline entry point; it shares the model with the real-time loop,
so the same session and seed give the same logical events here and live.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import mido

from engine.model.network import Network
from engine.protocol import Batch, Event, Op, Tempo
from engine.record.eventlog import write_jsonl

__all__ = ["render_events", "render", "write_midi", "firing_cost", "TICKS_PER_BEAT"]

TICKS_PER_BEAT = 960
# Advance in slices so memory stays flat for long renders.
SLICE_SECONDS = 10.0


def render_events(
    batch: Batch, seconds: float, seed: int = 0, tempo: float | None = None
) -> tuple[list[Event], float]:
    """Apply ``batch`` at time 0 and run ``seconds``; return the events and the tempo.

    ``tempo`` overrides the session's own ``tempo()`` (the command line wins).
    """
    net = Network(seed=seed)
    events = list(net.apply(batch, 0.0))
    if tempo is not None:
        events += net.apply(Batch((Tempo(tempo),), source="render"), 0.0)
    bpm = net.tempo
    t = 0.0
    while t < seconds:
        t = min(seconds, t + SLICE_SECONDS)
        events += net.advance(t)
    events += net.release_all()  # the file ends with every note off
    return events, bpm


def write_midi(events: Iterable[Event], path: str, bpm: float) -> int:
    """Write a type-1 Standard MIDI File: a tempo track, then one track per MIDI channel.

    One track per channel keeps every (channel, note) in one track, so the order of a
    retrigger's note-off and note-on at the same tick survives any player's merge.
    Each track is named after the neurons that play on it.
    """
    tracks: dict[int, list[Event]] = {}
    names: dict[int, dict[str, None]] = {}
    for ev in events:
        tracks.setdefault(ev.ch, []).append(ev)
        if ev.neuron:
            names.setdefault(ev.ch, {})[ev.neuron] = None
    mid = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    conductor = mido.MidiTrack()
    conductor.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
    mid.tracks.append(conductor)
    count = 0
    for ch, evs in sorted(tracks.items()):
        track = mido.MidiTrack()
        title = f"ch{ch}: {', '.join(names.get(ch, {}))}"[:120]
        track.append(mido.MetaMessage("track_name", name=title, time=0))
        last = 0
        for ev in evs:
            tick = round(ev.beat * TICKS_PER_BEAT)
            track.append(_message(ev, tick - last))
            last = tick
            count += 1
        mid.tracks.append(track)
    mid.save(path)
    return count


def _message(ev: Event, delta: int) -> mido.Message:
    """A mido message for ``ev`` without mido's per-message checks.

    The model has already validated channel, note and velocity; mido's checks cost
    ~4 µs a message, most of a long render's time. The result is an ordinary
    ``mido.Message`` (mido keeps its fields in the instance dict), read back by tests.
    """
    msg = mido.Message.__new__(mido.Message)
    if ev.type == "control_change":
        vars(msg).update(
            type="control_change", channel=ev.ch - 1, control=ev.note, value=ev.vel, time=delta
        )
    else:
        vars(msg).update(type=ev.type, channel=ev.ch - 1, note=ev.note, velocity=ev.vel, time=delta)
    return msg


def render(
    batch: Batch, seconds: float, out: str, seed: int = 0, tempo: float | None = None
) -> int:
    """Render to ``out`` (``.mid`` or ``.jsonl``); return the number of MIDI messages."""
    events, bpm = render_events(batch, seconds, seed, tempo)
    if out.endswith(".jsonl"):
        return write_jsonl(events, out)
    if out.endswith(".mid") or out.endswith(".midi"):
        return write_midi(events, out, bpm)
    raise ValueError(f"output must end in .mid or .jsonl, got {out!r}")


def firing_cost(setup: tuple[Op, ...], firings: int = 50_000) -> float:
    """Seconds one firing of neuron ``"n"`` takes in the model after ``setup`` (which
    defines it): its firing step called ``firings`` times (a figure for ``livecode bench``)."""
    net = Network(seed=0)
    net.apply(Batch(setup))
    n = net._neurons["n"]
    fire = net._fire
    out: list[Event] = []
    t0 = time.perf_counter()
    for i in range(firings):
        fire(n, float(i), float(i), out)
    return (time.perf_counter() - t0) / firings
