"""``--watch``: re-apply a session file whenever it is saved, from any editor.

The file describes the whole network. :func:`file_ops` turns "the network is now what
this file says" into one batch: neurons, connections and controller mappings the file
no longer holds are removed, new ones are created in the file's order, changed ones are
redefined (a ``DefineNeuron`` on an existing name keeps its phase), and unchanged ones
are left alone, so a save that only touches a comment changes nothing at all. One-off actions
in the file (``fire``, ``reset``, ``panic``) ran when it was first loaded and are not
repeated on every save. Tempo is changed only when the file calls ``tempo()``; the
transport (``stop()``) only when the file says ``stop()``.

:class:`FileWatcher` polls the file's modification time (four times a second by
default): no new dependency, and it works on every file system and with editors that
save by writing a new file and renaming it over the old one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from engine import protocol as P
from livecode.language.mirror import Mirror

__all__ = ["file_ops", "FileWatcher", "POLL_SECONDS"]

POLL_SECONDS = 0.25


def file_ops(current: Mirror, target: Mirror, ran: tuple | list = ()) -> list:
    """Ops that turn the network ``current`` into ``target`` (a file's network).

    ``ran`` are the ops the file produced when it was run; they decide whether the file
    set the tempo or stopped the transport.
    """
    ops: list = []
    for src, dst in current.connections:
        if (src, dst) not in target.connections and src in target.neurons and dst in target.neurons:
            ops.append(P.Disconnect(src, dst))
    ops += [P.Remove(name) for name in current.neurons if name not in target.neurons]
    for name in current.solo:
        if name in target.neurons and name not in target.solo:
            ops.append(P.Solo(name, False))
    if any(isinstance(op, P.Tempo) for op in ran) and target.tempo != current.tempo:
        ops.append(P.Tempo(target.tempo))
    ops += _channel_ops(current, target)
    for name, params in target.neurons.items():
        if current.neurons.get(name) != params:
            ops.append(P.DefineNeuron(name, dict(params)))
    for key, (w, delay, kind) in target.connections.items():
        if (
            current.connections.get(key) != (w, delay, kind)
            or key[0] not in current.neurons
            or key[1] not in current.neurons
        ):
            ops.append(P.Connect(key[0], key[1], w, delay, kind))
    for name in target.solo:
        if name not in current.solo:
            ops.append(P.Solo(name, True))
    for mkey, m in current.mappings.items():
        if mkey not in target.mappings and (not m.name or m.name in target.neurons):
            ops.append(P.Unmap(m.source, m.address, m.name, m.param))
    ops += [m for mkey, m in target.mappings.items() if current.mappings.get(mkey) != m]
    ops += _midi_ops(current, target, ops)
    if not target.running and current.running:
        ops.append(P.Stop())
    return ops


def _channel_ops(current: Mirror, target: Mirror) -> list:
    """The programs, volumes and pans the file sets, where they differ (like tempo, a channel
    the file does not mention keeps its sound)."""
    out: list = [
        P.Program(ch, p) for ch, p in target.programs.items() if current.programs.get(ch) != p
    ]
    for ch, v in target.volumes.items():
        if current.volumes.get(ch) != v:
            out.append(P.Mix(ch, volume=v))
    for ch, pan in target.pans.items():
        if current.pans.get(ch) != pan:
            out.append(P.Mix(ch, pan=pan))
    return out


def _midi_ops(current: Mirror, target: Mirror, ops: list) -> list:
    """Input neurons, follow links and the clock as the file says (after ``ops``)."""
    out: list = []
    redefined = {op.name for op in ops if isinstance(op, P.DefineNeuron)}
    for name in current.inputs:
        if name in target.neurons and name not in target.inputs:
            out.append(P.Listen(name, on=False))
    out += [op for name, op in target.inputs.items() if current.inputs.get(name) != op]
    for key in current.follows:
        if key not in target.follows and key[0] in target.neurons and key[0] not in redefined:
            out.append(P.Follow(key[0], key[1], ""))
    out += [
        f
        for key, f in target.follows.items()
        if current.follows.get(key) != f or key[0] in redefined
    ]  # redefining ends them
    if target.clock_out != current.clock_out:
        out.append(P.MidiClock(target.clock_out))
    # the tempo authority as the file says, like tempo: only where the file sets one
    for op in (target.link, target.clock_in):
        if op is not None and op != (current.link or current.clock_in):
            out.append(op)
    return out


def _stamp(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None  # mid-rename, or deleted: wait for it to come back
    return st.st_mtime_ns, st.st_size


class FileWatcher:
    """Calls ``on_change(text)`` on its own thread whenever ``path`` is saved with new text.

    The file's state when the watcher is made counts as seen: only later saves call back.
    A save is read once its size and time have held still for one short pause, so a
    half-written file is not applied.
    """

    def __init__(
        self,
        path: str,
        on_change: Callable[[str], object],
        on_error: Callable[[str], None] | None = None,
        interval: float = POLL_SECONDS,
    ) -> None:
        self.path = path
        self.on_change = on_change
        self.on_error = on_error or (lambda text: None)
        self.interval = interval
        self._stamp = _stamp(path)
        self._text = self._read()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _read(self) -> str | None:
        try:
            with open(self.path, encoding="utf-8") as f:
                return f.read()
        except (OSError, UnicodeDecodeError):
            return None

    def start(self) -> FileWatcher:
        self._thread = threading.Thread(target=self._run, name="livecode-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2 * self.interval + 1.0)

    def poll(self) -> bool:
        """Check once; call back if the file changed. True if it called back."""
        stamp = _stamp(self.path)
        if stamp is None or stamp == self._stamp:
            return False
        self._stop.wait(min(0.05, self.interval / 4))  # let the editor finish writing
        settled = _stamp(self.path)
        if settled != stamp:
            return False  # still being written: the next poll sees it
        self._stamp = stamp
        text = self._read()
        if text is None:
            self.on_error(f"cannot read {self.path}")
            return False
        if text == self._text:
            return False  # touched, not changed
        self._text = text
        self.on_change(text)
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll()
            except Exception as exc:  # noqa: BLE001 - the watcher must outlive one bad save
                self.on_error(f"watching {self.path} failed once: {exc!r}")
