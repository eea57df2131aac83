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

from typing import NamedTuple

__all__ = ["SessionView", "LinkPeer", "AbletonLink", "open_link", "LinkUnavailable"]


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


def open_link(bpm: float) -> AbletonLink:
    """The real Link peer, disabled until :meth:`LinkPeer.enable`; LinkUnavailable if none."""
    return AbletonLink(bpm)
