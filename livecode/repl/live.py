"""A live session: the interpreter and the running engine, kept in step block by block.

:class:`LiveSession` is what the REPL (and ``play --watch``) drive. It knows no
terminal: text goes out through ``say`` and keys arrive as method calls, so tests run
it with a fake engine and a list for ``say``.

A block is run by the interpreter first; a block with an error shows the error and
sends nothing. A valid block is sent as one batch and the session waits (briefly) for
the engine's acknowledgement; if the engine refuses it or is restarting, the
interpreter's state is put back as it was before the block, so the performer's picture
of the network never drifts from the engine's.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.protocol import Batch, Panic, ProtocolError, validate_param
from engine.runtime.process import EngineDown
from livecode.language.errors import LivecodeError
from livecode.language.interpreter import Interpreter
from livecode.language.session_text import session_text
from livecode.language.sessionfile import file_reader
from livecode.repl.watch import file_ops

__all__ = ["LiveSession", "ACK_TIMEOUT"]

# How long a block waits for the engine's answer before it is reported as not applied.
ACK_TIMEOUT = 2.0


@dataclass(frozen=True)
class _Existing:
    text: str | None  # None: not readable as text
    mode: int


def _existing(path: str) -> _Existing | None:
    """The file save() is about to replace, or None if there is none."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            text: str | None = f.read()
    except (OSError, UnicodeDecodeError):
        text = None
    return _Existing(text, stat.S_IMODE(st.st_mode))


