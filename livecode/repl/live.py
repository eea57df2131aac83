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
from livecode.language.errors import LivecodeError, internal_message
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
        self._fitting: threading.Thread | None = None  # fit() running beside the music

    # --- blocks --------------------------------------------------------------------------

    def submit(self, text: str, filename: str = "<repl>") -> bool:
        """Run one block; True when it asked to quit. Errors are shown, never raised.

        This is the REPL's fault barrier for a block: a bug anywhere in running it
        becomes one message, the interpreter's state goes back to what it was unless
        the engine already applied the block, and the REPL and the engine carry on.
        """
        if not text.strip():
            return False
        step = _Step()
        try:
            return self._submit(text, filename, step)
        except Exception as exc:  # noqa: BLE001 - the fault barrier (see the docstring)
            self._fault(exc, step)
            return False

    def _submit(self, text: str, filename: str, step: _Step) -> bool:
        start = time.perf_counter()
        with self._lock:
            step.now("while taking in the engine's values")
            self._catch_up()
            before = step.before = self.interpreter.state()
            step.now("while running the block")
            try:
                result = self.interpreter.run(text, filename)
            except LivecodeError as exc:
                self.refused(exc.render())
                self._record_refused(text, exc.render())
                return False
            for action in result.actions:  # a block that starts a recording is its first
                if action[0] == "record" and action[1]:
                    step.now("in record()")
                    self.record(action[1])
            step.now("while sending the block to the engine")
            if result.ops and not self._send(Batch(result.ops, "repl", text), before):
                return False
            step.applied = bool(result.ops)
        self.accepted()
        if result.ops:
            self.ack_seconds.append(time.perf_counter() - start)
        step.now("while showing the block's output")
        for line in result.output:
            self.say(line)
        quit_ = False
        for action in result.actions:
            step.now(f"in {action[0]}()")
            if action[0] == "save":
                self.save(action[1])
            elif action[0] == "record" and not action[1]:
                self.record(None)
            elif action[0] == "fit":
                self.fit(action[1], action[2])
            elif action[0] == "quit":
                quit_ = True
        return quit_

    # --- fit() ---------------------------------------------------------------------------

    def fit(self, path: str, options: dict) -> bool:
        """Fit ``path`` on a thread of its own; the neurons are defined when it is done.

        The REPL's thread never waits for the solver; one fit runs at a time. True if started.
        """
        if self._fitting is not None and self._fitting.is_alive():
            self.refused("fit() is already running; try again when it is done")
            return False
        self.say(f"fitting {path} beside the music ...")
        self._fitting = threading.Thread(
            target=self._fit_thread, args=(path, options), name="livecode-fit", daemon=True
        )
        self._fitting.start()
        return True

    def _fit_thread(self, path: str, options: dict) -> None:
        try:
            from livecode.fit import NEEDS, fit_file, fitted_block

            try:
                result = fit_file(os.path.abspath(os.path.expanduser(path)), **options)
            except ImportError:
                self.refused(f"fit(): {NEEDS}")
                return
            except (OSError, ValueError) as exc:
                self.refused(f"fit({path!r}) not done: {exc}")
                return
            self.say(result.report())
            with self._lock:
                existing = set(self.interpreter.mirror.neurons) & set(self.interpreter.variables)
            self.submit(fitted_block(result.text, existing), f"<fit {os.path.basename(path)}>")
        except Exception as exc:  # noqa: BLE001 - fit()'s fault barrier: a bug stops no sound
            self.refused(internal_message("in fit()", exc, "no neuron was defined"))

    def _fault(self, exc: Exception, step: _Step, what: str = "block") -> None:
        """Say what a bug did to the block; undo the block if the engine never got it."""
        if step.applied:
            outcome = f"the {what} itself was applied to the network; the rest was not done"
        else:
            outcome = f"nothing of the {what} was applied"
            if step.before is not None:
                with self._lock:
                    self.interpreter.adopt(*step.before)
        self.refused(internal_message(step.where, exc, outcome))

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
        except Exception as exc:  # noqa: BLE001 - the panic key's fault barrier
            self.refused(internal_message("in the panic key", exc, "panic was not sent"))
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
        before = self.interpreter.state()
        try:
            return self._load_initial(path)
        except Exception as exc:  # noqa: BLE001 - a bug loading the file must not stop the REPL
            # the engine starts without the file, so the picture of the network must too
            self.interpreter.adopt(*before)
            self.refused(internal_message(f"while loading {path}", exc))
            self.say(f"{path} not loaded: the network starts empty")
            return None

    def _load_initial(self, path: str) -> Batch | None:
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
        phase. A file with an error, or a bug met in applying it, changes nothing and
        the error is shown (this is the fault barrier of ``--watch``).
        """
        step = _Step(f"while applying {path}")
        try:
            return self._apply_file(text, path, step)
        except Exception as exc:  # noqa: BLE001 - the fault barrier (see the docstring)
            self._fault(exc, step, what="file")
            return False

    def _apply_file(self, text: str, path: str, step: _Step) -> bool:
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
            before = step.before = self.interpreter.state()
            mirror = before[0].copy()
            ops = file_ops(mirror, fresh.mirror, result.ops)
            for op in ops:
                mirror.apply(op)
            if ops and not self._send(Batch(tuple(ops), "file", text), before):
                return False
            self.interpreter.adopt(mirror, {**before[1], **fresh.variables})
            step.applied = bool(ops)
        self.accepted()
        self.say(f"{path} applied ({len(ops)} change{'' if len(ops) == 1 else 's'})")
        return True


class _Step:
    """How far a block got, for the fault barrier: what it was doing, and whether the
    engine has applied it (then it is not undone)."""

    def __init__(self, where: str = "while running the block") -> None:
        self.where = where
        self.before: tuple | None = None  # the interpreter's state before the block
        self.applied = False

    def now(self, where: str) -> None:
        self.where = where
