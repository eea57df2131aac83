"""The devices the JACK tests play with, each in a process of its own, as a synth or a
drum machine is: a MIDI receiver that stamps what arrives with its frame, and a MIDI
clock that sends 24-PPQN pulses at exact frames.

Why a process each: a JACK callback written in Python needs its process's GIL every
cycle. In the test process that GIL is also held by the test, pytest and the threads
earlier tests left behind; on a busy machine such a holder is preempted and the
callback runs cycles late, and a late JACK 2 client reads the next cycle's frame and
loses the buffer of the cycle it missed: the instrument, not the engine, failed. Here
the callback is the only thread that runs Python, but for the command reader, which
sleeps on a pipe.

A device writes each message it sends or receives as one record to a file the test
reads (``<frame, perf_counter seconds, bytes>``); commands go down its stdin, one JSON
line each. ``python -m tests.jack_devices KIND SERVER NAME RECORDS`` runs one.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque

__all__ = ["MidiReceiver", "ClockSender"]

_HEAD = struct.Struct("<qdB")  # frame, perf_counter seconds, length of the bytes
LAG_CYCLES = 4  # cycles a receiver's wall-clock stamp takes the earliest wake-up of


class _Device:
    """The test's side of a device process: its facts, its records, its commands."""

    kind = ""

    def __init__(self, server_name: str, name: str, *args: str) -> None:
        fd, self._path = tempfile.mkstemp(prefix=f"lc-{self.kind}-", suffix=".rec")
        os.close(fd)
        self._file = open(self._path, "rb")  # noqa: SIM115 - read as it grows, closed in close()
        self._buffer = b""
        self._records: list[tuple[int, float, bytes]] = []
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.jack_devices", self.kind, server_name, name, self._path]
            + list(args),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        )
        assert self.proc.stdout is not None
        hello = self.proc.stdout.readline()
        if not hello:
            self.proc.wait(10)
            raise RuntimeError(
                f"the {self.kind} device did not start (exit {self.proc.returncode})"
            )
        facts = json.loads(hello)
        self.rate: int = facts["rate"]
        self.period: int = facts["period"]
        self.port_name: str = facts["port"]

    def records(self) -> list[tuple[int, float, bytes]]:
        """Every record so far: (frame, perf_counter seconds, bytes)."""
        with self._lock:
            self._buffer += self._file.read()
            buf, at = self._buffer, 0
            while len(buf) - at >= _HEAD.size:
                frame, stamp, n = _HEAD.unpack_from(buf, at)
                if len(buf) - at < _HEAD.size + n:
                    break  # the rest of this record is still being written
                start = at + _HEAD.size
                self._records.append((frame, stamp, buf[start : start + n]))
                at = start + n
            self._buffer = buf[at:]
            return list(self._records)

    def command(self, **cmd: object) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        assert self.proc.stdout is not None
        if self.proc.stdout.readline() != "ok\n":  # done in the device before we go on
            raise RuntimeError(f"the {self.kind} device refused {cmd}")

    def close(self) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()  # end of commands: the device deactivates and leaves
            except BrokenPipeError:
                pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._file.close()
        os.unlink(self._path)


class MidiReceiver(_Device):
    """A JACK client with one MIDI input port that stamps each message with its frame."""

    kind = "receiver"

    def __init__(self, server: object, name: str = "lcrecv") -> None:
        super().__init__(server.name, name)  # type: ignore[attr-defined]

    def received(self) -> list[tuple[float, bytes]]:
        """Messages so far as (``perf_counter`` seconds, bytes)."""
        return [(stamp, data) for _, stamp, data in self.records()]

    def received_frames(self) -> list[tuple[int, bytes]]:
        """Messages so far as (JACK frame, bytes): exact, in the server's own clock."""
        return [(frame, data) for frame, _, data in self.records()]

    def connect(self, source: str) -> None:
        """Connect the output port ``source`` to this receiver."""
        self.command(connect=source)

    def stall(self, seconds: float) -> None:
        """Hold the next cycle this long: the server reports an xrun to every client."""
        self.command(stall=seconds)


