"""Linux's inotify on one directory, through ctypes: no dependency, nothing to build.

``DirectoryEvents.open(directory)`` returns None where inotify is missing (macOS, a
libc without it, a directory that cannot be watched); callers then poll instead.
Watching the directory, not the file, sees every way an editor saves: writing in place,
writing a new file and renaming it over the old one, and vim's rename-to-backup dance.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import select
import struct
import threading
from dataclasses import dataclass

__all__ = [
    "DirectoryEvents",
    "FileEvent",
    "IN_MODIFY",
    "IN_ATTRIB",
    "IN_CLOSE_WRITE",
    "IN_CLOSE_NOWRITE",
    "IN_OPEN",
    "IN_MOVED_FROM",
    "IN_MOVED_TO",
    "IN_CREATE",
    "IN_DELETE",
    "IN_DELETE_SELF",
    "IN_MOVE_SELF",
    "IN_Q_OVERFLOW",
    "IN_IGNORED",
]

IN_MODIFY = 0x2
IN_ATTRIB = 0x4
IN_CLOSE_WRITE = 0x8
IN_CLOSE_NOWRITE = 0x10
IN_OPEN = 0x20
IN_MOVED_FROM = 0x40
IN_MOVED_TO = 0x80
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_DELETE_SELF = 0x400
IN_MOVE_SELF = 0x800
IN_Q_OVERFLOW = 0x4000
IN_IGNORED = 0x8000
_IN_NONBLOCK = 0o4000
_IN_CLOEXEC = 0o2000000
_MASK = (
    IN_MODIFY
    | IN_ATTRIB
    | IN_CLOSE_WRITE
    | IN_CLOSE_NOWRITE
    | IN_OPEN
    | IN_MOVED_FROM
    | IN_MOVED_TO
    | IN_CREATE
    | IN_DELETE
    | IN_DELETE_SELF
    | IN_MOVE_SELF
)
_HEADER = struct.Struct("iIII")  # wd, mask, cookie, len (struct inotify_event)


@dataclass(frozen=True)
class FileEvent:
    """One event: ``name`` is the file's name in the directory ('' for the directory)."""

    name: str
    mask: int


def _libc():
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        libc.inotify_init1  # noqa: B018 - AttributeError where there is no inotify
        libc.inotify_add_watch  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


class DirectoryEvents:
    """The events of one directory; read them with :meth:`read`, then :meth:`close`."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = os.pipe()  # interrupt() wakes a read() at once
        os.set_blocking(self._wake_r, False)
        self._poll = select.poll()
        self._poll.register(fd, select.POLLIN)
        self._poll.register(self._wake_r, select.POLLIN)

    @classmethod
    def open(cls, directory: str) -> DirectoryEvents | None:
        """Watch ``directory``, or None where inotify cannot (then poll instead)."""
        libc = _libc()
        if libc is None:
            return None
        fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if fd < 0:
            return None
        if libc.inotify_add_watch(fd, os.fsencode(directory), _MASK) < 0:
            os.close(fd)
            return None
        return cls(fd)

    def read(self, timeout: float) -> list[FileEvent] | None:
        """Events within ``timeout`` seconds ([] if none came); None once the directory
        is gone or the kernel dropped events (the caller should look at the file itself).
        """
        ready = {fd for fd, _ in self._poll.poll(max(0, int(timeout * 1000 + 0.999)))}
        if self._wake_r in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(self._wake_r, 64)
        if self.fd not in ready:
            return []
        try:
            data = os.read(self.fd, 64 * 1024)
        except BlockingIOError:
            return []
        except OSError as exc:
            if exc.errno == errno.EINTR:
                return []
            raise
        events: list[FileEvent] = []
        at = 0
        while at + _HEADER.size <= len(data):
            _wd, mask, _cookie, length = _HEADER.unpack_from(data, at)
            raw = data[at + _HEADER.size : at + _HEADER.size + length]
            at += _HEADER.size + length
            if mask & (IN_Q_OVERFLOW | IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF):
                return None
            events.append(FileEvent(os.fsdecode(raw.rstrip(b"\0")), mask))
        return events

    def interrupt(self) -> None:
        """Make a read() waiting on another thread return now (with [])."""
        with self._lock, contextlib.suppress(OSError):
            if self.fd >= 0:  # never write to a closed, perhaps reused, descriptor
                os.write(self._wake_w, b"!")

    def close(self) -> None:
        with self._lock:
            if self.fd >= 0:
                for fd in (self.fd, self._wake_r, self._wake_w):
                    os.close(fd)
                self.fd = -1
