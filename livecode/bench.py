"""``livecode bench``: the standard timing scenario, run in the real engine process.

bench64 (64 neurons, 256 connections) plays for ``seconds``; a patch batch goes
through the pipe every 100 ms; with OSC available, another process sends 1,000 OSC
messages a second. The report gives medians and tails, never a pass/fail: machines
differ, and this one is shared and noisy.
"""

from __future__ import annotations

import bisect
import dataclasses
import json
import math
import multiprocessing
import os
import socket
import statistics
import sys
import tempfile
import time

from engine.protocol import (
    Ack,
    Batch,
    Choose,
    DefineNeuron,
    Listen,
    Markov,
    NoteIn,
    Op,
    SetParam,
    Status,
    Walk,
)
from engine.record.recording import read_jsonl
from engine.runtime.process import EngineHandle, EngineOptions
from livecode.language.sessionfile import load_session
from livecode.shipped import session_path

__all__ = ["run_bench", "format_report", "percentiles", "process_costs"]

BENCH_SESSION = "bench64"  # a shipped session (package data)
PATCH_EVERY = 0.1
OSC_RATE = 1000
HOSTILE_RATE = 3000  # --osc-hostile: garbage datagrams a second (livecode.hostile.datagram)


def percentiles(values: list[float], scale: float = 1e3) -> dict[str, float]:
    """p50, p99 and max of ``values`` (seconds) in milliseconds."""
    if not values:
        return {"p50": 0.0, "p99": 0.0, "max": 0.0}
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]
    return {
        "p50": round(statistics.median(ordered) * scale, 4),
        "p99": round(p99 * scale, 4),
        "max": round(ordered[-1] * scale, 4),
    }


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process ``pid`` (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _render_speed(batch: Batch, seconds: float = 60.0) -> float:
    from engine.render import render_events, write_midi

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        events, bpm = render_events(batch, seconds)
        write_midi(events, os.path.join(tmp, "bench.mid"), bpm)
        return seconds / (time.perf_counter() - start)


# "Frère Jacques" (traditional): the chain the process figures draw from
_TUNE = (60, 62, 64, 60, 60, 62, 64, 60, 64, 65, 67, 64, 65, 67, 69, 67, 65, 64, 60)


def _chain_table(order: int) -> tuple[tuple, tuple]:
    counts: dict[tuple, dict] = {}
    n = len(_TUNE)
    for i in range(n):
        ctx = tuple(_TUNE[(i + j) % n] for j in range(order))
        row = counts.setdefault(ctx, {})
        nxt = _TUNE[(i + order) % n]
        row[nxt] = row.get(nxt, 0) + 1
    return tuple((c, tuple(r.items())) for c, r in counts.items()), _TUNE[:order]


def process_costs(runs: int = 30) -> dict[str, float]:
    """Microseconds one firing takes in the engine's model ("plain": without a process) and
    what each parameter process adds to it (the best of ``runs``, interleaved)."""
    from engine.render import firing_cost

    table, start = _chain_table(2)
    base: tuple[Op, ...] = (
        DefineNeuron("keys", {"rate": 0.0, "mute": True}),
        Listen("keys", 1),
        DefineNeuron("n", {"rate": 0.0, "dur": 0.05}),
    )
    heard = tuple(NoteIn(1, note, 90) for note in _TUNE)  # what the learning chain learns
    setups: dict[str, tuple[Op, ...]] = {
        "plain": base,
        "markov": (*base, Markov("n", "note", 2, table, start)),
        "learning": (*base, Markov("n", "note", 1, src="keys"), *heard),
        "walk": (*base, Walk("n", "rate", 2.0, 6.0, 0.25)),
        "choose": (*base, Choose("n", "vel", (60, 90, 120), (1.0, 2.0, 1.0))),
        "jitter": (*base, SetParam("n", "jitter", 0.01)),
    }
    best = dict.fromkeys(setups, math.inf)
    for _ in range(runs):  # interleaved: a busy moment slows every kind alike
        for kind, setup in setups.items():
            best[kind] = min(best[kind], firing_cost(setup, 3_000))
    plain = best["plain"]
    # an added cost below zero is noise: 0 says "not measurable here"
    return {k: round(max(0.0, v - plain * (k != "plain")) * 1e6, 2) for k, v in best.items()}


class _JackProbe:
    """A JACK client that receives the engine's MIDI and keeps each message's frame."""

    def __init__(self) -> None:
        import jack

        try:
            self.client = jack.Client("livecode-bench-probe", no_start_server=True)
        except jack.JackError as exc:
            raise RuntimeError(
                f"--midi-api jack needs a running JACK server (e.g. jackd -d dummy): {exc}"
            ) from exc
        self.port = self.client.midi_inports.register("in")
        self.rate = self.client.samplerate
        self.period = self.client.blocksize
        self.frames: list[tuple[int, bytes]] = []
        self.client.set_process_callback(self._process)
        self.client.activate()

    def _process(self, frames: int) -> None:
        base = self.client.last_frame_time
        for offset, data in self.port.incoming_midi_events():
            self.frames.append((base + offset, bytes(data)))

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()


def _encode(e: dict) -> bytes:
    status = 0x90 if e["type"] == "note_on" else 0x80
    return bytes([status | (e["ch"] - 1), e["note"], e["vel"]])


def _jack_errors(probe: _JackProbe, logged: list[dict], frame0: int | None) -> dict | None:
    """How far each received message is from the intended frame of the nearest logged
    message with the same bytes, in ms. Matching by content and nearness, not by order,
    keeps one lost or repeated message (a late JACK cycle) from shifting all the others.
    """
    channel = [e for e in logged if e["type"] != "control_change"]
    got = [(f, d) for f, d in probe.frames if d[0] & 0xF0 != 0xB0]
    if not got or not channel:
        return None
    if frame0 is None:  # rtmidi path: no frame of logical 0, align on the first message
        frame0 = got[0][0] - round(channel[0]["t"] * probe.rate)
    intended: dict[bytes, list[int]] = {}
    for e in channel:
        intended.setdefault(_encode(e), []).append(frame0 + round(e["t"] * probe.rate))
    errors = []
    for frame, data in got:
        frames = intended.get(data)
        if not frames:
            continue  # not something the engine logged (another client's message)
        i = bisect.bisect_left(frames, frame)
        near = [frames[k] for k in (i - 1, i) if 0 <= k < len(frames)]
        errors.append(min(abs(frame - f) for f in near) / probe.rate)
    return {"error_ms": percentiles(errors), "period_frames": probe.period}


def run_bench(
    seconds: float = 10.0,
    midi_api: str = "none",
    latency: float | None = None,
    osc: bool = True,
    hostile: bool = False,
    audio: str = "none",
    soundfont: str | None = None,
) -> dict:
    """Run the scenario and return the report (see ``livecode bench --json``).

    ``hostile``: the OSC load is a garbage flood at ``HOSTILE_RATE`` instead (no OSC
    latency then: dropped datagrams leave nothing to time); the report adds the drops.
    With ``audio`` (``--audio``), the engine also plays its synth there: the report adds
    the output's counters (xruns over the run, late messages, synth errors) and, on JACK,
    the time from starting ``livecode play demo`` to its first sound."""
    _, batch = load_session(str(session_path(BENCH_SESSION)))
    render_x = _render_speed(batch)
    probe_neuron = DefineNeuron(PROBE, {"note": 1, "rate": 0.0, "dur": 0.01, "ch": 16})
    batch = dataclasses.replace(batch, ops=batch.ops + (probe_neuron,))
    probe = _JackProbe() if midi_api == "jack" else None
    acks: dict[int, Ack] = {}
    statuses: list[dict] = []

    def on_message(msg: object) -> None:
        if isinstance(msg, Ack):
            acks[msg.id] = msg
        elif isinstance(msg, Status):
            statuses.append(msg.data)

    with tempfile.TemporaryDirectory() as tmp:
        events = os.path.join(tmp, "bench.jsonl")
        osc_port = _free_udp_port() if osc else 0
        options = EngineOptions(
            midi_api=midi_api,
            events=events,
            osc_port=osc_port,
            latency=latency,
            virtual="livecode-bench",
            port=probe.port.name if probe else None,
            audio=audio,
            soundfont=soundfont,
        )
        started = time.perf_counter()
        handle = EngineHandle(options, on_message, restart=False, initial=batch)
        handle.start()
        while not statuses and time.perf_counter() - started < 10:
            time.sleep(0.005)
        if not statuses:
            handle.stop()
            raise RuntimeError("the engine did not start within 10 s")
        pid = handle.pid
        if pid is None:
            handle.stop()
            raise RuntimeError("the engine process ended before the bench began")
        epoch = statuses[0]["epoch"]
        audio_pid = (statuses[-1].get("audio") or {}).get("pid")
        audio_before = _cpu_seconds(audio_pid) if audio_pid else 0.0
        xruns_before = (statuses[-1].get("audio") or {}).get("xruns", 0)
        cpu_before, wall_before = _cpu_seconds(pid), time.perf_counter()
        sent_at: dict[int, float] = {}
        osc_load = _start_osc_load(osc_port, seconds, hostile) if osc_port else None
        k = 0
        end = wall_before + seconds
        while time.perf_counter() < end:
            k += 1
            patch = Batch((SetParam(f"ns_{k % 64}", "vel", 40 + k % 80),), source="bench")
            t_send = time.perf_counter()
            sent_at[handle.send(patch)] = t_send
            time.sleep(max(0.0, PATCH_EVERY - (time.perf_counter() - t_send)))
        took = time.perf_counter() - wall_before
        cpu = (_cpu_seconds(pid) - cpu_before) / took
        audio_cpu = (_cpu_seconds(audio_pid) - audio_before) / took if audio_pid else None
        frame0 = statuses[-1].get("frame0")
        osc_status = statuses[-1].get("osc") or {}
        audio_status = statuses[-1].get("audio")
        if audio_status:  # over the measured run only: starting clients may cost an xrun
            audio_status = dict(audio_status, xruns=audio_status["xruns"] - xruns_before)
            audio_status["cpu_pct"] = round(audio_cpu * 100, 2) if audio_cpu is not None else None
        handle.stop()
        logged = read_jsonl(events)
    # Logical time follows the port's clock (JACK's frames drift from the monotonic
    # clock): the statuses' (t, mono) pairs put the events back on the monotonic clock.
    to_mono = _logical_to_mono(statuses)
    probe_events = [
        {**e, "sent": to_mono(e["sent"]) - epoch} for e in logged if e["neuron"] == PROBE
    ]
    osc_ms = _osc_latencies(osc_load, probe_events, epoch, hostile) if osc_load else None
    if probe is not None:
        time.sleep(0.1)
        probe.close()
    # The probe's notes are the OSC measurement, not part of the network's timing.
    lateness = [e["sent"] - e["t"] for e in logged if e["neuron"] != PROBE]
    # Pipe to applied, on the one clock both processes share (JACK's frame clock drifts).
    applied = [acks[i].wall - t for i, t in sent_at.items() if i in acks and acks[i].ok]
    first = min((e["sent"] for e in logged if e["type"] == "note_on"), default=math.nan)
    report = {
        "lateness_ms": percentiles(lateness),
        "patch_ms": {k: v for k, v in percentiles(applied).items() if k != "max"},
        "osc_ms": osc_ms,
        "engine_cpu_pct": round(cpu * 100, 2),
        "render_x_realtime": round(render_x, 1),
        "first_note_s": round(epoch + first - started, 4),
        "events": len(lateness),
        "jack": _jack_errors(probe, logged, frame0) if probe else None,
        "process_us_per_firing": process_costs(),
        "audio": audio_status,
        "first_sound_s": _first_sound(soundfont) if audio == "jack" else None,
        "clock": _clock_report(statuses),
        "jack_xruns": statuses[-1].get("port_xruns") if statuses and probe else None,
    }
    if hostile:
        report["osc_received"] = osc_status.get("received")
        report["osc_dropped"] = {k: v for k, v in (osc_status.get("dropped") or {}).items() if v}
    return report


def _logical_to_mono(statuses: list[dict]):  # type: ignore[no-untyped-def]
    """A function from logical seconds to monotonic readings, piecewise linear through
    the statuses' ``(t, mono)`` pairs (each taken at one instant by the engine)."""
    pairs = sorted((s["t"], s["mono"]) for s in statuses if "mono" in s)

    def convert(t: float) -> float:
        if len(pairs) < 2:
            return statuses[0]["epoch"] + t if statuses else t
        i = min(max(bisect.bisect_left(pairs, (t,)), 1), len(pairs) - 1)
        (t0, m0), (t1, m1) = pairs[i - 1], pairs[i]
        return m0 + (t - t0) * ((m1 - m0) / (t1 - t0) if t1 > t0 else 1.0)

    return convert


def _clock_report(statuses: list[dict]) -> dict | None:
    """The engine's clock as its statuses reported it: domain, ratio to the monotonic
    clock (min, last, max over the run) and the mapping's error (worst p99 and max, µs)."""
    clocks = [s["clock"] for s in statuses if "clock" in s]
    if not clocks:
        return None
    ratios = [c["ratio"] for c in clocks]
    return {
        "domain": clocks[-1]["domain"],
        "ratio_min": round(min(ratios), 6),
        "ratio_last": round(ratios[-1], 6),
        "ratio_max": round(max(ratios), 6),
        "error_us_p99": round(max(c["error_us"]["p99"] for c in clocks), 2),
        "error_us_max": round(max(c["error_us"]["max"] for c in clocks), 2),
    }


def _first_sound(soundfont: str | None, timeout: float = 20.0) -> float | None:
    """Seconds from starting ``livecode play demo --audio jack`` (a new process, as the
    performer types it) to the first non-zero sample on its JACK audio ports."""
    import subprocess

    import jack

    client = jack.Client("livecode-bench-ears", no_start_server=True)
    ears = [client.inports.register(side) for side in ("left", "right")]
    heard: list[float] = []

    def process(frames: int) -> None:
        if not heard and any(p.get_array().any() for p in ears):
            heard.append(time.perf_counter())

    client.set_process_callback(process)
    client.activate()
    name = "livecode-first"
    command = [sys.executable, "-m", "livecode.cli", "play", "demo", "--seconds", "4"]
    command += ["--midi-api", "none", "--osc-port", "0", "--audio", "jack", "--virtual", name]
    command += ["--soundfont", soundfont] if soundfont else []
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        connected = False
        while not heard and time.perf_counter() - started < timeout and proc.poll() is None:
            if not connected:
                try:  # as soon as its ports exist (the probe, not an auto-connection)
                    for side, port in zip(("left", "right"), ears, strict=True):
                        client.connect(f"{name}-audio:{side}", port)
                    connected = True
                except jack.JackError:
                    pass
            time.sleep(0.001)
    finally:
        proc.terminate()
        proc.wait(10)
        client.deactivate()
        client.close()
    return round(heard[0] - started, 4) if heard else None


PROBE = "probe"  # a silent-rate neuron that only OSC fires: its note-ons time the OSC path
FIRE_EVERY = 10  # one message in ten fires the probe; the rest set parameters


def _osc_datagram(i: int) -> bytes:
    from livecode.oscload import osc_message

    if i % FIRE_EVERY == 0:
        return osc_message(f"/neuron/{PROBE}/fire")
    return osc_message(f"/neuron/ns_{i % 64}/vel", 40 + i % 80)


def _send_osc(port: int, seconds: float, hostile: bool = False) -> list[float]:
    """In another process: the OSC load; returns the send times of the probe's fires."""
    from livecode.oscload import send_load

    if hostile:
        from livecode.hostile import datagram

        return send_load(port, HOSTILE_RATE, seconds, make=datagram)
    sends = send_load(port, OSC_RATE, seconds, make=_osc_datagram)
    return sends[::FIRE_EVERY]


def _start_osc_load(port: int, seconds: float, hostile: bool = False):  # type: ignore[no-untyped-def]
    pool = multiprocessing.get_context("spawn").Pool(1)
    return pool, pool.apply_async(_send_osc, (port, seconds, hostile))


def _osc_latencies(load, logged: list[dict], epoch: float, hostile: bool = False) -> dict | None:  # type: ignore[no-untyped-def]
    from livecode.oscload import fire_latencies

    pool, result = load
    sends = result.get(timeout=60)
    pool.close()
    if hostile:
        return None
    latencies = fire_latencies(sends, logged, PROBE, epoch)
    if not latencies:
        return None
    return percentiles(latencies)


def format_report(report: dict) -> str:
    def ms(d: dict | None) -> str:
        if not d:
            return "n/a"
        return "  ".join(f"{k} {v:.3f} ms" for k, v in d.items())

    lines = [
        f"MIDI messages measured  {report['events']}",
        f"lateness (sent - t)     {ms(report['lateness_ms'])}",
        f"patch (pipe -> applied) {ms(report['patch_ms'])}",
        f"OSC (UDP -> applied)    {ms(report['osc_ms'])}",
        f"engine CPU              {report['engine_cpu_pct']:.1f} % of one core",
        f"offline render          {report['render_x_realtime']:.0f}x real time",
        f"first note              {report['first_note_s']:.3f} s after start",
    ]
    costs = report.get("process_us_per_firing")
    if costs:
        extra = "  ".join(f"{k} +{v:.2f}" for k, v in costs.items() if k != "plain")
        lines.append(f"per firing (model)      {costs['plain']:.2f} us; processes {extra} us")
    if report.get("osc_dropped"):
        drops = ", ".join(f"{k} {v}" for k, v in sorted(report["osc_dropped"].items()))
        lines.append(f"OSC received / dropped  {report['osc_received']} / {drops}")
    audio = report.get("audio")
    if audio:
        lines.append(
            f"audio                   {audio['audio']} ({audio['synth']}, {audio['period']} "
            f"frames at {audio['rate']} Hz): {audio['xruns']} xruns in the run, "
            f"{audio['late']} late, {audio['errors']} synth errors, "
            f"audio process CPU {audio.get('cpu_pct')} % of one core"
        )
    if report.get("first_sound_s") is not None:
        lines.append(
            f"first sound             {report['first_sound_s']:.3f} s after "
            "starting livecode play demo"
        )
    clock = report.get("clock")
    if clock:
        lines.append(
            f"clock ({clock['domain']})  ratio to monotonic {clock['ratio_min']:.4f}.."
            f"{clock['ratio_max']:.4f} (last {clock['ratio_last']:.4f}); mapping error "
            f"p99 {clock['error_us_p99']:.1f} us, max {clock['error_us_max']:.1f} us"
        )
    if report["jack"]:
        lines.append(
            f"JACK frame error        {ms(report['jack']['error_ms'])}  "
            f"(period {report['jack']['period_frames']} frames)"
        )
    if report.get("jack_xruns") is not None:
        lines.append(f"JACK xruns              {report['jack_xruns']} (cycles the graph ran late)")
    return "\n".join(lines)


def main(
    seconds: float,
    as_json: bool,
    midi_api: str,
    latency: float | None,
    osc: bool = True,
    hostile: bool = False,
    audio: str = "none",
    soundfont: str | None = None,
) -> int:
    report = run_bench(seconds, midi_api, latency, osc, hostile, audio, soundfont)
    print(json.dumps(report) if as_json else format_report(report))
    sys.stdout.flush()
    return 0