def _new_file_mode() -> int:
    """0666 less the umask: what a new file from an editor gets (mkstemp's is 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


class LiveSession:
    """Runs blocks and file saves against ``engine`` (an ``EngineHandle`` or a fake).

    ``say(text)`` shows a line to the performer; ``refused(text)`` shows an error and
    remembers it for the toolbar (defaults to ``say``); ``accepted()`` is called when a
    block or a file save went through (the toolbar forgets the last refusal).
    """

    def __init__(
        self,
        interpreter: Interpreter,
        engine: Any,
        say: Callable[[str], None],
        refused: Callable[[str], None] | None = None,
        accepted: Callable[[], None] | None = None,
    ) -> None:
        self.interpreter = interpreter
        self.engine = engine
        self.say = say
        self.refused = refused or say
        self.accepted = accepted or (lambda: None)
        self.ack_seconds: list[float] = []  # Enter to acknowledgement, for measurements
        self._lock = threading.Lock()  # the REPL and the file watcher both run blocks
        self.recording: str | None = None  # the file the engine records into
        self._recorded: set[str] = set()  # files this session recorded into (may append)
        self._applied_t = 0.0  # logical time the engine applied the last block at

    # --- blocks --------------------------------------------------------------------------

    def submit(self, text: str, filename: str = "<repl>") -> bool:
        """Run one block; True when it asked to quit. Errors are shown, never raised."""
        if not text.strip():
            return False
        start = time.perf_counter()
        with self._lock:
            self._catch_up()
            before = self.interpreter.state()
            try:
                result = self.interpreter.run(text, filename)
            except LivecodeError as exc:
                self.refused(exc.render())
                self._record_refused(text, exc.render())
                return False
            for action in result.actions:  # a block that starts a recording is its first
                if action[0] == "record" and action[1]:
                    self.record(action[1])
            if result.ops and not self._send(Batch(result.ops, "repl", text), before):
                return False
        self.accepted()
        if result.ops:
            self.ack_seconds.append(time.perf_counter() - start)
        for line in result.output:
            self.say(line)
        quit_ = False
        for action in result.actions:
            if action[0] == "save":
                self.save(action[1])
            elif action[0] == "record" and not action[1]:
                self.record(None)
            elif action[0] == "quit":
                quit_ = True
        return quit_

    # --- recording -----------------------------------------------------------------------

    def record(self, path: str | None) -> bool:
        """Record the performance into ``path`` from now on (None: stop); True if done."""
        from engine.record.recording import RecordError, prepare

        try:
            if path is None:
                if self.recording is None:
                    self.say("not recording")
                    return False
                self.engine.record(None)
                self.say(f"recording stopped: {self.recording}")
                self.recording = None
                return True
            full = prepare(path, fresh=os.path.abspath(path) not in self._recorded)
            self.engine.record(full)
        except (RecordError, EngineDown) as exc:
            self.refused(f"not recording: {exc}")
            return False
        self._recorded.add(full)
        self.recording = full
        self.say(f"recording to {path}")
        return True

    def recording_from_start(self, path: str) -> None:
        """The engine records into ``path`` from its start (``--record``)."""
        self.recording = path
        self._recorded.add(path)

    def _record_refused(self, text: str, error: str) -> None:
        """Put a block the interpreter refused into the recording (the engine applies nothing)."""
        if self.recording is None or not text.strip():
            return
        try:
            self.engine.send(Batch((), "repl", text, refused=error))
        except EngineDown:
            pass  # the block changed nothing; a recording gap while restarting is all

    def _send(self, batch: Batch, before: tuple) -> bool:
        """Send and wait for the ack; on refusal or a dead engine, undo the block."""
        try:
            ack = self.engine.request(batch, ACK_TIMEOUT)
        except EngineDown as exc:
            self.interpreter.adopt(*before)
            self.refused(f"not applied: {exc}; run the block again in a moment")
            return False
        if not ack.ok:
            self.interpreter.adopt(*before)  # the engine's Ack already told the performer
            return False
        self._applied_t = ack.t
        return True

    def _catch_up(self) -> None:
        """Take in the values controllers (OSC, MIDI) set in the engine since the last block.

        Without this, ``n1.thr *= 2`` after a fader move would start from the value last
        typed, and ``save()`` would write it. Only a snapshot taken after the last block
        was applied counts; parameters a ``follow`` link drives stay as the code says.
        """
        status = getattr(self.engine, "last_status", None)
        if not status or status.get("t", 0.0) <= self._applied_t:
            return
        snap = status.get("snapshot") or {}
        mirror = self.interpreter.mirror
        for name, engine_side in snap.get("neurons", {}).items():
            mine = mirror.neurons.get(name)
            if mine is None:
                continue
            for param, raw in engine_side.get("params", {}).items():
                try:  # the snapshot's note list is a list; the picture's is a tuple
                    value = validate_param(param, raw)
                except (ProtocolError, TypeError, ValueError):
                    continue
                if param in mine and mine[param] != value and (name, param) not in mirror.follows:
                    mine[param] = value
        if snap.get("tempo"):
            mirror.tempo = snap["tempo"]

    def panic(self) -> None:
        """All notes off now; the network keeps running."""
        try:
            self.engine.send(Batch((Panic(),), "repl", "panic()"))
        except EngineDown as exc:
            self.refused(f"panic not sent: {exc}")
            return
        self.say("panic: all notes off")

    # --- session files -------------------------------------------------------------------

    def save(self, path: str) -> bool:
        """Write the network as language text to ``path`` (relative to the working dir).

        An existing file with other text is kept as ``path~`` and the message says so;
        the file keeps its permissions (a new one gets the umask's, as editors do).
        """
        full = os.path.abspath(os.path.expanduser(path))
        with self._lock:
            self._catch_up()
            mirror, variables = self.interpreter.state()
            text = session_text(mirror, variables)
        try:
            old = _existing(full)
            backup = None
            if old is not None and old.text != text:
                backup = full + "~"
                shutil.copy2(full, backup)
            # Write a new file and rename it over the old one: an editor or a --watch on
            # the same file never reads half a session.
            fd, tmp = tempfile.mkstemp(
                prefix=".livecode-", suffix=".neu", dir=os.path.dirname(full)
            )
            try:
                os.fchmod(fd, old.mode if old is not None else _new_file_mode())
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(text)
                os.replace(tmp, full)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            self.refused(f"cannot save {path}: {exc.strerror or exc}")
            return False
        said = (
            f"saved {len(mirror.neurons)} neurons and {len(mirror.connections)} "
            f"connections to {path}"
        )
        if backup is not None:
            said += f" (it replaced an older {path}, kept as {path}~)"
        self.say(said)
        return True

    def load_initial(self, path: str) -> Batch | None:
        """Run the session at ``path`` before the engine starts; its batch, or None on error."""
        try:
            text = file_reader(os.getcwd())(path)
            self.interpreter.read_file = file_reader(os.path.dirname(os.path.abspath(path)))
            try:
                result = self.interpreter.run(text, path)
            finally:
                self.interpreter.read_file = file_reader(os.getcwd())
        except LivecodeError as exc:
            self.refused(exc.render())
            self.say(f"{path} not loaded: the network starts empty")
            return None
        for line in result.output:
            self.say(line)
        return Batch(result.ops, "file", text)

    def apply_file(self, text: str, path: str) -> bool:
        """Make the network what the session text says (``--watch``); True if applied.

        Neurons and connections not in the file are removed; those that stay keep their
        phase. A file with an error changes nothing and the error is shown.
        """
        fresh = Interpreter(
            read_file=file_reader(os.path.dirname(os.path.abspath(path))),
            limits=self.interpreter.limits,
        )
        try:
            result = fresh.run(text, path)
        except LivecodeError as exc:
            self.refused(f"{path} not applied:\n{exc.render()}")
            return False
        with self._lock:
            before = self.interpreter.state()
            mirror = before[0].copy()
            ops = file_ops(mirror, fresh.mirror, result.ops)
            for op in ops:
                mirror.apply(op)
            if ops and not self._send(Batch(tuple(ops), "file", text), before):
                return False
            self.interpreter.adopt(mirror, {**before[1], **fresh.variables})
        self.accepted()
        self.say(f"{path} applied ({len(ops)} change{'' if len(ops) == 1 else 's'})")
        return True
