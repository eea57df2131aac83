"""Shared fixtures: a real JACK server (dummy driver) and a JACK MIDI receiver."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest

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
    """

    def __init__(self, rate: int = 48000, period: int = 64, realtime: bool | None = None) -> None:
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


class MidiReceiver:
    """A JACK client with one MIDI input port that stamps each message with its frame time."""

    def __init__(self, server: JackServer, name: str = "lcrecv") -> None:
        import jack

        self.client = jack.Client(name, servername=server.name, no_start_server=True)
        self.port = self.client.midi_inports.register("in")
        self.rate = self.client.samplerate
        self.period = self.client.blocksize
        self.messages: list[tuple[int, float, bytes]] = []  # (frame, perf_counter s, bytes)
        self._lock = threading.Lock()
        self._prioritised = False
        self.client.set_process_callback(self._process)
        self.client.activate()

    def _process(self, frames: int) -> None:
        if not self._prioritised:
            self._prioritised = True
            try:  # a late receiver loses the cycle's messages; the engine runs SCHED_FIFO
                os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(40))
            except (AttributeError, OSError):
                pass  # not allowed here: the receiver then competes at normal priority
        # The dummy driver's frame clock drifts against the system clock (0.1-0.2 % seen),
        # and so does JACK's time estimate; stamp with the monotonic clock the engine
        # uses, at the start of the cycle, plus the frame offset.
        now = time.perf_counter()
        base = self.client.last_frame_time
        for offset, data in self.port.incoming_midi_events():
            with self._lock:
                self.messages.append((base + offset, now + offset / self.rate, bytes(data)))

    @property
    def port_name(self) -> str:
        return self.port.name

    def received(self) -> list[tuple[float, bytes]]:
        """Messages so far as (``perf_counter`` seconds, bytes)."""
        with self._lock:
            return [(stamp, data) for _, stamp, data in self.messages]

    def received_frames(self) -> list[tuple[int, bytes]]:
        """Messages so far as (JACK frame, bytes): exact, in the server's own clock."""
        with self._lock:
            return [(frame, data) for frame, _, data in self.messages]

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()


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
    """A realtime JACK dummy server (``jackd -R``, period 256), as a performer runs one:
    for audio tests, where a stalled cycle loses sound whatever the engine does."""
    yield from _serve(monkeypatch, period=256, realtime=True)


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


# A test that plays through a JACK dummy server on this 2-core machine can lose a cycle to
# the server's own scheduling (seen on the base code too: about one run in three of the
# JACK files had one such failure; with issue 13's clock work merged, a quiet CI run still
# had 3 such failures in 788). Until issue 13 is closed, such a test gets two more tries;
# a failure that repeats is still a failure, and no assertion is loosened. Nothing else
# is rerun.
_JACK_FIXTURES = {"jack_server", "rt_jack_server", "rt_audio_jack_server"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _JACK_FIXTURES & set(getattr(item, "fixturenames", ())) or item.get_closest_marker(
            "timing"
        ):
            item.add_marker(pytest.mark.flaky(reruns=2))
