"""An audio output in a process of its own: the synth never competes with the engine loop.

Measured with ``livecode bench --midi-api jack --no-osc --audio jack`` (bench64): with the
synth in the engine process, its audio callback holds the GIL for the whole render (up to
1 ms a block for a numpy synth with 30 voices) and the engine's lateness p99 rose from
0.2 to 1.4 ms. Here the engine only writes 12-byte records into a non-blocking pipe (a few
µs each; a full pipe drops and counts, never waits), and a reader thread in the audio
process hands them to the real output (:mod:`engine.io.jack_audio`,
:mod:`engine.io.device_audio`, :mod:`engine.io.wav_audio`) through its lock-free deque.

The audio process dies with the engine (``PR_SET_PDEATHSIG``): a SIGKILLed engine leaves
no synth playing; its JACK ports vanish with it. When the engine closes the pipe, the
process renders the release tails, closes the output and exits.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import gc
import math
import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from typing import Any

from engine.io.audio_base import RELEASE_WAIT, AudioOut, AudioUnavailable, SynthFactory
from engine.runtime.clock import Clock

__all__ = ["AudioProcess", "audio_main"]

RECORD = struct.Struct("<dB3s")  # logical time (-inf: now), length, bytes of a message
SET_FRAME0 = 0xFF  # a record whose time is the JACK frame of logical 0: play frame-clocked
SET_EPOCH = 0xFE  # a record whose time is the engine clock's epoch: play paced on it
START_SECONDS = 10.0  # how long opening the output may take (a JACK connection, a device)
STATUS_EVERY = 0.25


class AudioFailed(AudioUnavailable):
    """The audio process could open no output; ``lines`` are what it said."""

    def __init__(self, lines: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(text for _, text in lines))
        self.lines = lines


class _Frames:
    """Holds the ``frame0`` a frame-clocked output reads (set from the engine's record)."""

    frame0 = 0


def _die_with_parent() -> None:
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the pipe's end still stops it when the engine exits cleanly


def run() -> None:
    """Entry point of the audio process: its set-up arrives pickled on stdin."""
    records, status_w, spec, options, synth_factory = pickle.loads(sys.stdin.buffer.read())
    audio_main(records, Connection(status_w, readable=False), spec, options, synth_factory)


def audio_main(
    records: int,
    conn: Any,
    spec: str,
    options: dict,
    synth_factory: SynthFactory | None,
) -> None:
    """The audio process: open the output, feed it from the pipe, report its status."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the engine decides when to stop
    # Realtime for this thread and the reader it starts (below the audio callback's 30):
    # a thread preempted by the machine's load while it holds the GIL would make the
    # audio callback wait for it, and the server count an xrun.
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(20))  # type: ignore[attr-defined]
    from engine.io.audio_out import open_audio_out

    choice = open_audio_out(
        spec,
        synth_factory,
        options.get("latency"),
        options.get("client_name", "livecode-audio"),
        append=options.get("append", False),
        soundfont=options.get("soundfont"),
        reconnect=tuple(options.get("reconnect", ())),
    )
    out = choice.out
    conn.send((choice.lines, out.status() if out is not None else None))
    if out is None:
        return
    done = threading.Event()
    reader = threading.Thread(target=_feed, args=(records, out, done), daemon=True)
    reader.start()
    # No automatic collection inside the audio callback (a full one takes milliseconds):
    # young garbage is collected here, between status reports, off the audio thread.
    gc.collect()
    gc.freeze()
    gc.disable()
    while not done.wait(STATUS_EVERY):
        gc.collect(0)
        try:
            conn.send(out.status())
        except (OSError, EOFError):
            break  # the engine is gone: the pipe's end follows
    reader.join(1.0)
    out.close()
    with contextlib.suppress(OSError, EOFError):
        conn.send(out.status())


def _feed(read_fd: int, out: AudioOut, done: threading.Event) -> None:
    """Hand each record from the engine to the output, until the engine closes the pipe."""
    size = RECORD.size
    frames = _Frames()
    clock = Clock(0.0)
    pending = b""
    try:
        while chunk := os.read(read_fd, 4096 * size):
            pending += chunk
            whole = len(pending) // size * size
            for t, n, data in RECORD.iter_unpack(pending[:whole]):
                if n == SET_EPOCH:  # always first: the paced outputs play on it
                    clock = Clock(t)
                    out.attach(clock)
                elif n == SET_FRAME0:
                    frames.frame0 = int(t)
                    out.attach(clock, frames_from=frames)
                elif t == -math.inf:
                    out.send_now(data[:n])
                else:
                    out.send_at(data[:n], t)
            pending = pending[whole:]
    except OSError:
        pass  # the engine died: finish as on a clean end
    finally:
        done.set()


class AudioProcess(AudioOut):
    """The engine's side of an audio output running in its own process."""

    def __init__(
        self,
        spec: str,
        synth_factory: SynthFactory | None = None,
        latency: float | None = None,
        client_name: str = "livecode-audio",
        append: bool = False,
        soundfont: str | None = None,
        reconnect: tuple[str, ...] = (),
    ) -> None:
        # A plain child process, not multiprocessing's: the engine process is a daemon,
        # and those may not have children of their own.
        records, self._fd = os.pipe()
        status_r, status_w = os.pipe()
        options = {
            "latency": latency,
            "client_name": client_name,
            "append": append,
            "soundfont": soundfont,
            "reconnect": reconnect,
        }
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from engine.io.audio_process import run; run()"],
            stdin=subprocess.PIPE,
            pass_fds=(records, status_w),
            env=env,
            preexec_fn=_die_with_parent,
        )
        os.close(records)
        os.close(status_w)
        self._conn = Connection(status_r, writable=False)
        setup = pickle.dumps((records, status_w, spec, options, synth_factory))
        assert self.process.stdin is not None
        self.process.stdin.write(setup)
        self.process.stdin.close()
        os.set_blocking(self._fd, False)
        with contextlib.suppress(OSError, AttributeError):  # room for minutes of notes
            fcntl.fcntl(self._fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
        self.dropped = 0  # records the pipe had no room for (the audio process stalled)
        self._status: dict | None = None
        self.lines: list[tuple[str, str]] = []
        if not self._conn.poll(START_SECONDS):
            self._stop()
            raise AudioUnavailable(f"the audio process did not start within {START_SECONDS} s")
        try:
            self.lines, self._status = self._conn.recv()
        except (EOFError, OSError) as exc:
            self._stop()
            raise AudioUnavailable(f"the audio process failed as it started ({exc})") from exc
        if self._status is None:  # the lines say why
            self._stop()
            raise AudioFailed(self.lines)
        self.kind = self._status["audio"].partition(":")[0]
        self.name = self._status["audio"].partition(":")[2]
        self.rate = self._status["rate"]
        self.period = self._status["period"]
        self.latency = 0.0
        self._ticker: Any = None  # JACK: the frame clock this process reads (JackFrameClock)
        if self.kind == "jack":
            self._start_ticker(client_name, latency)

    def _start_ticker(self, client_name: str, latency: float | None) -> None:
        """JACK audio: the engine plays on JACK's frame clock, read by a port-less client
        here, and the audio process renders each message at its exact frame."""
        from engine.io.jack_audio import JackFrameClock

        try:
            self._ticker = JackFrameClock(f"{client_name}-clock")
        except AudioUnavailable:
            return  # the server went away between the two: paced on the system clock
        self.latency = latency or 2 * self._ticker.period / self._ticker.rate

    def clock(self, epoch: float | None = None) -> Clock | None:
        """JACK audio: JACK's frame clock (see :meth:`_start_ticker`); else None."""
        return self._ticker.clock(epoch) if self._ticker is not None else None

    def _write(self, t: float, n: int, data: bytes) -> None:
        try:
            os.write(self._fd, RECORD.pack(t, n, data))
        except BlockingIOError:
            self.dropped += 1
        except OSError:
            self.dropped += 1  # the audio process is gone; the engine plays on (MIDI)

    def send_at(self, data: list[int] | bytes, t: float) -> None:
        self._write(t, len(data), bytes(data[:3]))

    def send_now(self, data: list[int] | bytes) -> None:
        self._write(-math.inf, len(data), bytes(data[:3]))

    def attach(self, clock: Clock, frames_from: object | None = None) -> None:
        if (
            frames_from is None
            and self._ticker is not None
            and getattr(clock, "out", None) is self._ticker
        ):
            frames_from = self._ticker  # the frame clock of this process's own JACK client
        self._write(clock.epoch, SET_EPOCH, b"\0\0\0")
        frame0 = getattr(frames_from, "frame0", None)
        if frame0 is not None:  # a JACK MIDI port's frame clock: JACK audio plays on it
            self._write(float(frame0), SET_FRAME0, b"\0\0\0")

    def status(self) -> dict:
        try:
            while self._conn.poll(0):
                self._status = self._conn.recv()
        except (EOFError, OSError):
            pass  # the audio process ended: its last word stands
        status = dict(self._status or {})
        status["dropped"] = self.dropped
        status["alive"] = self.process.poll() is None
        status["pid"] = self.process.pid  # livecode bench measures its CPU
        return status

    def pending(self) -> int:
        return 0

    def close(self) -> None:
        """Close the pipe: the audio process renders the release tails and exits."""
        self._close_pipe()
        try:
            self.process.wait(RELEASE_WAIT + 3.0)
        except subprocess.TimeoutExpired:
            pass
        self._stop()
        if self._ticker is not None:
            self._ticker.close()

    def _stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(1.0)
        self._close_pipe()
        self._conn.close()

    def _close_pipe(self) -> None:
        fd, self._fd = self._fd, -1  # never close a number the OS may have reused
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
