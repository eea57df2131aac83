"""The fit's check: run a session's text through the real model and score its onsets.

The text goes through the language's interpreter and the engine's model (the offline
render), exactly as ``livecode render`` plays it; every note-on is matched to the groove's
onsets repeated over ``bars`` bars, by channel, note and velocity, within ``tol`` seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.protocol import Batch
from engine.render import render_events
from livecode.language.interpreter import Interpreter
from livecode.learn.groove import Groove

__all__ = ["Check", "check_text", "rounded"]

TOLERANCE = 0.010  # seconds
BARS = 64


@dataclass(frozen=True)
class Check:
    f1: float
    worst: float  # seconds, over the matched onsets
    expected: int
    played: int
    matched: int
    bars: int

    def __str__(self) -> str:
        return (
            f"onset F1 {self.f1:.3f} at ±{TOLERANCE * 1000:g} ms over {self.bars} bars "
            f"({self.matched} of {self.expected} onsets, {self.played} played), "
            f"worst error {self.worst:.1e} s"
        )


def rounded(text: str, places: int = 3) -> str:
    """``text`` with every decimal number rounded to ``places`` decimals."""
    return re.sub(r"\d+\.\d+(?:[eE][-+]?\d+)?", lambda m: repr(round(float(m[0]), places)), text)


def check_text(text: str, groove: Groove, bars: int = BARS, tol: float = TOLERANCE) -> Check:
    """Play ``text`` for ``bars`` bars through the model; score it against ``groove``."""
    ops = Interpreter().run(text, "<fit>").ops
    end_beat = bars * groove.bar / groove.tpb
    spb = 60.0 / groove.tempo
    events, _bpm = render_events(Batch(ops, source="fit"), end_beat * spb)
    played: dict[tuple[int, int, int], list[float]] = {}
    for e in events:
        if e.type == "note_on" and e.beat < end_beat - 1e-6:
            played.setdefault((e.ch, e.note, e.vel), []).append(e.t)
    expected: dict[tuple[int, int, int], list[float]] = {}
    reps = -(-bars * groove.bar // groove.period)
    for v in groove.voices:
        times = expected.setdefault((v.ch, v.note, v.vel), [])
        for k in range(reps):
            for t in v.onsets:
                beat = (t + k * groove.period) / groove.tpb
                if beat < end_beat - 1e-6:
                    times.append(beat * spb)
    matched, worst = 0, 0.0
    for key, want in expected.items():
        want.sort()
        got = sorted(played.get(key, ()))
        i = j = 0
        while i < len(want) and j < len(got):
            d = got[j] - want[i]
            if abs(d) <= tol:
                matched += 1
                worst = max(worst, abs(d))
                i += 1
                j += 1
            elif d < 0:
                j += 1
            else:
                i += 1
    n_want = sum(len(w) for w in expected.values())
    n_got = sum(len(g) for g in played.values())
    f1 = 2 * matched / (n_want + n_got) if n_want + n_got else 1.0
    return Check(f1, worst, n_want, n_got, matched, bars)
