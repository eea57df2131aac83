"""``--watch``: re-apply a session file whenever it is saved, from any editor.

The file describes the whole network. :func:`file_ops` turns "the network is now what
this file says" into one batch: neurons, connections and controller mappings the file
no longer holds are removed, new ones are created in the file's order, changed ones are
redefined (a ``DefineNeuron`` on an existing name keeps its phase), and unchanged ones
are left alone, so a save that only touches a comment changes nothing at all. One-off actions
in the file (``fire``, ``reset``, ``panic``) ran when it was first loaded and are not
repeated on every save. Tempo is changed only when the file calls ``tempo()``; the
transport (``stop()``) only when the file says ``stop()``.

:class:`FileWatcher` hears about a save from the kernel (inotify on the file's folder,
:mod:`livecode.repl.inotify`) and applies it when the writer closes the file or renames a
new one over it, so a file still being written is never applied. Where inotify is
missing it polls the file's time and size every 50 ms and applies a save once they have
held still for 30 ms. Either way, a file that has become empty changes nothing unless
it stays empty for a second (an editor that truncates, then pauses before writing).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

from engine import protocol as P
from livecode.language.mirror import Mirror
from livecode.repl import inotify as IN

__all__ = ["file_ops", "FileWatcher", "POLL_SECONDS", "EMPTY_HOLD_SECONDS"]

POLL_SECONDS = 0.05  # without inotify: a save is seen within one poll...
SETTLE_SECONDS = 0.03  # ...and read once its time and size held still this long
EMPTY_HOLD_SECONDS = 1.0  # an emptied file must stay empty this long to empty the network
# A writer that changes the file and never closes it (mmap): read once it was quiet this
# long and no one has it open. A writer that closes is read at once.
QUIET_SECONDS = 0.5
RECHECK_SECONDS = 1.0  # with inotify, still look at the file this often (network file systems)


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
    """Input neurons, follow links, parameter processes and the clock as the file says
    (after ``ops``)."""
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
    for key in current.sources:  # a process the file no longer has: its constant again
        name, param = key
        if key not in target.sources and name in target.neurons and name not in redefined:
            if key not in target.follows:
                out.append(P.SetParam(name, param, target.neurons[name][param]))
    out += [
        v
        for key, v in target.sources.items()
        if current.sources.get(key) != v or key[0] in redefined
    ]  # redefining ends them; the same op again keeps a running one as it is
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
    ``mode`` is "inotify" or "poll" once started (``use_inotify=False``, or the
    environment's ``LIVECODE_WATCH=poll``, forces polling).
    """

    def __init__(
        self,
        path: str,
        on_change: Callable[[str], object],
        on_error: Callable[[str], None] | None = None,
        interval: float = POLL_SECONDS,
        use_inotify: bool | None = None,
        empty_hold: float = EMPTY_HOLD_SECONDS,
    ) -> None:
        self.path = path
        self.on_change = on_change
        self.on_error = on_error or (lambda text: None)
        self.interval = interval
        if use_inotify is None:  # LIVECODE_WATCH=poll: for file systems inotify cannot see
            use_inotify = os.environ.get("LIVECODE_WATCH", "") != "poll"
        self.use_inotify = use_inotify
        self.empty_hold = empty_hold
        self.mode = "poll"
        self._stamp = _stamp(path)
        self._text = self._read()
        self._empty_since: float | None = None  # when the file was first seen empty
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._events: IN.DirectoryEvents | None = None

    def _read(self) -> str | None:
        try:
            with open(self.path, encoding="utf-8") as f:
                return f.read()
        except (OSError, UnicodeDecodeError):
            return None

    def start(self) -> FileWatcher:
        events = None
        if self.use_inotify:
            events = IN.DirectoryEvents.open(os.path.dirname(os.path.abspath(self.path)))
        self.mode = "inotify" if events is not None else "poll"
        self._events = events
        self._thread = threading.Thread(
            target=self._run, args=(events,), name="livecode-watch", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        events = self._events
        if events is not None:
            events.interrupt()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2 * self.interval + 1.0)

    # --- deciding ------------------------------------------------------------------------

    def consider(self) -> bool:
        """Read the file now (its writer is done) and call back if its text is new.

        An emptied file waits: it is applied only if it is still empty ``empty_hold``
        seconds after it was first seen so. True if it called back.
        """
        self._stamp = _stamp(self.path)
        text = self._read()
        if text is None:
            if self._stamp is not None:
                self.on_error(f"cannot read {self.path}")
            return False  # gone (an editor's rename in progress) or unreadable
        if text == self._text:
            self._empty_since = None
            return False  # touched, not changed
        if not text.strip() and (self._text or "").strip():
            now = time.monotonic()
            if self._empty_since is None:
                self._empty_since = now
            if now - self._empty_since < self.empty_hold:
                return False  # probably truncated and about to be written
        self._empty_since = None
        self._text = text
        self.on_change(text)
        return True

    def poll(self) -> bool:
        """One polling step: if the file's time or size moved and then held still for a
        short pause, :meth:`consider` it. True if it called back."""
        stamp = _stamp(self.path)
        if stamp is None or stamp == self._stamp:
            return self._empty_due() and self.consider()
        self._stop.wait(SETTLE_SECONDS)  # let the editor finish writing
        if _stamp(self.path) != stamp:
            return False  # still being written: the next poll sees it
        return self.consider()

    def _empty_due(self) -> bool:
        since = self._empty_since
        return since is not None and time.monotonic() - since >= self.empty_hold

    # --- the thread ----------------------------------------------------------------------

    def _run(self, events: IN.DirectoryEvents | None) -> None:
        try:
            if events is not None:
                self._run_inotify(events)
            while not self._stop.wait(self.interval):
                self._guarded(self.poll)
        finally:
            for opened in {id(e): e for e in (events, self._events) if e is not None}.values():
                opened.close()

    def _guarded(self, step: Callable[[], object]) -> None:
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - the watcher must outlive one bad save
            self.on_error(f"watching {self.path} failed once: {exc!r}")

    def _run_inotify(self, events: IN.DirectoryEvents) -> None:
        """Until stopped: apply a save when its writer closes the file or a new file is
        renamed over it. Returns (and the caller polls) only if the folder goes away."""
        name = os.path.basename(self.path)
        opened = 0  # handles open on the file now, ours included (they come and go in pairs)
        dirty_at: float | None = None  # changed in place, not yet closed
        last_look = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            wake = [last_look + RECHECK_SECONDS]
            if dirty_at is not None:
                wake.append(dirty_at + QUIET_SECONDS)
            if self._empty_since is not None:
                wake.append(self._empty_since + self.empty_hold)
            got = events.read(max(0.0, min(wake) - now))
            if got is None:  # the kernel dropped events or the folder moved
                self._guarded(self.consider)
                fresh = IN.DirectoryEvents.open(os.path.dirname(os.path.abspath(self.path)))
                if fresh is None:
                    self.mode = "poll"
                    return
                events.close()
                events = self._events = fresh
                opened, dirty_at = 0, None
                continue
            ready = False
            for ev in got:
                if ev.name != name:
                    continue
                if ev.mask & IN.IN_OPEN:
                    opened += 1
                if ev.mask & (IN.IN_CLOSE_WRITE | IN.IN_CLOSE_NOWRITE):
                    opened = max(0, opened - 1)
                if ev.mask & (IN.IN_MODIFY | IN.IN_CREATE | IN.IN_ATTRIB):
                    dirty_at = time.monotonic()
                if ev.mask & (IN.IN_CLOSE_WRITE | IN.IN_MOVED_TO):
                    ready, dirty_at = True, None
                if ev.mask & (IN.IN_DELETE | IN.IN_MOVED_FROM):
                    dirty_at = None
            now = time.monotonic()
            if not ready and dirty_at is not None and now - dirty_at >= QUIET_SECONDS:
                ready = opened == 0  # a writer that never closes, and is gone
                dirty_at = None if ready else now
            if self._empty_due():
                ready = True
            elif not ready and now - last_look >= RECHECK_SECONDS:
                last_look = now  # a change inotify cannot see (another machine's write)
                idle = dirty_at is None and opened == 0
                ready = idle and _stamp(self.path) != self._stamp
            if ready:
                self._guarded(self.consider)
