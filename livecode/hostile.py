"""The hostile inputs of the figures: the worst blocks per class, and a garbage OSC flood.

``python -m livecode.hostile`` refuses the worst block of each class and prints the CPU
time and the peak memory (Python allocations, ``tracemalloc``) it took;
``livecode bench --osc-hostile`` sends :func:`datagram` at 3,000 a second while bench64
plays and reports the notes' lateness. Nothing here is used while performing.
"""

from __future__ import annotations

import argparse
import os
import random
import struct
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence

from livecode.language.errors import LivecodeError
from livecode.language.interpreter import Interpreter
from livecode.language.sessionfile import file_reader

__all__ = ["PROGRAMS", "datagram", "refusal_figures", "main"]

SETUP = "n1 = neuron(36)\nxs = [1, 2, 3]\n"

# The worst block found for each class (issue 14), each refused by one budget or another;
# and the costliest that every budget lets through, for scale.
PROGRAMS: dict[str, str] = {
    "nesting: the issue's 2 KB line (1,000 terms)": "x = 1" + "+1" * 1000,
    "nesting: 1+1+... (100,000 terms)": "x = 1" + "+1" * 99_990,
    "nesting: not not ... (50,000)": "x = " + "not " * 49_990 + "1",
    "nesting: attribute chain (40,000)": "x = n1" + ".rate" * 39_990,
    "nesting: chained conditionals (16,000)": "x = " + "1 if 1 else " * 16_000 + "1",
    "cpu: `in` over a nested tuple in a generator": (
        "t = tuple(tuple(range(300)) for i in range(300))\nbig = (t,) * 10\n"
        "x = [(t in big) for i in range(9000)]"
    ),
    "cpu: == on two large distinct lists": (
        "a = [list(range(100)) for i in range(999)]\nb = [list(range(100)) for i in range(999)]\n"
        "for i in range(8000):\n    c = a == b"
    ),
    "cpu: sorted() of nested lists in a loop": (
        "a = [list(range(100)) for i in range(999)]\nfor i in range(9000):\n    b = sorted(a)"
    ),
    "cpu: the costliest block allowed (runs)": "for i in range(9999):\n    x = ["
    + "i, " * 26
    + "i]",
    "literal: 190,000-digit hex int": "x = 0x" + "f" * 190_000,
    "literal: 190,000-character string": "x = '" + "a" * 190_000 + "'",
    "source: 199,000 characters of dense code": "x = 1\n" * 33_000,
    "load: a 190 KB file, in a loop": 'for i in range(9999):\n    load("big.neu")',
    "load: a 190 KB file that loads itself": 'load("self.neu")',
}


def refusal_figures(programs: dict[str, str] | None = None) -> list[dict]:
    """For each program: refused?, the message, CPU seconds and peak MiB allocated."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "big.neu"), "w") as f:
            f.write("# pad\n" * 31_000 + "x = 1\n")
        with open(os.path.join(tmp, "self.neu"), "w") as f:
            f.write("x = 1\n" * 31_000 + 'load("self.neu")\n')
        for name, source in (programs or PROGRAMS).items():
            row: dict = {"class": name, "chars": len(source)}
            for measure in ("time", "memory"):
                it = Interpreter(read_file=file_reader(tmp))
                it.run(SETUP)
                if measure == "memory":
                    tracemalloc.start()
                start = time.process_time()
                refused = None
                try:
                    it.run(source)
                except LivecodeError as exc:
                    refused = exc.message
                if measure == "time":  # tracemalloc slows the run: only its memory counts
                    row["cpu_s"] = round(time.process_time() - start, 3)
                    row["refused"] = refused
                else:
                    row["peak_mib"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
                    tracemalloc.stop()
            out.append(row)
    return out


# --- the OSC flood ----------------------------------------------------------------------------


def _pad(b: bytes) -> bytes:
    return b + b"\0" * (4 - len(b) % 4)


def _msg(address: str, tags: str = ",", data: bytes = b"") -> bytes:
    return _pad(address.encode()) + _pad(tags.encode()) + data


def _bundle(unix: float, *elements: bytes) -> bytes:
    secs = int(unix) + 2_208_988_800 if unix else 0
    stamp = struct.pack(">II", secs, 1 if not unix else 0)
    return b"#bundle\0" + stamp + b"".join(struct.pack(">i", len(e)) + e for e in elements)


def _patterns(i: int, n: int) -> list[bytes]:
    return [
        _msg(f"/neuron/ns_{(i + k) % 64}*/{{vel,thr,rate}}", ",f", struct.pack(">f", 0.5))
        for k in range(n)
    ]


def datagram(i: int, rng: random.Random | None = None) -> bytes:
    """The ``i``-th datagram of the garbage flood: every kind the issue named, mixed."""
    rng = rng or random.Random(i)
    kind = i % 20
    if kind == 0:  # a 64 KB bundle of distinct pattern addresses
        return _bundle(0, *_patterns(i, 1400))
    if kind == 1:  # far-future bundles of patterns
        return _bundle(time.time() + 500, *_patterns(i, 100))
    if kind == 2:  # a float whose bytes are missing
        return _msg("/tempo", ",f")
    if kind == 3:  # bundles nested past the limit
        inner = _msg("/neuron/ns_1/vel", ",i", struct.pack(">i", 9))
        for _ in range(12):
            inner = _bundle(0, inner)
        return inner
    if kind in (4, 5):  # wrong types, NaN
        if kind == 4:
            return _msg("/neuron/ns_2/vel", ",s", _pad(b"loud"))
        return _msg("/neuron/ns_2/vel", ",f", struct.pack(">f", float("nan")))
    if kind == 6:  # an unknown address
        return _msg(f"/neuron/nobody_{i}/vel", ",i", struct.pack(">i", 1))
    if kind == 7:  # a new pattern each time
        return _patterns(i, 1)[0]
    return rng.randbytes(rng.randrange(1, 300))  # plain garbage


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m livecode.hostile",
        description="time and peak memory to refuse the worst block of each class",
    )
    p.parse_args(argv)
    print(f"{'class':48} {'chars':>8} {'CPU s':>7} {'peak MiB':>9}  refused by")
    for row in refusal_figures():
        why = (row["refused"] or "accepted: within every budget")[:60]
        print(
            f"{row['class']:48} {row['chars']:>8,} {row['cpu_s']:>7.3f} "
            f"{row['peak_mib']:>9.1f}  {why}"
        )
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
