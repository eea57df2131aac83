"""The engine in its own process, and the parent's handle on it (start, patch, supervise).

The parent talks to the engine over a ``multiprocessing`` pipe with protocol objects.
The engine mirrors its sounding notes into a shared byte array, so when it dies even by
SIGKILL the parent knows exactly which notes to silence through a fresh port before it
starts a new engine from the last status snapshot.
"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.errors import EngineDown
from engine.protocol import Ack, Batch, Notice, Status

__all__ = ["EngineConfig", "EngineHandle", "engine_main", "EngineDown", "MAX_QUICK_DEATHS"]

# Engines in a row that may die before their first status before the handle gives up
# (a port that crashes the engine as it opens must not spawn processes forever).
MAX_QUICK_DEATHS = 3


@dataclass
class EngineConfig:
    """Everything the engine process needs to start; plain data, so it crosses a spawn."""

    midi_api: str = "auto"
    virtual: str = "livecode"
    port: str | None = None
    tempo: float = 120.0
    seed: int = 0
    events: str | None = None
    seconds: float | None = None  # logical time at which to stop
    osc_port: int = 0
    osc_host: str = "127.0.0.1"
    osc_allow: tuple[str, ...] = ()
    osc_feedback: str | None = None  # "HOST:PORT" to send /fired and parameter echoes to
    status_interval: float = 0.25
    epoch: float | None = None  # perf_counter reading at logical time 0
    restore: dict | None = None  # a status snapshot to rebuild the network from
    initial: Batch | None = None  # applied at logical time 0 (a session given at start)
    append_events: bool = False
    latency: float | None = None  # JACK: seconds ahead of the clock (None: 2 periods; 0: rtmidi)
    silence: tuple = ()  # raw messages a dead engine's notes need, sent first thing on restart
    reconnect: tuple = ()  # ports a dead engine's JACK output was connected to
    midi_in: tuple[str, ...] = ()  # existing input ports to listen to (substring match)
    clock_out: bool = False  # send MIDI clock from the start (the language's clock(True))
    record: str | None = None  # record into this SQLite file (engine.record.recorder)
    replay: str | None = None  # replay this recording into the engine (engine.record.recording)
    speed: float = 1.0  # replay speed


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)  # unwinds through Engine.run's finally: silence, drain, close


def engine_main(conn: Any, config: EngineConfig, sounding: Any = None) -> None:
    """Entry point of the engine process."""
    # Ctrl-C in the terminal reaches the whole process group; the parent decides.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    if hasattr(signal, "SIGHUP"):  # a closed terminal hangs up the whole process group
        signal.signal(signal.SIGHUP, _stop_on_sigterm)
    from engine.io.midi_out import NullOut, open_midi_out
    from engine.model.network import Network
    from engine.record.eventlog import EventLog
    from engine.runtime.clock import ask_for_realtime
    from engine.runtime.loop import Engine, prepare_gc

    priority = ask_for_realtime()
    midi, description = open_midi_out(
        config.midi_api, config.virtual, config.port, config.latency, config.reconnect
    )
    level = "warning" if isinstance(midi, NullOut) and config.midi_api != "none" else "info"
    conn.send(Notice(description, level))
    for data in config.silence:  # what a dead engine left sounding, before anything plays
        midi.send_bytes(list(data))
    net = Network(seed=config.seed, tempo=config.tempo)
    replay = _load_replay(config)
    log = (
        EventLog(config.events, append=config.append_events, background=True)
        if config.events
        else None
    )
    prepare_gc()  # the one full collection, before logical time starts
    # Logical time 0 is now, once the port is open, unless we carry on a dead engine's time.
    clock = midi.clock(config.epoch)  # the port says which clock it plays on (JACK: frames)
    engine = Engine(conn, midi, net, clock, log, sounding, config.status_interval, config.seconds)
    if config.osc_port:
        _serve_osc(engine, config, conn)
    if config.restore is not None:
        net.restore(config.restore, t=clock.now())
    midi_in = _serve_midi(engine, config, conn)
    recording = _serve_record(engine, config, conn)
    if replay is not None:
        from engine.record.recording import serve_replay

        serve_replay(engine, replay, config.speed, resumed=config.restore is not None)
    if config.initial is not None:
        engine.apply(config.initial, 0.0)
    conn.send(Notice(f"engine up ({priority})"))
    try:
        engine.run()
    finally:
        recording.stop()  # after the engine's silence: the recording ends with it
        if midi_in is not None:
            midi_in.close()


def _load_replay(config: EngineConfig) -> Any:
    """The recording to replay, with the clock's epoch set so it starts in a moment."""
    if not config.replay:
        return None
    import time

    from engine.record.recording import load, replay_epoch

    rec = load(config.replay)
    if config.epoch is None:
        config.epoch = replay_epoch(rec, config.speed, time.perf_counter())
    return rec


