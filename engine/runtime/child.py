"""The engine process's side: open the ports, build the loop and its servers, run it.

:func:`engine_main` is the process's entry point; the parent's side is
:class:`engine.runtime.process.EngineHandle`. Imports of ports and the model happen
inside the functions: the parent imports this module too (to name the target of the
process) and must not load MIDI or JACK libraries for it.
"""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING, Any

from engine.protocol import Notice
from engine.runtime.options import EngineOptions, EngineStart

if TYPE_CHECKING:
    from engine.io.midi_base import MidiInPort
    from engine.io.midi_in import MidiInput
    from engine.record.recorder import RecordSwitch
    from engine.record.recording import Recording
    from engine.runtime.hooks import EngineHooks, Pipe

__all__ = ["engine_main"]


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)  # unwinds through Engine.run's finally: silence, drain, close


def engine_main(
    conn: Pipe, options: EngineOptions, start: EngineStart | None, sounding: Any = None
) -> None:
    """Entry point of the engine process: run until told to quit, then go silent.

    ``start`` None makes a spare: it loads everything, then waits for its
    :class:`EngineStart` on ``conn`` (a restart then skips the interpreter's start-up
    and the imports, most of a second on a busy machine); the pipe closing ends it.
    """
    # Ctrl-C in the terminal reaches the whole process group; the parent decides.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    if hasattr(signal, "SIGHUP"):  # a closed terminal hangs up the whole process group
        signal.signal(signal.SIGHUP, _stop_on_sigterm)
    _preload(options)
    if start is None:
        try:
            start = conn.recv()
        except (EOFError, OSError):
            return  # the parent no longer needs a spare
        if not isinstance(start, EngineStart):
            return
    from engine.io.midi_out import NullOut, open_midi_out
    from engine.model.network import Network
    from engine.record.eventlog import EventLog
    from engine.runtime.clock import ask_for_realtime
    from engine.runtime.loop import Engine, prepare_gc

    priority = ask_for_realtime()
    midi, description = open_midi_out(
        options.midi_api, options.virtual, options.port, options.latency, start.reconnect
    )
    level = "warning" if isinstance(midi, NullOut) and options.midi_api != "none" else "info"
    conn.send(Notice(description, level))
    for data in start.silence:  # what a dead engine left sounding, before anything plays
        midi.send_bytes(list(data))
    # Input ports open before logical time starts: a JACK client activating makes the
    # server rearrange its graph, and the cycles it then runs late would be the first notes'.
    in_ports = _open_midi_in(midi.api, options, conn)
    net = Network(seed=options.seed, tempo=options.tempo)
    replay, epoch = _load_replay(options, start.epoch)
    log = (
        EventLog(options.events, append=start.append_events, background=True)
        if options.events
        else None
    )
    prepare_gc()  # the one full collection, before logical time starts
    # Logical time 0 is now, once the port is open, unless we carry on a dead engine's time.
    clock = midi.clock(epoch)  # the port says which clock it plays on (JACK: its frames)
    engine = Engine(conn, midi, net, clock, log, sounding, options.status_interval, options.seconds)
    engine.preface(start.silence)
    if options.osc_port:
        _serve_osc(engine, options, conn)
    if start.restore is not None:
        net.restore(start.restore, t=clock.now())
    midi_in = _serve_midi(engine, options, start, in_ports, conn)
    recording = _serve_record(engine, start, conn)
    if replay is not None:
        from engine.record.recording import serve_replay

        serve_replay(engine, replay, options.speed, resumed=start.resumed)
    if start.initial is not None:
        engine.apply(start.initial, 0.0)
    conn.send(Notice(f"engine up ({priority})"))
    try:
        engine.run()
    finally:
        recording.stop()  # after the engine's silence: the recording ends with it
        if midi_in is not None:
            midi_in.close()


def _preload(options: EngineOptions) -> None:
    """Import what an engine runs on (a spare does it before it is needed)."""
    import engine.io.midi_in
    import engine.io.midi_out
    import engine.io.osc
    import engine.model.network
    import engine.record.eventlog
    import engine.record.recorder
    import engine.runtime.loop
    import engine.runtime.midi_clock  # noqa: F401

    if options.midi_api in ("jack", "auto"):
        try:
            import engine.io.jack_out  # noqa: F401 - JACK-Client is an optional extra
        except (ImportError, OSError):
            pass


def _load_replay(
    options: EngineOptions, epoch: float | None
) -> tuple[Recording | None, float | None]:
    """The recording to replay and the clock's epoch: one that starts it in a moment,
    unless this engine carries on a dead one's time."""
    if not options.replay:
        return None, epoch
    import time

    from engine.record.recording import load, replay_epoch

    rec = load(options.replay)
    if epoch is None:
        epoch = replay_epoch(rec, options.speed, time.perf_counter())
    return rec, epoch


def _serve_record(engine: EngineHooks, start: EngineStart, conn: Pipe) -> RecordSwitch:
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
    if start.record:
        switch.start(start.record, "restart" if start.resumed else "start")
    return switch


def _serve_osc(engine: EngineHooks, options: EngineOptions, conn: Pipe) -> None:
    """Open the OSC socket and hand it to the engine's loop; a failure only turns OSC off."""
    from engine.io.osc import OscError, open_osc_server

    try:
        server = open_osc_server(
            options.osc_host,
            options.osc_port,
            options.osc_allow,
            options.osc_feedback,
            tell=conn.send,
        )
    except OscError as exc:
        conn.send(Notice(f"OSC is off: {exc} (choose another --osc-port, or 0)", "warning"))
        return
    server.attach(engine)
    conn.send(Notice(server.describe()))


def _open_midi_in(api: str, options: EngineOptions, conn: Pipe) -> list[MidiInPort]:
    """The MIDI input ports (the virtual ``NAME-in`` and ``--midi-in`` ports)."""
    from engine.io.midi_in import open_midi_inputs

    ports, lines = open_midi_inputs(api, options.virtual, options.midi_in)
    for level, text in lines:
        conn.send(Notice(text, level))
    return ports


def _serve_midi(
    engine: EngineHooks,
    options: EngineOptions,
    start: EngineStart,
    ports: list[MidiInPort],
    conn: Pipe,
) -> MidiInput | None:
    """MIDI input from ``ports``, and the clock out."""
    from engine.io.midi_in import MidiInput
    from engine.protocol import MidiClock
    from engine.runtime.midi_clock import ClockOut

    server = None
    if ports:
        server = MidiInput(ports, tell=conn.send)
        server.attach(engine)
    if options.clock_out and not start.resumed:  # a restored network says itself
        engine.net.apply(MidiClock(True))
    ClockOut().attach(engine, announce=not start.resumed)
    return server
