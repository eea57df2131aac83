"""Running the engine from the command line without a REPL (``play``, ``replay``)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

from engine.protocol import PORT_NOT_FOUND, Ack, Batch, Notice
from engine.runtime.process import EngineHandle, EngineOptions

__all__ = ["run_until_done", "STOP_SIGNALS", "NOTHING_PLAYED", "played_somewhere"]

NOTHING_PLAYED = 3  # exit code: no MIDI port and no audio output could open

# Ctrl-C, a kill, and a closed terminal all end a run with every note off.
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def played_somewhere(options: EngineOptions, status: dict | None) -> bool:
    """True if the engine had an output to play into (a MIDI port or an audio output), or
    the performer turned both off on purpose (``--midi-api none --audio none``)."""
    if options.midi_api == "none" and options.audio == "none":
        return True
    if status is None:
        return True  # ended before its first status: nothing to judge by
    return not str(status.get("midi", "none:")).startswith("none:") or bool(status.get("audio"))


def run_until_done(
    options: EngineOptions,
    say: Callable[[str], None],
    companion: Callable[[EngineHandle], Any] | None = None,
    initial: Batch | None = None,
) -> int:
    """Run the engine until its ``seconds`` are up or a stop signal; 1 if a batch was refused
    or the MIDI port asked for is not there (the run then stops at once),
    :data:`NOTHING_PLAYED` if no output could play (see :func:`played_somewhere`).

    ``companion(handle)`` may return something with ``start()``/``stop()`` (a file
    watcher) that runs alongside the engine; ``initial`` is applied at logical time 0.
    """
    failures: list[str] = []
    stop = threading.Event()

    def on_message(msg: object) -> None:
        if isinstance(msg, Notice):
            say(msg.text)
            if msg.code == PORT_NOT_FOUND:  # nothing would be heard: say so, and stop
                failures.append(msg.text)
                say("stopping: nothing would be heard")
                stop.set()
        elif isinstance(msg, Ack) and not msg.ok:
            failures.append(msg.error)
            say(f"refused: {msg.error}")

    handle = EngineHandle(options, on_message, initial=initial)
    extra = companion(handle) if companion is not None else None
    old = {s: signal.signal(s, lambda signum, frame: stop.set()) for s in STOP_SIGNALS}
    try:
        handle.start()
        if extra is not None:
            extra.start()
        while not stop.is_set() and not handle.exited.is_set():
            stop.wait(0.1)
    finally:
        if extra is not None:
            extra.stop()
        handle.stop()
        for s, h in old.items():
            signal.signal(s, h)
    if not played_somewhere(options, handle.last_status):
        say("nothing could play: neither MIDI nor audio opened (see the lines above)")
        return NOTHING_PLAYED
    return 1 if failures else 0