def _serve_record(engine: Any, config: EngineConfig, conn: Any) -> Any:
    """The recording switch: ``--record`` from the start, ``protocol.Record`` messages later."""
    from engine.protocol import Record
    from engine.record.recorder import RecordSwitch

    switch = RecordSwitch(engine, conn.send)

    def on_record(msg: Record) -> None:
        if msg.path:
            switch.start(msg.path, "resume")
        else:
            switch.stop("stop")

    engine.on_message(Record, on_record)
    if config.record:
        switch.start(config.record, "restart" if config.restore is not None else "start")
    return switch


def _serve_osc(engine: Any, config: EngineConfig, conn: Any) -> None:
    """Open the OSC socket and hand it to the engine's loop; a failure only turns OSC off."""
    from engine.io.osc import OscError, OscServer

    try:
        server = OscServer(
            config.osc_host, config.osc_port, config.osc_allow, config.osc_feedback, tell=conn.send
        )
    except OscError as exc:
        conn.send(Notice(f"OSC is off: {exc} (choose another --osc-port, or 0)", "warning"))
        return
    server.attach(engine)
    conn.send(Notice(server.describe()))


def _serve_midi(engine: Any, config: EngineConfig, conn: Any) -> Any:
    """MIDI inputs (the virtual ``NAME-in`` and ``--midi-in`` ports) and the clock out."""
    from engine.io.midi_in import MidiInput, open_midi_inputs
    from engine.protocol import MidiClock
    from engine.runtime.midi_clock import ClockOut

    ports, lines = open_midi_inputs(engine.midi.api, config.virtual, config.midi_in)
    for level, text in lines:
        conn.send(Notice(text, level))
    server = None
    if ports:
        server = MidiInput(ports, tell=conn.send)
        server.attach(engine)
    if config.clock_out and config.restore is None:  # a restored network says itself
        engine.net.apply(MidiClock(True))
    ClockOut().attach(engine, announce=config.restore is None)
    return server


