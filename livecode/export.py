"""``livecode export FILE.sqlite -o OUT``: a recording as .mid, .jsonl, .neu or .txt.

- ``.mid``: the notes as they were played (the recorded messages), one track per channel,
  time in beats, with the tempo changes of the performance.
- ``.jsonl``: every recorded MIDI message, in the ``--events`` format (DESIGN §5).
- ``.wav``: those messages played by the General MIDI synth, 16-bit stereo, from the
  recording's first instant to its last (plus two seconds for the last notes to fade).
- ``.neu``: the network as it stood at the end (replayed through the model), as a session
  file ``livecode`` loads.
- ``.txt``: the code typed, each block with its time, and whether it was applied; file
  reloads, controller changes (OSC, MIDI) and engine restarts as comments.
"""

from __future__ import annotations

import bisect
import datetime
import os

from engine import protocol as P
from engine.protocol import Event
from engine.record.recording import Recording, load, replay_events
from engine.render import AUDIO_RATE, AudioStats, write_audio
from livecode.language.errors import LivecodeError
from livecode.language.interpreter import Interpreter
from livecode.language.mirror import Mirror
from livecode.language.session_text import connect_call, session_text

__all__ = [
    "export",
    "write_events",
    "mirror_from_snapshot",
    "code_text",
    "played_events",
    "EXTENSIONS",
    "write_recording_audio",
]

EXTENSIONS = (".mid", ".jsonl", ".wav", ".neu", ".txt")
TAIL_SECONDS = 2.0  # after a recording's last message: the release of its last notes


def export(path: str, out: str) -> str:
    """Export the recording at ``path`` to ``out``; return a line saying what was written."""
    ext = os.path.splitext(out)[1].lower()
    if ext == ".midi":
        ext = ".mid"
    if ext not in EXTENSIONS:
        raise ValueError(f"output must end in {', '.join(EXTENSIONS)}, got {out!r}")
    rec = load(path)
    if ext == ".wav":
        stats, line = write_recording_audio(rec, out)
        return f"{line}; wrote {stats.seconds:g} s of audio to {out}"
    if ext in (".mid", ".jsonl"):
        count = write_events(rec, out)
        return f"wrote {count} MIDI messages to {out}"
    if ext == ".neu":
        net = replay_events(rec).network
        mirror = mirror_from_snapshot(net.snapshot())
        text = session_text(mirror)
        _check_session(text, path)
        _write(out, text)
        return (
            f"wrote the network at the end ({len(mirror.neurons)} neurons, "
            f"{len(mirror.connections)} connections) to {out}"
        )
    text = code_text(rec)
    _write(out, text)
    return f"wrote {len(rec.blocks)} recorded blocks to {out}"


def _check_session(text: str, path: str) -> None:
    """Refuse to write a ``.neu`` the language would not run as a plain session file.

    The recording was checked when opened; this is the last word: the text is run as a
    stranger's file (no saving, recording, quitting or loading), so whatever a crafted
    recording held, the exported file is only what the language itself writes.
    """
    try:
        Interpreter().run(text, "export.neu", typed=False)
    except LivecodeError as exc:
        raise ValueError(
            f"{path}: its network cannot be written as a session file: {exc.headline()}"
        ) from None


def write_events(rec: Recording, out: str) -> int:
    """Write the events of ``rec`` to ``out`` (.mid or .jsonl); return how many."""
    if out.lower().endswith(".jsonl"):
        from engine.record.recording import EventLog

        log = EventLog(out)
        for seg in rec.segments:
            for ev, sent in zip(seg.events, seg.sent, strict=True):
                log.add(ev, sent)
        log.close()
        return len(rec.events)
    from engine.render import write_midi

    events, tempos = played_events(rec)
    count = write_midi(events, out, tempos[0][1] if tempos else P.DEFAULT_TEMPO)
    if len(tempos) > 1:
        _tempo_track(out, tempos)
    return count


def write_recording_audio(
    rec: Recording, out: str, rate: int = AUDIO_RATE, soundfont: str | None = None
) -> tuple[AudioStats, str]:
    """The recording's MIDI messages through the synth into the WAV file ``out``.

    Each segment starts with the channels' programs, volumes and pans of its snapshot (a
    recording started mid-performance, or a restarted engine, has them there rather than
    as messages).
    Frame 0 is the recording's first instant.
    """
    events: list[Event] = []
    for seg in rec.segments:
        for op in Mirror.from_snapshot(seg.snapshot).channel_ops():
            events += op.events(seg.t0, 0.0)
        events += seg.events
    end = max((seg.last_time() for seg in rec.segments), default=rec.t0)
    return write_audio(events, end - rec.t0 + TAIL_SECONDS, out, rate, soundfont, start=rec.t0)


def _write(out: str, text: str) -> None:
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)


def mirror_from_snapshot(snap: dict) -> Mirror:
    """The performer's picture of a network snapshot (``Network.snapshot()``)."""
    return Mirror.from_snapshot(snap)


