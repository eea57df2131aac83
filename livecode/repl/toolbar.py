"""What the performer sees of the engine: the bottom toolbar and the live activity line.

:class:`Monitor` receives every message the engine handle reports (on its reader
thread), keeps what the toolbar shows, and hands lines meant for the performer to a
``say`` callable (the REPL prints them above the prompt). :meth:`Monitor.toolbar` is
the ``bottom_toolbar`` callable of the prompt; it only reads plain attributes, so it
is cheap enough to run four times a second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from engine.protocol import Ack, Notice, Status
from livecode.repl.faults import Faults

if TYPE_CHECKING:
    from prompt_toolkit.formatted_text import StyleAndTextTuples

__all__ = ["Monitor", "ACTIVITY_SECONDS", "PANIC_KEY_NAME"]

# A neuron stays on the activity line this long after it last fired.
ACTIVITY_SECONDS = 1.0
PANIC_KEY_NAME = "F12"


class Monitor:
    """The engine's state as the REPL shows it; fed by ``EngineHandle.on_message``.

    ``engine`` is anything with ``alive()`` and ``restarts`` (an ``EngineHandle``);
    ``osc_port`` 0 means OSC is off.
    """

    def __init__(
        self,
        say: Callable[[str], None],
        osc_port: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.say = say
        self.osc_port = osc_port
        self.clock = clock
        self.engine: object = None
        self.status: dict = {}
        self.last_refusal = ""
        self.fired_at: dict[str, float] = {}
        self.started = False  # set when the engine says it is up
        self._lock = threading.Lock()
        self.faults = Faults(self.refused)  # what the barriers below caught

    # --- input ---------------------------------------------------------------------------

    def on_message(self, msg: object) -> None:
        """Called on the engine handle's reader thread with every Ack, Status and Notice.

        The REPL's fault barrier for engine messages: a bug in handling one is said
        (once) and the next message is handled as usual; the engine never notices.
        """
        try:
            if isinstance(msg, Status):
                self.on_status(msg)
            elif isinstance(msg, Ack):
                self.on_ack(msg)
            elif isinstance(msg, Notice):
                self.on_notice(msg)
        except Exception as exc:  # noqa: BLE001 - the fault barrier (see the docstring)
            where = f"in the REPL's handler of engine messages ({type(msg).__name__})"
            self.faults(where, exc, "the engine plays on")

    def on_status(self, msg: Status) -> None:
        now = self.clock()
        with self._lock:
            self.status = msg.data
            for name in msg.data.get("fired", ()):
                self.fired_at[name] = now

    def on_ack(self, msg: Ack) -> None:
        if not msg.ok:
            self.refused(f"engine refused a block: {msg.error}")

    def on_notice(self, msg: Notice) -> None:
        if msg.text.startswith("engine up"):
            self.started = True
        elif msg.text.startswith("engine died"):
            self.started = False  # "restarting" until the new one says it is up
        prefix = {"warning": "warning: ", "error": "error: "}.get(msg.level, "")
        self.say(f"[engine] {prefix}{msg.text}")

    def refused(self, text: str, show: bool = True) -> None:
        """Remember ``text`` as the last refusal (first line only); print it if ``show``."""
        self.last_refusal = text.splitlines()[0] if text else ""
        if show:
            self.say(text)

    def accepted(self) -> None:
        """A later block or save went through: the last refusal is old news."""
        self.last_refusal = ""

    def activations(self) -> dict:
        """The live activations of the last status (for ``ls()``)."""
        return dict(self.status.get("activations", {}))

    def drawn(self) -> dict:
        """What the engine's parameter processes are at and learned (for ``ls()``)."""
        return dict(self.status.get("drawn", {}))

    # --- output --------------------------------------------------------------------------

    def active(self) -> list[str]:
        """Neurons that fired in the last :data:`ACTIVITY_SECONDS`, in network order."""
        cutoff = self.clock() - ACTIVITY_SECONDS
        with self._lock:
            recent = {n for n, t in self.fired_at.items() if t >= cutoff}
            order = list(self.status.get("activations", {}))
        return [n for n in order if n in recent] + sorted(recent.difference(order))

    def engine_state(self) -> str:
        engine = self.engine
        if engine is None:
            return "engine off"
        restarts = getattr(engine, "restarts", 0)
        if not engine.alive():  # type: ignore[attr-defined]
            return "engine DOWN, restarting"
        if not self.started:
            return "engine restarting" if restarts else "engine starting"
        return f"engine up (restarted {restarts}x)" if restarts else "engine up"

    def toolbar_line(self) -> str:
        s = self.status
        parts = [
            self.engine_state(),
            f"midi {s.get('midi', '?')}",
            self.audio_part(),
            f"osc :{self.osc_port}" if self.osc_port else "osc off",
        ]
        if s:
            parts += [
                f"{s.get('tempo', 0):g} bpm" + ("" if s.get("running", True) else " (stopped)"),
                *sync_part(s.get("sync")),
                f"{s.get('neurons', 0)} neurons",
                f"{s.get('events_per_s', 0.0):.0f} ev/s",
                f"late {s.get('late_ms_max', 0.0):.1f} ms",
            ]
        if self.last_refusal:
            parts.append(f"refused: {self.last_refusal[:60]}")
        return " | ".join(parts)

    def audio_part(self) -> str:
        """Where the built-in synth plays (``jack:livecode-audio``), and its trouble if any."""
        audio = self.status.get("audio") if self.status else None
        if not audio:
            return "audio off" if self.status else "audio ?"
        where = str(audio.get("audio", "?")).split(" -> ")[0].split(":left")[0]
        trouble = [f"{audio[k]} {k}" for k in ("xruns", "dropped", "errors") if audio.get(k)]
        if audio.get("alive") is False:
            trouble.append("DOWN")
        return f"audio {where}" + (f" ({', '.join(trouble)})" if trouble else "")

    def activity_line(self) -> str:
        names = self.active()
        return "fired: " + (" ".join(names) if names else "-")

    def toolbar(self) -> StyleAndTextTuples:
        """``bottom_toolbar`` for prompt_toolkit: activity, state, and the keys to know.

        The toolbar's fault barrier: prompt_toolkit ends the prompt on an exception
        here, so a bug shows a short line instead (and is said once).
        """
        keys = f"{PANIC_KEY_NAME}/Alt-P panic | Alt-Enter run all | Ctrl-D quit | help()"
        try:
            lines = [
                ("class:toolbar.activity", self.activity_line() + "\n"),
                ("class:toolbar", self.toolbar_line() + "\n"),
            ]
        except Exception as exc:  # noqa: BLE001 - the fault barrier (see the docstring)
            self.faults("in the toolbar", exc, "the engine plays on")
            lines = [("class:toolbar", "toolbar unavailable: internal error (said above)\n")]
        return [*lines, ("class:toolbar.keys", keys)]


def sync_part(sync: object) -> list[str]:
    """Who leads the tempo, for the toolbar: "link 2 peers 120.0", "clock in 133.1 bpm"."""
    if not isinstance(sync, dict) or sync.get("authority", "own") == "own":
        return []
    if sync["authority"] == "link":
        peers = sync.get("peers", 0)
        tempo = sync.get("session_tempo")
        shown = f" {tempo:.1f}" if isinstance(tempo, (int, float)) else ""
        return [f"link {peers} peer{'s' if peers != 1 else ''}{shown}"]
    tempo = sync.get("clock_tempo")
    if not isinstance(tempo, (int, float)):
        return ["clock in: waiting"]
    return [f"clock in {tempo:.1f} bpm, jitter {sync.get('jitter_ms', 0.0):.2f} ms"]