class EngineHandle:
    """The parent's side: start the engine, send batches, get acks and status, restart it.

    ``on_message`` is called on a reader thread with every :class:`Ack`, :class:`Status`
    and :class:`Notice`, including the handle's own notices about restarts.
    """

    def __init__(
        self,
        config: EngineConfig,
        on_message: Callable[[object], None] | None = None,
        restart: bool = True,
    ) -> None:
        self.config = dataclasses.replace(config)
        self.on_message = on_message or (lambda msg: None)
        self.restart = restart
        self.last_status: dict | None = None
        self.restarts = 0
        self._ctx = mp.get_context("spawn")
        self._process: Any = None
        self._conn: Any = None
        self._sounding: Any = None
        self._reader: threading.Thread | None = None
        self._stopping = False
        self._next_id = 1
        self._acks: dict[int, Ack] = {}
        self._cond = threading.Condition()
        self._unacked: dict[int, Batch] = {}
        self._since_status: list[Batch] = []  # acked after the last snapshot: resent on restart
        self._status_pid: int | None = None  # the engine process that sent the last status
        self._quick_deaths = 0  # engines in a row that died before their first status
        self._send_lock = threading.Lock()
        self._life = threading.Lock()  # stop() and a restart never cross
        self.exited = threading.Event()

    # --- life cycle ----------------------------------------------------------------------

    def start(self) -> None:
        parent, child = self._ctx.Pipe()
        self._sounding = self._ctx.Array("B", 16 * 128, lock=False)
        self._process = self._ctx.Process(
            target=engine_main,
            name="livecode-engine",
            args=(child, self.config, self._sounding),
            daemon=True,
        )
        self._process.start()
        child.close()
        self._conn = parent
        self.exited.clear()
        self._reader = threading.Thread(target=self._read, name="engine-reader", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def stop(self, timeout: float = 3.0) -> None:
        """Ask the engine to finish (silencing every note); kill and rescue if it won't."""
        with self._life:  # a restart in progress finishes first, then is stopped too
            self._stopping = True
        if self._process is None:
            return
        try:
            with self._send_lock:
                self._conn.send("quit")
        except (OSError, EOFError, BrokenPipeError):
            pass  # already gone; the join below and the rescue handle it
        self._process.join(timeout)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(1.0)
            self.rescue()
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(1.0)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the engine to finish by itself (``seconds`` reached); True if it did."""
        return self.exited.wait(timeout)

    # --- patches -------------------------------------------------------------------------

    def send(self, batch: Batch) -> int:
        """Send ``batch`` to be applied at once; return its id (its :class:`Ack` comes later)."""
        with self._send_lock:
            batch = dataclasses.replace(batch, id=self._next_id)
            self._next_id += 1
            self._unacked[batch.id] = batch
            try:
                self._conn.send(batch)
            except (OSError, EOFError, BrokenPipeError) as exc:
                raise EngineDown("the engine is not running; it is being restarted") from exc
        return batch.id

    def record(self, path: str | None) -> None:
        """Record into ``path`` from now on (None: stop); a restarted engine carries on."""
        from engine.protocol import Record

        self.config.record = path
        with self._send_lock:
            try:
                self._conn.send(Record(path))
            except (OSError, EOFError, BrokenPipeError) as exc:
                raise EngineDown("the engine is not running; it is being restarted") from exc

    def request(self, batch: Batch, timeout: float = 2.0) -> Ack:
        """Send ``batch`` and wait for its acknowledgement."""
        batch_id = self.send(batch)
        with self._cond:
            if not self._cond.wait_for(lambda: batch_id in self._acks, timeout):
                raise EngineDown(f"no answer from the engine within {timeout:g} s")
            return self._acks.pop(batch_id)

    # --- the reader thread and the supervisor --------------------------------------------

    def _read(self) -> None:
        conn = self._conn
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                break
            self._note(msg)
            self.on_message(msg)
        self._process.join(1.0)
        if self._stopping or (self.config.seconds is not None and self._process.exitcode == 0):
            self.exited.set()
            return
        self._recover()

    def _note(self, msg: object) -> None:
        if isinstance(msg, Ack):
            batch = self._unacked.pop(msg.id, None)
            if msg.ok and batch is not None:
                self._since_status.append(batch)
            with self._cond:
                self._acks[msg.id] = msg
                self._cond.notify_all()
        elif isinstance(msg, Status):
            self.last_status = msg.data
            self._status_pid = self._process.pid  # this engine ran: its death is not "quick"
            if self.config.epoch is None:
                self.config.epoch = msg.data["epoch"]  # a restart carries on this time
            self._since_status.clear()

    def _recover(self) -> None:
        code = self._process.exitcode
        quick = self.last_status is None or self._status_pid != self._process.pid
        self._quick_deaths = self._quick_deaths + 1 if quick else 0
        if not self.restart or self._quick_deaths > MAX_QUICK_DEATHS:
            why = (
                "" if not self.restart else f", {self._quick_deaths} times before it ran; giving up"
            )
            self.rescue()
            self.on_message(
                Notice(f"engine stopped (exit code {code}){why}; notes silenced", "error")
            )
            self.exited.set()
            return
        self.restarts += 1
        # The new engine silences the dead one's notes through its own port as soon as it
        # is open: no second port to open and close first (on JACK each waits for the
        # server to drop the dead client), and the new process starts at once.
        pending = self.config.silence if quick else ()  # the last one died before sending
        self.config.silence = tuple(dict.fromkeys(pending + self._silence_messages()))
        if self.last_status and self.last_status.get("midi_connections"):
            self.config.reconnect = tuple(self.last_status["midi_connections"])
        self._clear_sounding()
        self.on_message(
            Notice(f"engine died (exit code {code}); restarting, silencing its notes", "error")
        )
        replay = list(self._since_status)
        self.config.restore = self.last_status["snapshot"] if self.last_status else None
        self.config.initial = None if self.last_status else self.config.initial
        self.config.append_events = True
        with self._life:
            if self._stopping:  # stop() came while we were silencing: start nothing
                self.exited.set()
                return
            self.start()
        for batch in replay:  # patches the last snapshot had not seen yet
            self.send(dataclasses.replace(batch, source="restore"))
        self.on_message(Notice("engine restarted; network restored"))

    def _silence_messages(self) -> tuple[tuple[int, int, int], ...]:
        """Note-offs for what a dead engine left sounding, then All Notes Off per channel."""
        sounding = bytes(self._sounding) if self._sounding is not None else bytes(16 * 128)
        out: list[tuple[int, int, int]] = []
        channels = set()
        for cell, on in enumerate(sounding):
            if on:
                ch, note = divmod(cell, 128)
                channels.add(ch)
                out.append((0x80 | ch, note, 0))
        if self.last_status:
            channels.update(ch - 1 for ch, _ in self.last_status.get("sounding", []))
        out += [(0xB0 | ch, 123, 0) for ch in sorted(channels) or range(16)]
        return tuple(out)

    def _clear_sounding(self) -> None:
        if self._sounding is not None:
            for i in range(len(self._sounding)):
                self._sounding[i] = 0

    def rescue(self) -> None:
        """Silence what a dead engine left sounding, through a fresh port."""
        from engine.io.midi_out import open_midi_out

        messages = tuple(dict.fromkeys(self.config.silence + self._silence_messages()))
        out, _ = open_midi_out(
            self.config.midi_api, self.config.virtual, self.config.port, latency=0
        )  # send at once
        for data in messages:
            out.send_bytes(list(data))
        out.close()
        self.config.silence = ()
        self._clear_sounding()
