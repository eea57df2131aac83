"""The parent's handle on the engine process: start it, patch it, supervise it.

The parent talks to the engine over a ``multiprocessing`` pipe with protocol objects.
The engine mirrors its sounding notes into a shared byte array, so when it dies even by
SIGKILL the parent knows exactly which notes to silence through a fresh port before it
starts a new engine from the last status snapshot. The engine's own side is
:mod:`engine.runtime.child`; what a start is given, :mod:`engine.runtime.options`.
"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import sys
import threading
from collections.abc import Callable
from typing import Any

from engine.errors import EngineDown
from engine.faults import FaultLog
from engine.protocol import Ack, Batch, Notice, Status
from engine.runtime.child import engine_main
from engine.runtime.options import CHANNELS_USED, SOUNDING_CELLS, EngineOptions, EngineStart

__all__ = [
    "EngineOptions",
    "EngineStart",
    "EngineHandle",
    "engine_main",
    "EngineDown",
    "MAX_QUICK_DEATHS",
    "list_ports",
    "list_audio",
    "prepare_audio",
]


def list_ports() -> dict[str, dict[str, list[str]] | str]:
    """For each MIDI API: its output and input ports, or why it is unavailable (``livecode ports``)."""
    from engine.io.rtmidi_ports import list_ports as find

    return find()


def list_audio() -> dict[str, list[str] | str]:
    """Where audio can go: JACK playback ports and sound devices (``livecode ports``)."""
    from engine.io.audio_out import list_audio as find

    return find()


def prepare_audio(spec: str) -> str:
    """``--audio`` checked on the performer's side before an engine starts (ValueError)."""
    from engine.io.audio_out import prepare_audio as check

    return check(spec)


# Engines in a row that may die before their first status before the handle gives up
# (a port that crashes the engine as it opens must not spawn processes forever).
MAX_QUICK_DEATHS = 3


