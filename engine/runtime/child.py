"""The engine process's side: open the ports, build the loop and its servers, run it.

:func:`engine_main` is the process's entry point; the parent's side is
:class:`engine.runtime.process.EngineHandle`. Imports of ports and the model happen
inside the functions: the parent imports this module too (to name the target of the
process) and must not load MIDI or JACK libraries for it.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.protocol import PORT_NOT_FOUND, Notice
from engine.runtime.options import EngineOptions, EngineStart

if TYPE_CHECKING:
    from engine.audio.synth import Synth
    from engine.io.audio_base import AudioOut
    from engine.io.midi_base import MidiInPort
    from engine.io.midi_in import MidiInput
    from engine.record.recorder import RecordSwitch
    from engine.record.recording import Recording
    from engine.runtime.hooks import EngineHooks, Pipe
    from engine.runtime.tempo_authority import TempoAuthority, TempoSource

__all__ = ["engine_main"]


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)  # unwinds through Engine.run's finally: silence, drain, close


def engine_main(
    conn: Pipe,
    options: EngineOptions,
    start: EngineStart | None,
    sounding: Any = None,
    synth_factory: Callable[[int], Synth] | None = None,
) -> None:
    """Entry point of the engine process: run until told to quit, then go silent.

    ``start`` None makes a spare: it loads everything, then waits for its
    :class:`EngineStart` on ``conn`` (a restart then skips the interpreter's start-up
    and the imports, most of a second on a busy machine); the pipe closing ends it.
    ``synth_factory(rate)`` makes the audio output's synth (default: the one
    :func:`engine.audio.factory.open_synth` finds; tests hand in their own)."""
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
    if isinstance(midi, NullOut) and midi.missing_port is not None:
        conn.send(Notice(description, "error", PORT_NOT_FOUND))
    else:
        conn.send(Notice(description, level))
    for data in start.silence:  # what a dead engine left sounding, before anything plays
        midi.send_bytes(list(data))
    # Input ports open before logical time starts: a JACK client activating makes the
    # server rearrange its graph, and the cycles it then runs late would be the first notes'.
    in_ports = _open_midi_in(midi.api, options, conn)
    audio = _open_audio(options, start, conn, synth_factory)
    if audio is not None:
        from engine.io.audio_out import MidiAndAudio

        midi = MidiAndAudio(midi, audio)
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
    engine.add_status("audio", lambda: audio.status() if audio is not None else None)
    if options.osc_port:
        _serve_osc(engine, options, conn)
    if start.restore is not None:
        net.restore(start.restore, t=clock.now())
        channels = tuple(net.state.channel_ops())
        if channels:  # the port (and a synth on it) is new: tell it programs, volumes, pans
            from engine.model.events import midi_bytes
            from engine.protocol import Batch

            # Again with the first notes, as the silence is (Engine.preface): what a
            # restarted engine writes on JACK before the dead client is gone may be lost.
            setup = [midi_bytes(ev) for op in channels for ev in op.events(0.0, 0.0)]
            engine.preface((*start.silence, *setup))
            engine.apply(Batch(channels, source="restore"))  # and in the event log
    midi_in = _serve_midi(engine, options, start, in_ports, conn)
    tempo = _serve_tempo(engine, options, start, conn)
    recording = _serve_record(engine, start, conn)
    if replay is not None:
        from engine.record.recording import serve_replay

        since = float(start.restore["t"]) if start.restore is not None else None
        serve_replay(engine, replay, options.speed, since=since)
    if start.initial is not None:
        engine.apply(start.initial, 0.0)
    conn.send(Notice(f"engine up ({priority})"))
    try:
        engine.run()
    finally:
        recording.stop()  # after the engine's silence: the recording ends with it
        tempo.close()  # leave the Link session, close the clock-in port
        if midi_in is not None:
            midi_in.close()


def _open_audio(
    options: EngineOptions,
    start: EngineStart,
    conn: Pipe,
    synth_factory: Callable[[int], Synth] | None,
) -> AudioOut | None:
    """The audio output ``--audio`` asks for, playing a synth; None (and why) if none."""
    if options.audio == "none":
        return None
    from engine.io.audio_out import open_audio_out

    choice = open_audio_out(
        options.audio,
        synth_factory,
        options.latency,
        f"{options.virtual}-audio",
        append=start.resumed,
        reconnect=start.audio_reconnect,
        own_process=True,  # the synth never competes with this loop (engine.io.audio_process)
        soundfont=options.soundfont,
    )
    for level, text in choice.lines:
        conn.send(Notice(text, level))
    return choice.out


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


def _serve_tempo(
    engine: EngineHooks, options: EngineOptions, start: EngineStart, conn: Pipe
) -> TempoAuthority:
    """The tempo authority: the network's own, Link (``--link``) or MIDI clock in."""
    from engine.protocol import ClockIn, Link
    from engine.runtime.tempo_authority import TempoAuthority

    if not start.resumed:  # a restored network says itself
        if options.link:
            engine.net.apply(Link(True))
        if options.clock_in:
            engine.net.apply(ClockIn(options.clock_in))

    def open_source(spec: object) -> TempoSource:
        if isinstance(spec, Link):
            return _open_link(engine, spec, conn)
        assert isinstance(spec, ClockIn)
        return _open_clock_in(engine, options, spec, authority, conn)

    authority = TempoAuthority(open_source, conn.send)
    authority.attach(engine)
    return authority


def _open_link(engine: EngineHooks, spec: object, conn: Pipe) -> TempoSource:
    from engine.io.link import LinkUnavailable, open_link
    from engine.runtime.tempo_authority import LinkSource

    try:
        peer = open_link(engine.net.tempo)
    except LinkUnavailable as exc:
        raise RuntimeError(str(exc)) from None
    source = LinkSource(peer, spec, engine.clock.wall)  # type: ignore[arg-type]
    shared = ", start/stop shared" if source.spec.startstop else ""
    conn.send(Notice(f"Link: in the session (quantum {source.spec.quantum:g}{shared})"))
    return source


def _open_clock_in(
    engine: EngineHooks, options: EngineOptions, spec: object, authority: Any, conn: Pipe
) -> TempoSource:
    from engine.io.midi_base import MidiUnavailable
    from engine.io.midi_clock_in import ClockInSource, open_clock_port

    source = ClockInSource(spec, engine, authority.follow_now)  # type: ignore[arg-type]
    midi = engine.midi
    rate = getattr(midi, "rate", None)

    def frame_time(frame: int) -> float | None:
        frame0 = midi.frame0
        return None if frame0 is None or not rate else (frame - frame0) / rate

    try:
        source.port = open_clock_port(
            midi.api,
            f"{options.virtual}-clock",
            source.spec.port,
            source.push,
            engine.clock.now,
            frame_time,
        )
    except (MidiUnavailable, ImportError, OSError, RuntimeError, ValueError) as exc:
        source.close()
        raise RuntimeError(f"MIDI clock in: {str(exc).strip() or type(exc).__name__}") from None
    conn.send(Notice(f"MIDI clock in: following {source.port.name!r}"))
    return source
