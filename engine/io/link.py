"""Ableton Link: a small base, the real peer (LinkPython-extern, the optional extra
``livecode[link]``) and the factory. The fake is in ``tests/engine/fakes.py``.

Link's API is synchronous and cheap (a query costs ~5 µs), so the engine's loop polls it;
Link's own callbacks run on Link's threads and are not used. Times are Link's clock, in
microseconds (``CLOCK_MONOTONIC_RAW`` on Linux): :class:`engine.runtime.clock_map.ClockMap`
converts them to the engine's logical seconds.

Link is GPL-2.0-or-later (or Ableton's proprietary licence); livecode only imports it
when a performer asks for ``link()``/``--link`` and it is installed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import NamedTuple

__all__ = ["SessionView", "LinkPeer", "AbletonLink", "open_link", "LinkUnavailable"]


LINK_PRIORITY = 25  # SCHED_FIFO of Link's threads when the engine's loop is real-time


class LinkUnavailable(RuntimeError):
    """LinkPython-extern is not installed or Link could not start."""


class SessionView(NamedTuple):
    """The session as one peer sees it at Link time ``micros``."""

    micros: int
    beat: float  # the session's beat at ``micros`` for the quantum asked for
    tempo: float  # BPM
    playing: bool
    peers: int


class LinkPeer:
    """One Link peer. Subclasses talk to a real session; the base is a session of one."""

    name = "none"

    def enable(self, on: bool, startstop: bool) -> None:
        """Join (``on``) or leave the session; ``startstop`` shares start/stop with peers."""

    def micros(self) -> int:
        """Now on Link's clock, in microseconds."""
        raise NotImplementedError

    def view(self, micros: int, quantum: float) -> SessionView:
        raise NotImplementedError

    def set_tempo(self, bpm: float, micros: int) -> None:
        """Change the session's tempo for everyone, from ``micros`` on."""

    def set_playing(self, playing: bool, micros: int) -> None:
        """Start or stop the session's transport (peers with start/stop sync follow)."""

    def close(self) -> None:
        """Leave the session for good."""


class AbletonLink(LinkPeer):
    """A Link peer through LinkPython-extern (``import link``)."""

    name = "ableton-link"

    def __init__(self, bpm: float) -> None:
        try:
            import link  # LinkPython-extern
        except ImportError as exc:
            raise LinkUnavailable(
                "Ableton Link is not installed: pip install 'livecode[link]' (GPL-2.0-or-later)"
            ) from exc
        with _link_priority():  # Link's threads inherit it
            self._link = link.Link(float(bpm))
        self._clock = self._link.clock()

    def enable(self, on: bool, startstop: bool) -> None:
        self._link.startStopSyncEnabled = bool(startstop)
        self._link.enabled = bool(on)

    def micros(self) -> int:
        return int(self._clock.micros())

    def view(self, micros: int, quantum: float) -> SessionView:
        s = self._link.captureAppSessionState()
        return SessionView(
            micros,
            float(s.beatAtTime(micros, quantum)),
            float(s.tempo()),
            bool(s.isPlaying()),
            int(self._link.numPeers()),
        )

    def set_tempo(self, bpm: float, micros: int) -> None:
        s = self._link.captureAppSessionState()
        s.setTempo(float(bpm), micros)
        self._link.commitAppSessionState(s)

    def set_playing(self, playing: bool, micros: int) -> None:
        s = self._link.captureAppSessionState()
        s.setIsPlaying(bool(playing), micros)
        self._link.commitAppSessionState(s)

    def close(self) -> None:
        self._link.enabled = False


@contextlib.contextmanager
def _link_priority() -> Iterator[None]:
    """Run the block with Link's priority: threads started in it keep it. Link answers its
    peers' clock measurements from its own threads; on a busy machine, late answers keep
    peers from agreeing on a session, so they run just above the engine's loop (SCHED_FIFO
    25 against 20, below JACK's 30) when the loop is real-time, as the loop's are."""
    try:
        policy, param = os.sched_getscheduler(0), os.sched_getparam(0)
    except (AttributeError, OSError):
        yield  # not Linux
        return
    if policy != os.SCHED_FIFO:
        yield
        return
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(LINK_PRIORITY))
    except OSError:
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.sched_setscheduler(0, policy, param)


def open_link(bpm: float) -> AbletonLink:
    """The real Link peer, disabled until :meth:`LinkPeer.enable`; LinkUnavailable if none."""
    return AbletonLink(bpm)