class ClockSender(_Device):
    """A JACK client that writes MIDI clock pulses at exact frames, and transport messages
    just before the next pulse."""

    kind = "clock"

    def __init__(self, server: object, bpm: float, name: str = "lcclock") -> None:
        super().__init__(server.name, name, str(bpm))  # type: ignore[attr-defined]

    @property
    def pulses(self) -> list[int]:
        """Frames of the pulses written so far."""
        return [frame for frame, _, data in self.records() if data == b"\xf8"]

    @property
    def sent(self) -> list[tuple[int, bytes]]:
        """The transport messages written so far, with their frames."""
        return [(frame, data) for frame, _, data in self.records() if data != b"\xf8"]

    def before_next_pulse(self, *messages: bytes) -> None:
        self.command(before=[m.hex() for m in messages])

    def set_bpm(self, bpm: float) -> None:
        self.command(bpm=bpm)


# --- the device process --------------------------------------------------------------------


class _Player:
    """In the device process: one JACK client, its records, its commands."""

    def __init__(self, kind: str, server: str, name: str, path: str, args: list[str]) -> None:
        import jack

        self.kind = kind
        self.out = os.open(path, os.O_WRONLY | os.O_APPEND)
        self.client = jack.Client(name, servername=server, no_start_server=True)
        if kind == "receiver":
            self.port = self.client.midi_inports.register("in")
        else:
            self.port = self.client.midi_outports.register("out")
        self.lock = threading.Lock()
        self.bpm = float(args[0]) if args else 120.0
        self.next: float | None = None  # frame of the next pulse
        self.before: list[bytes] = []
        self.stall = 0.0  # seconds the next cycle holds (a late client, on purpose)
        self.prioritised = False
        self.lags: deque[float] = deque(maxlen=LAG_CYCLES)  # wake-up minus frame time, s
        self.client.set_process_callback(self.receive if kind == "receiver" else self.pulse)
        self.client.activate()

    def record(self, frame: int, stamp: float, data: bytes) -> None:
        os.write(self.out, _HEAD.pack(frame, stamp, len(data)) + data)

    def _first(self) -> None:
        if not self.prioritised:
            self.prioritised = True
            from engine.io.jack_out import raise_priority

            raise_priority(40)  # a late device loses the cycle's messages

    def receive(self, frames: int) -> None:
        self._first()
        # Two stamps: the frame (exact, in the server's own clock) and the monotonic clock
        # the engine uses. The dummy driver's frames fall behind the monotonic clock when
        # it stalls (it does not catch up), so a wall-clock contract (Link's beat) is
        # measured on the second: when this cycle began, as the earliest wake-up of the
        # last few cycles (a wake-up also waits for the clients before this one; JACK's
        # own cycle times are smoothed and glide over a stall for seconds).
        now = time.perf_counter()
        base = self.client.last_frame_time
        rate = self.client.samplerate
        self.lags.append(now - base / rate)
        now = base / rate + min(self.lags)
        for offset, data in self.port.incoming_midi_events():
            self.record(base + offset, now + offset / rate, bytes(data))
        if self.stall:
            time.sleep(self.stall)
            self.stall = 0.0

    def pulse(self, frames: int) -> None:
        self._first()
        self.port.clear_buffer()
        start = self.client.last_frame_time
        rate = self.client.samplerate
        with self.lock:
            if self.next is None:
                self.next = float(start)
            while self.next < start + frames:
                frame = min(start + frames - 1, max(start, round(self.next)))
                for data in self.before:
                    self.port.write_midi_event(frame - start, data)
                    self.record(frame, 0.0, data)
                self.before.clear()
                self.port.write_midi_event(frame - start, b"\xf8")
                self.record(frame, 0.0, b"\xf8")
                self.next += rate * 60.0 / self.bpm / 24

    def obey(self, cmd: dict) -> None:
        if "connect" in cmd:
            self.client.connect(cmd["connect"], self.port)
        with self.lock:
            if "stall" in cmd:
                self.stall = float(cmd["stall"])
            if "bpm" in cmd:
                self.bpm = float(cmd["bpm"])
            if "before" in cmd:
                self.before += [bytes.fromhex(h) for h in cmd["before"]]

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()
        os.close(self.out)


def main(argv: list[str]) -> None:
    from engine.io.jack_out import raise_priority

    kind, server, name, path, *args = argv
    raise_priority(10)  # this thread holds the GIL only to obey a command: never preempted then
    player = _Player(kind, server, name, path, args)
    print(
        json.dumps(
            {
                "rate": player.client.samplerate,
                "period": player.client.blocksize,
                "port": player.port.name,
            }
        ),
        flush=True,
    )
    try:
        for line in sys.stdin:
            player.obey(json.loads(line))
            print("ok", flush=True)
    finally:
        player.close()


if __name__ == "__main__":
    main(sys.argv[1:])
