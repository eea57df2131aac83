"""Offline rendering: run the model as fast as it goes and write a MIDI file or an event log.

This is the engine's offline entry point; it shares the model with the real-time loop,
so the same session and seed give the same logical events here and live.
"""
from __future__ import annotations

import struct
from collections import defaultdict
from collections.abc import Iterable

import mido
import numpy as np

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
    tracks: dict[int, list[Event]] = defaultdict(list)
    for ev in events:
        tracks[ev.ch].append(ev)
    tempo = mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0)
    chunks = [_chunk(b"MThd", struct.pack(">hhh", 1, len(tracks) + 1, TICKS_PER_BEAT)),
              _chunk(b"MTrk", b"\x00" + bytes(tempo.bytes()) + _END_OF_TRACK)]
    count = 0
    for ch, evs in sorted(tracks.items()):
        who = [name for name in dict.fromkeys([ev.neuron for ev in evs]) if name]
        title = f"ch{ch}: {', '.join(who)}"[:120]
        data = (b"\x00" + bytes(mido.MetaMessage("track_name", name=title, time=0).bytes())
                + _track_events(evs, ch) + _END_OF_TRACK)
        count += len(evs)
        chunks.append(_chunk(b"MTrk", data))
    with open(path, "wb") as f:
        f.write(b"".join(chunks))
    return count


def _track_events(evs: list[Event], ch: int) -> bytes:
    """The channel messages of one track, each with its delta time, with running status.

    Vectorised: the same bytes as mido's ``write_track`` for these messages.
    """
    n = len(evs)
    ticks = np.rint(np.array([ev.beat for ev in evs], np.float64) * TICKS_PER_BEAT)
    delta = np.diff(ticks.astype(np.int64), prepend=0)
    if n and delta.min() < 0:
        raise ValueError("message time must be non-negative in MIDI file")
    code = _STATUS
    status = np.array([code[ev.type] for ev in evs], np.int64) | (ch - 1)
    keep = np.ones(n, np.int64)  # the status byte is left out when it repeats
    keep[1:] = status[1:] != status[:-1]
    vlen = np.ones(n, np.int64)  # bytes of the variable-length delta
    rest = delta >> 7
    while rest.any():
        vlen += rest > 0
        rest >>= 7
    size = vlen + keep + 2
    start = np.cumsum(size) - size
    buf = np.zeros(int(size.sum()), np.uint8)
    for j in range(int(vlen.max(initial=1))):  # most significant 7 bits first
        m = vlen > j
        left = vlen[m] - 1 - j
        buf[start[m] + j] = ((delta[m] >> (7 * left)) & 0x7F) | np.where(left > 0, 0x80, 0)
    pos = start + vlen
    kept = keep.astype(bool)
    buf[pos[kept]] = status[kept]
    pos += keep
    buf[pos] = np.array([ev.note for ev in evs], np.int64)
    buf[pos + 1] = np.array([ev.vel for ev in evs], np.int64)
    return buf.tobytes()


_STATUS = {"note_on": 0x90, "note_off": 0x80, "control_change": 0xB0}
_END_OF_TRACK = b"\x00\xff\x2f\x00"  # delta 0, meta end_of_track


def _chunk(name: bytes, data: bytes | bytearray) -> bytes:
    return name + struct.pack(">L", len(data)) + data


def render(batch: Batch, seconds: float, out: str, seed: int = 0,
           tempo: float | None = None) -> int:
    """Render to ``out`` (``.mid`` or ``.jsonl``); return the number of MIDI messages."""
    events, bpm = render_events(batch, seconds, seed, tempo)
    if out.endswith(".jsonl"):
        return write_jsonl(events, out)
    if out.endswith(".mid") or out.endswith(".midi"):
        return write_midi(events, out, bpm)
    raise ValueError(f"output must end in .mid or .jsonl, got {out!r}")
