"""The figures of ``livecode fit`` (README, "Teaching the network"): one line per classic
rhythm of the tests, then every pattern of Hydrogen's demo songs.

``python3 -m tests.livecode.fit_figures`` (needs scipy, mido, and hydrogen-data for the
second part).
"""

from __future__ import annotations

import os
import sys
import tempfile

from livecode.fit import fit_file
from tests.livecode import hydrogen
from tests.livecode.test_fit import CLASSICS, write_groove


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        for name, (beats, bars, voices) in CLASSICS.items():
            path = os.path.join(tmp, f"{name}.mid")
            write_groove(path, beats, bars, voices)
            r = fit_file(path)
            print(
                f"{name:16s} bars {bars} voices {len(r.fit.voices)} neurons "
                f"{len(r.fit.voices) + 1} connections {r.fit.connections} taps {r.fit.taps} "
                f"fit {r.fit.seconds:.2f} s F1 {r.check.f1:.3f}/{r.check_rounded.f1:.3f} "
                f"worst {r.check.worst:.1e}/{r.check_rounded.worst:.1e} s"
            )
    return hydrogen.main()


if __name__ == "__main__":
    sys.exit(main())
