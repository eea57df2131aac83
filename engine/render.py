"""Offline rendering: run the model as fast as it goes and write a MIDI file or an event log.

This is the engine's offline entry point; it shares the model with the real-time loop,
so the same session and seed give the same logical events here and live.
"""
from __future__ import annotations

import struct
from collections.abc import Iterable

import mido

from engine.eventlog import write_jsonl
from engine.model import Network
from engine.protocol import Batch, Event, Tempo

__all__ = ["render_events", "render", "write_midi", "TICKS_PER_BEAT"]

TICKS_PER_BEAT = 960
# Advance in slices so memory stays flat for long renders.
SLICE_SECONDS = 10.0


def render_events(batch: Batch, seconds: float, seed: int = 0,
                  tempo: float | None = None) -> tuple[list[Event], float]:
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

    The channel messages are encoded here, byte for byte as ``mido.MidiFile.save`` does
    (running status, variable-length deltas, an end-of-track per track): the model has
    already validated channel, note and velocity, and building a mido message for each
    event cost most of a long render's time.
    """
    tracks: dict[int, list[Event]] = {}
    names: dict[int, dict[str, None]] = {}
    for ev in events:
        tracks.setdefault(ev.ch, []).append(ev)
        if ev.neuron:
            names.setdefault(ev.ch, {})[ev.neuron] = None
    tempo = mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0)
    chunks = [_chunk(b"MThd", struct.pack(">hhh", 1, len(tracks) + 1, TICKS_PER_BEAT)),
              _chunk(b"MTrk", b"\x00" + bytes(tempo.bytes()) + _END_OF_TRACK)]
    count = 0
    status_of = _STATUS
    for ch, evs in sorted(tracks.items()):
        title = f"ch{ch}: {', '.join(names.get(ch, {}))}"[:120]
        data = bytearray(b"\x00")
        data += bytes(mido.MetaMessage("track_name", name=title, time=0).bytes())
        append = data.append
        running = -1
        last = 0
        for ev in evs:
            tick = round(ev.beat * TICKS_PER_BEAT)
            delta = tick - last
            last = tick
            if delta < 0x80:
                if delta < 0:
                    raise ValueError("message time must be non-negative in MIDI file")
                append(delta)
            else:
                data += _varint(delta)
            status = status_of[ev.type] | (ev.ch - 1)
            if status != running:
                append(status)
                running = status
            append(ev.note)
            append(ev.vel)
        count += len(evs)
        data += _END_OF_TRACK
        chunks.append(_chunk(b"MTrk", data))
    with open(path, "wb") as f:
        f.write(b"".join(chunks))
    return count


_STATUS = {"note_on": 0x90, "note_off": 0x80, "control_change": 0xB0}
_END_OF_TRACK = b"\x00\xff\x2f\x00"  # delta 0, meta end_of_track


def _chunk(name: bytes, data: bytes | bytearray) -> bytes:
    return name + struct.pack(">L", len(data)) + data


def _varint(value: int) -> bytes:
    """A MIDI variable-length quantity (most significant 7 bits first)."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def render(batch: Batch, seconds: float, out: str, seed: int = 0,
           tempo: float | None = None) -> int:
    """Render to ``out`` (``.mid`` or ``.jsonl``); return the number of MIDI messages."""
    events, bpm = render_events(batch, seconds, seed, tempo)
    if out.endswith(".jsonl"):
        return write_jsonl(events, out)
    if out.endswith(".mid") or out.endswith(".midi"):
        return write_midi(events, out, bpm)
    raise ValueError(f"output must end in .mid or .jsonl, got {out!r}")
