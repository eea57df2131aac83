"""Save-to-sound latency of ``--watch``: ``python3 -m livecode.watchbench [--saves N]``.

Runs ``livecode play FILE --watch`` on a private ``jackd -d dummy`` server, with a JACK
client as the synth. Each save changes the file three ways an editor does (a new file
renamed over the old one, truncate-and-write in place, vim's backup-and-rewrite dance);
the save adds a neuron that fires 0.0001 beat after it is made, on a note of its own, so
the time from the moment the new text is complete in the file (the close, or the rename)
to that note's arrival at the synth's port is what the watcher, the interpreter, the pipe
and the engine add. Prints p50 / p90 / max per
style (``--json``: every value; ``--poll``: the fallback without inotify). Needs jackd and JACK-Client (``pip install -e '.[jack]'``).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

__all__ = ["main", "SAVE_STYLES"]

BASE = "tempo(120)\nbeat = neuron(36, rate=1, dur=0.1, ch=10)\n"
PERIOD = 0.5  # seconds between a probe neuron's firings (rate 1 at 120 bpm)


class _Save(NamedTuple):
    style: str
    neuron: str
    note: int
    begun: float  # perf_counter when the save started
    saved: float  # ... when its text was complete in the file
    heard: float  # ... when the synth received the probe's first note


# Each save returns the moment its new text was complete in the file (perf_counter).


def _rename(path: Path, text: str) -> float:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return time.perf_counter()


def _in_place(path: Path, text: str) -> float:
    with open(path, "w") as f:
        f.write(text)
    return time.perf_counter()


def _vim(path: Path, text: str) -> float:
    probe = path.with_name("4913")
    probe.write_text("")
    probe.unlink()
    backup = path.with_name(path.name + "~")
    os.replace(path, backup)
    with open(path, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    done = time.perf_counter()
    backup.unlink()  # the watcher may already have applied the save by now
    return done


SAVE_STYLES: dict[str, Callable[[Path, str], float]] = {
    "rename": _rename,
    "in-place": _in_place,
    "vim": _vim,
}


class _Synth:
    """A JACK client standing in for the synth: the arrival time of every note-on."""

    def __init__(self, server: str) -> None:
        import jack

        self.client = jack.Client("lcwatch", servername=server, no_start_server=True)
        self.port = self.client.midi_inports.register("in")
        self.rate = self.client.samplerate
        self.notes: list[tuple[float, int]] = []
        self._lock = threading.Lock()
        self.client.set_process_callback(self._process)
        self.client.activate()

    def _process(self, frames: int) -> None:
        now = time.perf_counter()  # the engine's clock; the cycle start plus the offset
        for offset, data in self.port.incoming_midi_events():
            raw = bytes(data)
            if len(raw) == 3 and raw[0] & 0xF0 == 0x90 and raw[2]:
                with self._lock:
                    self.notes.append((now + offset / self.rate, raw[1]))

    def first(self, note: int, after: float) -> float | None:
        with self._lock:
            return next((t for t, n in self.notes if n == note and t >= after), None)

    def count(self, note: int, start: float, end: float) -> int:
        with self._lock:
            return sum(n == note and start <= t < end for t, n in self.notes)

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()


def _start_jackd(name: str, period: int, log) -> subprocess.Popen:
    import jack

    proc = subprocess.Popen(
        ["jackd", "-n", name, "--no-realtime", "-d", "dummy", "-r", "48000", "-p", str(period)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            jack.Client("lcwatch-probe", servername=name, no_start_server=True).close()
            return proc
        except jack.JackError:
            time.sleep(0.05)
    proc.terminate()
    raise RuntimeError("jackd did not start within 10 s")


def _wait(check: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.002)
    raise RuntimeError(f"gave up waiting for {what}")


def measure(saves: int, say: Callable[[str], None], period: int = 256) -> dict:
    """``saves`` saves of each style; {style: [latency ms, ...]}."""
    name = f"lcwatch-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "JACK_DEFAULT_SERVER": name}
    os.environ["JACK_DEFAULT_SERVER"] = name
    with tempfile.TemporaryDirectory() as tmp, open(Path(tmp) / "jackd.log", "w") as log:
        jackd = _start_jackd(name, period, log)
        synth = _Synth(name)
        path = Path(tmp) / "set.neu"
        path.write_text(BASE)
        play = subprocess.Popen(
            [sys.executable, "-m", "livecode.cli", "play", str(path), "--watch"]
            + ["--midi-api", "jack", "--port", "lcwatch", "--osc-port", "0"]
            + ["--events", str(Path(tmp) / "events.jsonl")],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(Path(tmp) / "play.log", "w"),  # noqa: SIM115
        )
        done: list[_Save] = []
        try:
            _wait(lambda: synth.first(36, 0.0), 30, "the engine's first note")
            k = 0
            for style, save in SAVE_STYLES.items():
                for _ in range(saves):
                    k += 1
                    note = 40 + k % 80
                    if note == 36:  # the beat's own note
                        note += 1
                    begun = time.perf_counter()
                    saved = save(path, BASE + f"p{k} = neuron({note}, phase=0.9999, dur=0.05)\n")
                    heard = _wait(functools.partial(synth.first, note, begun), 10, "the note")
                    assert isinstance(heard, float)
                    done.append(_Save(style, f"p{k}", note, begun, saved, heard))
                    # editors do not save 10 times a second; a random pause keeps the
                    # saves from locking to the poll's phase (LIVECODE_WATCH=poll)
                    time.sleep(0.15 + 0.1 * random.random())
        finally:
            play.terminate()
            play.wait(10)
            synth.close()
            jackd.terminate()
            jackd.wait(10)
        logged = _logged(Path(tmp) / "events.jsonl")
    results: dict[str, list[float]] = {}
    lost: dict[str, int] = {}
    for i, s in enumerate(done):
        # A first note the engine sent on time but the synth's client missed (a JACK
        # cycle lost on this busy, non-realtime dummy server) is heard one firing later;
        # the probe's firings are exact, so count from the one that was lost.
        end = done[i + 1].begun if i + 1 < len(done) else float("inf")
        missed = max(0, logged.get(s.neuron, 0) - synth.count(s.note, s.begun, end))
        lost[s.style] = lost.get(s.style, 0) + missed
        results.setdefault(s.style, []).append((s.heard - s.saved - missed * PERIOD) * 1000)
    for style, values in results.items():
        say(f"{style}: {_summary(values)}; {lost[style]} first notes lost on the way")
    return results


def _logged(path: Path) -> dict[str, int]:
    """Note-ons per neuron in the engine's event log."""
    counts: dict[str, int] = {}
    for line in path.read_text().splitlines():
        if line.endswith("}"):
            e = json.loads(line)
            if e["type"] == "note_on":
                counts[e["neuron"]] = counts.get(e["neuron"], 0) + 1
    return counts


def _summary(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return (
        f"p50 {statistics.median(ordered):.1f} ms, p90 {p90:.1f} ms, max {ordered[-1]:.1f} ms"
        f" ({len(ordered)} saves)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m livecode.watchbench", description=__doc__)
    parser.add_argument("--saves", type=int, default=40, help="saves of each style")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--period",
        type=int,
        default=256,
        help="JACK frames per period at 48 kHz (256, 5.3 ms, as for live use; the engine "
        "runs two periods ahead, so this adds ~11 ms)",
    )
    parser.add_argument(
        "--poll", action="store_true", help="measure the polling fallback (LIVECODE_WATCH=poll)"
    )
    args = parser.parse_args(argv)
    if args.poll:
        os.environ["LIVECODE_WATCH"] = "poll"
    results = measure(args.saves, (lambda text: None) if args.json else print, args.period)
    if args.json:
        print(json.dumps({k: sorted(v) for k, v in results.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