class EngineHandle:
    """The parent's side: start the engine, send batches, get acks and status, restart it.

    ``on_message`` is called on a reader thread with every :class:`Ack`, :class:`Status`
    and :class:`Notice`, including the handle's own notices about restarts. An exception
    it raises is reported once as an error :class:`Notice` (through ``on_message``) and
    the handle carries on: a bug in a display must not stop the supervisor.
    ``initial`` is applied at logical time 0 by the first engine (a session given at start).
    """

    def __init__(
        self,
        options: EngineOptions,
        on_message: Callable[[object], None] | None = None,
        restart: bool = True,
        initial: Batch | None = None,
    ) -> None:
        self.options = options
        self.on_message = on_message or (lambda msg: None)
        self.restart = restart
        # The supervisor's state, from which each start's EngineStart is built.
        self._epoch: float | None = None  # logical time 0, once the first engine said it
        self._restore: dict | None = None
        self._initial = initial
        self._append_events = False
        self._silence: tuple[tuple[int, int, int], ...] = ()
        self._reconnect: tuple[str, ...] = ()
        self._audio_reconnect: tuple[str, ...] = ()
        self._recording = options.record
        self._faults = FaultLog()  # exceptions raised by on_message
        self.last_status: dict | None = None
        self.restarts = 0
        self._ctx = mp.get_context("spawn")
        self._process: Any = None
        self._conn: Any = None
        self._sounding: Any = None
        # A spare engine process, started and loaded, waiting for its EngineStart: a
        # restart hands it the network instead of starting an interpreter.
        self._spare: tuple[Any, Any, Any] | None = None  # (process, conn, sounding)
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
        spare, self._spare = self._spare, None
        if spare is not None and spare[0].is_alive():
            process, parent, sounding = spare
            try:
                parent.send(self.start_state())
            except (OSError, EOFError, BrokenPipeError):
                spare = None  # it died just now: start one the usual way
        else:
            spare = None
        if spare is None:
            process, parent, sounding = self._spawn(self.start_state())
        self._process, self._conn, self._sounding = process, parent, sounding
        self.exited.clear()
        self._reader = threading.Thread(target=self._read, name="engine-reader", daemon=True)
        self._reader.start()

    def _spawn(self, start: EngineStart | None) -> tuple[Any, Any, Any]:
        """A new engine process (``start`` None: a spare); its process, pipe end, notes."""
        parent, child = self._ctx.Pipe()
        sounding = self._ctx.Array("B", SOUNDING_CELLS, lock=False)
        process = self._ctx.Process(
            target=engine_main,
            name="livecode-engine",
            args=(child, self.options, start, sounding),
            daemon=True,
        )
        process.start()
        child.close()
        return process, parent, sounding

    def _ready_spare(self) -> None:
        """Have a spare waiting (once an engine runs, so the first start is not slowed)."""
        if self.restart and not self._stopping and self._spare is None:
            self._spare = self._spawn(None)

    def _drop_spare(self) -> None:
        spare, self._spare = self._spare, None
        if spare is not None:
            process, parent, _ = spare
            parent.close()  # its recv() ends: it returns
            process.join(1.0)
            if process.is_alive():
                process.kill()
                process.join(1.0)

    def start_state(self) -> EngineStart:
        """What the next engine start is given besides the options."""
        return EngineStart(
            epoch=self._epoch,
            restore=self._restore,
            initial=self._initial,
            append_events=self._append_events,
            silence=self._silence,
            reconnect=self._reconnect,
            audio_reconnect=self._audio_reconnect,
            record=self._recording,
        )

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def stop(self, timeout: float = 3.0) -> None:
        """Ask the engine to finish (silencing every note); kill and rescue if it won't."""
        with self._life:  # a restart in progress finishes first, then is stopped too
            self._stopping = True
            self._drop_spare()
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

        self._recording = path
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
            self._deliver(msg)
        self._process.join(1.0)
        if self._stopping or (self.options.seconds is not None and self._process.exitcode == 0):
            with self._life:
                self._drop_spare()  # the session is over: no engine will need it
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
            if self._status_pid != self._process.pid:
                with self._life:
                    self._ready_spare()
            self._status_pid = self._process.pid  # this engine ran: its death is not "quick"
            if self._epoch is None:
                self._epoch = msg.data["epoch"]  # a restart carries on this time
            self._since_status.clear()

    def _deliver(self, msg: object) -> None:
        """Hand ``msg`` to ``on_message``; an exception there becomes one error notice."""
        try:
            self.on_message(msg)
        except Exception as exc:  # noqa: BLE001 - any bug in a callback; the supervisor goes on
            self._report_fault(msg, exc)

    @property
    def callback_errors(self) -> int:
        """Exceptions raised by ``on_message``, all counted."""
        return self._faults.count

    def _report_fault(self, msg: object, exc: Exception) -> None:
        text = self._faults.report(
            f"the {type(msg).__name__.lower()} callback", exc, "the engine plays on"
        )
        if text is None:
            return  # said once already; a status callback would repeat it 4 times a second
        try:
            self.on_message(Notice(text, "error"))
        except Exception:  # noqa: BLE001 - notices fail too: the terminal is the last resort
            print(f"livecode: {text}", file=sys.stderr, flush=True)

    def _recover(self) -> None:
        code = self._process.exitcode
        quick = self.last_status is None or self._status_pid != self._process.pid
        self._quick_deaths = self._quick_deaths + 1 if quick else 0
        if not self.restart or self._quick_deaths > MAX_QUICK_DEATHS:
            why = (
                "" if not self.restart else f", {self._quick_deaths} times before it ran; giving up"
            )
            self.rescue()
            self._deliver(
                Notice(f"engine stopped (exit code {code}){why}; notes silenced", "error")
            )
            with self._life:
                self._drop_spare()
            self.exited.set()
            return
        self.restarts += 1
        # The new engine silences the dead one's notes through its own port as soon as it
        # is open: no second port to open and close first (on JACK each waits for the
        # server to drop the dead client), and the new process starts at once.
        pending = self._silence if quick else ()  # the last one died before sending
        self._silence = tuple(dict.fromkeys(pending + self._silence_messages()))
        if self.last_status and self.last_status.get("midi_connections"):
            self._reconnect = tuple(self.last_status["midi_connections"])
        audio = (self.last_status or {}).get("audio") or {}
        if audio.get("connections"):  # a restarted engine's sound goes where it went
            self._audio_reconnect = tuple(audio["connections"])
        self._clear_sounding()
        self._deliver(
            Notice(f"engine died (exit code {code}); restarting, silencing its notes", "error")
        )
        replay = list(self._since_status)
        self._restore = self.last_status["snapshot"] if self.last_status else None
        self._initial = None if self.last_status else self._initial
        self._append_events = True
        with self._life:
            if self._stopping:  # stop() came while we were silencing: start nothing
                self.exited.set()
                return
            self.start()
        for batch in replay:  # patches the last snapshot had not seen yet
            self.send(dataclasses.replace(batch, source="restore"))
        self._deliver(Notice("engine restarted; network restored"))

    def _silence_messages(self) -> tuple[tuple[int, int, int], ...]:
        """Note-offs for what a dead engine left sounding, then All Notes Off per channel."""
        sounding = bytes(self._sounding) if self._sounding is not None else bytes(SOUNDING_CELLS)
        out: list[tuple[int, int, int]] = []
        channels = {ch for ch in range(16) if sounding[CHANNELS_USED + ch]}
        for cell, on in enumerate(sounding[:CHANNELS_USED]):
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

        messages = tuple(dict.fromkeys(self._silence + self._silence_messages()))
        out, _ = open_midi_out(
            self.options.midi_api, self.options.virtual, self.options.port, latency=0
        )  # send at once
        for data in messages:
            out.send_bytes(list(data))
        out.close()
        self._silence = ()
        self._clear_sounding()