def played_events(rec: Recording) -> tuple[list[Event], list[tuple[float, float]]]:
    """The recorded events with beats made monotonic, and the tempo map ``[(beat, bpm)]``.

    An engine that restarted resumes at the beat of the last status (up to a quarter of a
    second back): its segment is moved on so no event goes back in time.
    """
    events: list[Event] = []
    tempos: list[tuple[float, float]] = []
    offset = 0.0
    last = 0.0
    for seg in rec.segments:
        first = seg.events[0].beat if seg.events else float(seg.snapshot.get("beat", 0.0))
        offset = max(0.0, last - first) if events else 0.0
        tempos.append(
            (
                float(seg.snapshot.get("beat", 0.0)) + offset,
                float(seg.snapshot.get("tempo", P.DEFAULT_TEMPO)),
            )
        )
        for ev in seg.events:
            events.append(
                Event(ev.t, ev.beat + offset, ev.type, ev.neuron, ev.ch, ev.note, ev.vel)
                if offset
                else ev
            )
        anchor = (seg.t0, float(seg.snapshot.get("beat", 0.0)))
        current = float(seg.snapshot.get("tempo", P.DEFAULT_TEMPO))
        for block in seg.blocks:
            bpm = next((op.bpm for op in reversed(block.ops) if isinstance(op, P.Tempo)), None)
            if block.ok and bpm is not None:
                beat = _beat_at(seg, block.t, anchor, current)
                anchor, current = (block.t, beat), float(bpm)
                tempos.append((beat + offset, current))
        if events:
            last = events[-1].beat
    tempos.sort(key=lambda tb: tb[0])
    return events, tempos


def _beat_at(seg, t: float, anchor: tuple[float, float], bpm: float) -> float:  # type: ignore[no-untyped-def]
    """The beat at logical ``t`` in ``seg``: from the last event at or before ``t``, or from
    ``anchor`` (time, beat of the last tempo change) if that is later, at ``bpm``."""
    times = [ev.t for ev in seg.events]
    i = bisect.bisect_right(times, t)
    at, beat = anchor
    if i and seg.events[i - 1].t >= at:
        at, beat = seg.events[i - 1].t, seg.events[i - 1].beat
    return beat + (t - at) * bpm / 60.0


def _tempo_track(path: str, tempos: list[tuple[float, float]]) -> None:
    """Replace the single tempo of a written file with the performance's tempo changes."""
    import mido

    from engine.render import TICKS_PER_BEAT

    mid = mido.MidiFile(path)
    track = mido.MidiTrack()
    tick = 0
    for beat, bpm in tempos:
        at = max(tick, round(beat * TICKS_PER_BEAT))
        track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=at - tick))
        tick = at
    mid.tracks[0] = track
    mid.save(path)


def _clock(seg, wall: float) -> str:  # type: ignore[no-untyped-def]
    when = datetime.datetime.fromtimestamp(seg.unix0 + wall)
    return when.strftime("%H:%M:%S.%f")[:-3]


def code_text(rec: Recording) -> str:
    """The code typed, with timestamps: ``# [clock] t=seconds, source`` above each block."""
    lines = [f"# livecode recording {os.path.basename(rec.path)}"]
    if rec.segments:
        start = datetime.datetime.fromtimestamp(rec.segments[0].unix0 + rec.t0)
        lines.append(f"# started {start.isoformat(sep=' ', timespec='seconds')}")
    for seg in rec.segments:
        if seg.kind != "start":
            what = "engine restarted" if seg.kind == "restart" else "recording resumed"
            lines += ["", f"# [{_clock(seg, seg.t0)}] t={seg.t0:.3f} s: {what}"]
        for b in seg.blocks:
            head = f"# [{_clock(seg, b.wall)}] t={b.t:.3f} s, {b.source}"
            if b.source in ("repl", "file") and b.text:
                status = "" if b.ok else ", refused: " + b.error.strip().splitlines()[0]
                body = b.text.rstrip("\n")
                if not b.ok:
                    body = "\n".join("# " + line for line in body.splitlines())
                lines += ["", head + status, body]
            else:
                what = "; ".join(_op_text(op) for op in b.ops[:8])
                more = f" (+{len(b.ops) - 8})" if len(b.ops) > 8 else ""
                status = "" if b.ok else f", refused: {b.error}"
                lines += ["", f"{head}{status}: {what}{more}"]
    return "\n".join(lines) + "\n"


def _op_text(op: object) -> str:
    if isinstance(op, P.SetParam):
        return f"{op.name}.{op.param} = {op.value!r}"
    if isinstance(op, P.Tempo):
        return f"tempo({op.bpm:g})"
    if isinstance(op, P.Fire):
        return f"fire({op.name})"
    if isinstance(op, P.Connect):
        return connect_call(op.src, op.dst, op.w, op.delay, op.kind)
    fields = ", ".join(f"{v!r}" for v in vars(op).values())
    return f"{type(op).__name__}({fields})"
