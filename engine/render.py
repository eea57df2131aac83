"""Offline rendering: run the model as fast as it goes and write a MIDI file, an event log,
or audio (through the General MIDI synth: :func:`open_synth`, re-exported for the
performer's side).

This is the engine's offline entry point; it shares the model with the real-time loop,
so the same session and seed give the same logical events here and live.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import mido

from engine.audio.factory import open_synth
from engine.audio.offline import AudioStats
from engine.audio.voices import BuiltinVoices
from engine.model.network import Network
from engine.protocol import Batch, Event, Op, Tempo
from engine.record.eventlog import write_jsonl

__all__ = [
    "render_events",
    "render",
    "render_audio",
    "write_audio",
    "write_midi",
    "AudioStats",
    "TICKS_PER_BEAT",
    "AUDIO_RATE",
    "open_synth",
    "BuiltinVoices",
    "firing_cost",
]

TICKS_PER_BEAT = 960
AUDIO_RATE = 48000  # frames per second of rendered audio unless asked otherwise
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
    elif ev.type == "program_change":
        vars(msg).update(type="program_change", channel=ev.ch - 1, program=ev.note, time=delta)
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
    raise ValueError(f"output must end in .mid, .jsonl or .wav, got {out!r}")


def write_audio(
    events: list[Event],
    seconds: float,
    out: str,
    rate: int = AUDIO_RATE,
    soundfont: str | None = None,
    start: float = 0.0,
) -> tuple[AudioStats, str]:
    """Play ``events`` (logical ``start`` seconds is the file's first frame) through the
    General MIDI synth into the WAV file ``out``, ``seconds`` long; the stats and the line
    saying what played (:func:`engine.audio.factory.open_synth`)."""
    from engine.audio.offline import frame_of, render_blocks, write_wav

    if not 8000 <= rate <= 192000:
        raise ValueError(f"--rate must be in range 8000..192000 Hz, got {rate}")
    synth, line = open_synth(soundfont, rate)
    try:
        frames = frame_of(seconds, rate)
        stats = write_wav(out, render_blocks(synth, events, frames, start), rate, len(events))
    finally:
        synth.close()
    return stats, line


def render_audio(
    batch: Batch,
    seconds: float,
    out: str,
    seed: int = 0,
    tempo: float | None = None,
    rate: int = AUDIO_RATE,
    soundfont: str | None = None,
) -> tuple[AudioStats, str]:
    """Render a session to a WAV file (16-bit stereo): the model's events, then the synth."""
    events, _ = render_events(batch, seconds, seed, tempo)
    return write_audio(events, seconds, out, rate, soundfont)


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
