"""The MIDI clock in estimator's figures (README, "Playing with others"):
``python -m tests.engine.clock_in_figures``. Feeds :class:`ClockFollower` 24-PPQN pulses
with uniform arrival jitter, 16 beats at 120 BPM then 16 at 133, and prints the tempo error
two beats after the change, the fit's rms jitter and the beat line's error against the
true pulses."""

from __future__ import annotations

import random
import statistics

from engine.io.midi_clock_in import ClockFollower


def main() -> None:
    for jitter in (0.0005, 0.001, 0.002):
        rnd = random.Random(7)
        f = ClockFollower()
        f.feed(b"\xfa", -0.001)
        t, errors, off = 0.0, [], []
        for bpm in (120.0, 133.0):
            step = 60.0 / bpm / 24
            for k in range(24 * 16):
                f.feed(b"\xf8", t + rnd.uniform(-jitter, jitter))
                if k == 48 and f.tempo:  # two beats after the change
                    errors.append(abs(f.tempo / bpm - 1) * 100)
                line = f.line(t)
                if k > 48 and line is not None:  # the line's beat at a true pulse: k/24
                    off.append(abs(line.beat - round(line.beat * 24) / 24) * line.spb * 1e3)
                t += step
        off.sort()
        print(
            f"jitter ±{jitter * 1e3:.1f} ms: tempo error 2 beats after a change "
            f"{max(errors):.2f} %, fit rms {f.jitter * 1e3:.2f} ms, beat line vs true pulses "
            f"p50/p99/max {statistics.median(off):.2f}/{off[int(0.99 * (len(off) - 1))]:.2f}/"
            f"{off[-1]:.2f} ms"
        )


if __name__ == "__main__":
    main()
