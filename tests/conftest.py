"""Shared fixtures: a real JACK server (dummy driver) and a JACK MIDI receiver."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid

import pytest

from tests.jack_devices import MidiReceiver

REQUIRE_JACK = os.environ.get("LIVECODE_REQUIRE_JACK") == "1"


def _need_jack() -> None:
    if shutil.which("jackd") is None:
        if REQUIRE_JACK:
            pytest.fail("jackd is missing but LIVECODE_REQUIRE_JACK=1")
        pytest.skip("jackd is not installed")
    try:
        import jack  # noqa: F401
    except (ImportError, OSError) as exc:
        if REQUIRE_JACK:
            pytest.fail(f"JACK-Client is unusable but LIVECODE_REQUIRE_JACK=1: {exc}")
        pytest.skip(f"JACK-Client unusable: {exc}")


def _die_with_parent() -> None:
    """In the child: SIGTERM when the test process dies, so a killed run leaves no jackd
    (JACK allows only a handful of servers at once)."""
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the fixture's teardown still stops it


def _may_run_realtime() -> bool:
    """True where this process may ask for SCHED_FIFO (root, as CI is, or an rtprio limit)."""
    try:
        import resource

        return os.geteuid() == 0 or resource.getrlimit(resource.RLIMIT_RTPRIO)[0] > 0
    except (ImportError, AttributeError, OSError):
        return False


class JackServer:
    """A ``jackd -d dummy`` server with a unique name, for one test.

    ``realtime`` (default: where allowed) runs it as performers do, ``jackd -R``: on a
    busy machine a non-realtime dummy server's cycles come late and its frame clock
    falls behind the wall (66-98 % of wall time was seen), which is the server's stall,
    not the engine's. A test about that drift asks for ``realtime=False``.

    The period is 256 frames (5.3 ms at 48 kHz), as performers run one. On this kind of
    machine even a SCHED_FIFO thread now and then wakes up to 5 ms late (a virtual CPU
    descheduled); at 64 frames (1.3 ms) that made the graph miss a cycle (an xrun) two
    or three times a second on a quiet machine, and a late JACK 2 client loses the
    buffer of the cycle it missed. Frames are exact at any period, so no test's
    tolerance depends on it.
    """

    def __init__(
        self,
        rate: int = 48000,
        period: int = 256,
        realtime: bool | None = None,
    ) -> None:
        self.name = f"lctest-{uuid.uuid4().hex[:8]}"
        self.rate = rate
        self.period = period
        self.realtime = _may_run_realtime() if realtime is None else realtime
        self.log = open(f"/tmp/{self.name}.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                "jackd",
                "-n",
                self.name,
                *(["-R", "-P", "70"] if self.realtime else ["--no-realtime"]),
                "-d",
                "dummy",
                "-r",
                str(rate),
                "-p",
                str(period),
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        import jack

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jackd exited: {open(self.log.name).read()}")
            try:
                client = jack.Client("lctest-probe", servername=self.name, no_start_server=True)
            except jack.JackError:
                time.sleep(0.05)
                continue
            client.close()
            return
        raise RuntimeError("jackd did not start within 10 s")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)  # on a loaded machine jackd waits 5 s per stuck client
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            _free_registry_slot(self.name, self.proc.pid)
        self.log.close()


def _free_registry_slot(name: str, pid: int) -> None:
    """Free a killed server's slot in JACK's shared registry, as jackd does itself only
    for a new server of the same name: JACK allows 8 servers, and every one killed
    without unregistering (SIGKILL) would hold a slot until the machine reboots."""
    import struct

    entry, first, slots = 264, 24, 8  # jack_shm_server_t {pid_t; char name[257]}, JACK 2
    try:
        with open("/dev/shm/jack-shm-registry", "r+b") as f:
            for i in range(slots):
                f.seek(first + i * entry)
                raw = f.read(entry)
                if struct.unpack_from("<i", raw)[0] == pid and f":{name}:".encode() in raw:
                    f.seek(first + i * entry)
                    f.write(bytes(entry))
    except (OSError, struct.error):
        pass  # not JACK 2's registry here: nothing to free


def _serve(monkeypatch, **kwargs):  # type: ignore[no-untyped-def]
    """Start a JackServer for one test; its JACK clients and its children use it."""
    _need_jack()
    server = JackServer(**kwargs)
    monkeypatch.setenv("JACK_DEFAULT_SERVER", server.name)
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    try:
        with realtime_here(server.realtime, server.period / server.rate):
            yield server
    finally:
        server.stop()


@contextlib.contextmanager
def realtime_here(on: bool, period: float):  # type: ignore[no-untyped-def]
    """This test process, for one test on a realtime JACK server, as an engine runs: the
    main thread (and the threads it starts) SCHED_FIFO 10, below every JACK callback, and
    the GIL handed over within a quarter period. The test's own JACK clients (a clock
    sender, a receiver) need this process's GIL each cycle; held by a normal thread that
    two busy loops preempt, or for Python's default 5 ms, they ran cycles late, and a late
    JACK 2 client reads the next cycle's frame and loses the buffer of the one it missed."""
    interval = sys.getswitchinterval()
    before = (os.sched_getscheduler(0), os.sched_getparam(0)) if on else None
    try:
        if on:
            sys.setswitchinterval(min(interval, period / 4))
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        pass  # not allowed here: the test runs at normal priority
    try:
        yield
    finally:
        sys.setswitchinterval(interval)
        if before is not None:
            try:
                os.sched_setscheduler(0, *before)  # type: ignore[attr-defined]
            except (AttributeError, OSError):
                pass


@pytest.fixture
def jack_server(monkeypatch):
    """A running JACK dummy server; JACK clients of this test and its children use it."""
    yield from _serve(monkeypatch)


@pytest.fixture
def rt_jack_server(monkeypatch):
    """As ``jack_server``, with realtime priority (``jackd -R``; CI is root): for tests that
    compare clocks, which a non-realtime dummy server's stalls would skew."""
    yield from _serve(monkeypatch, realtime=True)


@pytest.fixture
def rt_audio_jack_server(monkeypatch):
    """A realtime JACK dummy server (``jackd -R``): for audio tests, where a stalled
    cycle loses sound whatever the engine does."""
    yield from _serve(monkeypatch, realtime=True)


@pytest.fixture
def rt_midi_receiver(rt_jack_server):
    receiver = MidiReceiver(rt_jack_server)
    try:
        yield receiver
    finally:
        receiver.close()


@pytest.fixture
def midi_receiver(jack_server):
    receiver = MidiReceiver(jack_server)
    try:
        yield receiver
    finally:
        receiver.close()
