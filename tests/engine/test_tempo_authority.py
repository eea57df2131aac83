"""The tempo authority in the engine's loop, against a fake Link session and fed MIDI clock:
joining keeps the network on the session's grid, tempo goes both ways, start/stop, switching."""

from __future__ import annotations

import math
import multiprocessing as mp

import pytest

from engine import protocol as P
from engine.io.midi_base import NullOut
from engine.io.midi_clock_in import ClockFollower, ClockInSource
from engine.model.network import Network
from engine.runtime.clock import Clock
from engine.runtime.loop import Engine
from engine.runtime.tempo_authority import LinkSource, TempoAuthority
from tests.engine.fakes import FakeLink, FakeSession

STEP = 0.004  # seconds between the loop's visits in these tests


class SessionClock(Clock):
    """Logical time is the fake session's ``now`` (the test moves it)."""

    def __init__(self, session: FakeSession) -> None:
        super().__init__(0.0)
        self.session = session

    def now(self) -> float:
        return self.session.now

    def wall(self, t: float) -> float:
        return t


class Rig:
    """An engine whose clock the test moves, a fake Link session, notes kept with their times."""

    def __init__(self, tempo: float = 120.0, session_tempo: float = 120.0) -> None:
        self.session = FakeSession(session_tempo)
        self.peer = FakeLink(self.session)
        self.parent, child = mp.Pipe()
        self.net = Network(tempo=tempo)
        self.out = NullOut()
        self.notes: list[tuple[float, str]] = []
        self.out.send_at = self._sent  # type: ignore[method-assign]
        self.engine = Engine(child, self.out, self.net, SessionClock(self.session))
        self.engine.add_tap(self._tap)
        self.clock_in: ClockInSource | None = None
        self.before = 0.0
        self.authority = TempoAuthority(self._open, lambda msg: None)
        self.authority.attach(self.engine)

    def _sent(self, data: list[int], t: float) -> None:
        pass

    def _tap(self, events: list) -> None:
        self.notes += [(e.t, e.neuron) for e in events if e.type == "note_on"]

    def _open(self, spec: object):
        if isinstance(spec, P.Link):
            return LinkSource(self.peer, spec, self.engine.clock.wall, lambda: self.session.now)
        self.clock_in = ClockInSource(spec, self.engine, self.authority.follow_now)  # type: ignore[arg-type]
        return self.clock_in

    def apply(self, *ops: P.Op, source: str = "repl") -> P.Ack:
        return self.engine.apply(P.Batch(tuple(ops), source=source), self.session.now)

    def run_until(self, t: float, each=None) -> None:
        while self.session.now < t - 1e-12:
            self.before = self.session.now  # what the engine has played up to
            self.session.now = min(t, self.session.now + STEP)
            if each is not None:
                each(self.session.now)
            self.engine._advance(self.session.now)
            while self.parent.poll():
                self.parent.recv()

    def session_beat(self, t: float) -> float:
        return self.session.beat_at(round((t + self.session.offset) * 1e6))

    def ons(self, name: str, since: float = 0.0) -> list[float]:
        return [t for t, n in self.notes if n == name and t >= since]


def off_grid(rig: Rig, times: list[float]) -> float:
    """The largest distance, in beats, of note times from the session's whole beats."""
    return max(abs(b - round(b)) for b in (rig.session_beat(t) for t in times))


def test_joining_holds_the_network_until_its_place_in_the_bar_comes_round():
    rig = Rig()
    rig.apply(P.DefineNeuron("beat", {"rate": 1.0, "phase": 0.0}))
    rig.run_until(1.3)  # the network's beats are off the session's by 0.6 s
    rig.session.beat0 = 1.7  # the session runs at a phase of its own
    joined = rig.session.now
    before = rig.net.beat
    rig.apply(P.Link(True, 4.0))
    rig.run_until(6.0)
    after = rig.ons("beat", joined)
    assert rig.authority.status()["authority"] == "link"
    # nothing skipped, nothing doubled: the first note after the hold is the next beat
    assert after and off_grid(rig, after) < 1e-6
    # the network's beat is the session's plus whole quanta
    assert (rig.net.beat - rig.session_beat(rig.session.now) + 2) % 4 - 2 == pytest.approx(
        0, abs=1e-6
    )
    assert after[0] - joined <= 4 * 0.5 + 1e-9 and rig.net.beat > before
    # the status says when the hold ended: the first note after it is on the line
    on_line = rig.authority.status()["on_line_at"]
    assert on_line is not None and joined < on_line <= after[0]


def test_coming_in_a_little_late_never_passes_a_note_due_on_the_line():
    # The network is 0.08 beat behind its place in the session's bar, and its note is due
    # in between: coming in at once could play that note only late (or not on its beat).
    rig = Rig()
    rig.apply(P.DefineNeuron("beat", {"rate": 1.0, "phase": 0.0}))
    rig.run_until(1.476)  # network beat 2.952, the note due on beat 3
    rig.session.beat0 = 3.79 - 0.002  # the session's line is at the network's 3.03 (mod 4)
    late: list[float] = []  # events due before the time the engine had played up to
    rig.engine.add_tap(lambda ev: late.extend(e.t for e in ev if e.t < rig.before - 1e-9))
    joined, first = rig.session.now, math.floor(rig.net.beat) + 1
    rig.apply(P.Link(True, 4.0))
    rig.run_until(8.0)
    assert not late, "an event was due before the engine got to it: it could only sound late"
    after = rig.ons("beat", joined)
    # every beat of the network sounds once, from the one it was due on, on the session's grid
    assert after and off_grid(rig, after) < 1e-5
    assert len(after) == math.floor(rig.net.beat) - first + 1


def test_a_peers_tempo_change_reaches_the_notes_and_tempo_goes_out_to_the_session():
    rig = Rig()
    rig.apply(P.DefineNeuron("beat", {"rate": 1.0}), P.Link(True, 1.0))
    rig.run_until(2.0)
    # a peer changes the session's tempo
    rig.session.set_tempo(150.0, round((2.0 + rig.session.offset) * 1e6))
    rig.run_until(5.0)
    assert rig.net.tempo == pytest.approx(150.0)
    late = rig.ons("beat", 2.1)
    assert len(late) >= 6 and off_grid(rig, late) < 1e-6
    gaps = [b - a for a, b in zip(late, late[1:], strict=False)]
    assert gaps == pytest.approx([0.4] * len(gaps))
    # the performer's tempo() changes the session's for everyone
    assert rig.apply(P.Tempo(90.0)).ok
    assert rig.peer.tempos == [90.0] and rig.session.tempo == 90.0
    rig.run_until(9.0)
    late = rig.ons("beat", 5.2)
    assert off_grid(rig, late) < 1e-6 and rig.net.tempo == pytest.approx(90.0)


def test_a_jump_of_the_sessions_beat_is_glided_over_without_skipping_a_note():
    rig = Rig()
    rig.apply(P.DefineNeuron("beat", {"rate": 1.0}), P.Link(True, 4.0))
    rig.run_until(2.0)
    before = len(rig.ons("beat"))
    rig.session.beat0 += 0.4  # sessions merged: the beat jumps by 0.4
    rig.run_until(12.0)
    on = rig.ons("beat")
    gaps = [b - a for a, b in zip(on, on[1:], strict=False)]
    # a little faster or slower for a while, never a skipped or doubled beat
    assert all(0.5 * 0.75 <= g <= 0.5 / 0.75 for g in gaps) and len(on) > before
    assert rig.authority.status()["jumps"] and off_grid(rig, rig.ons("beat", 10.0)) < 1e-6


def test_start_comes_in_on_the_sessions_grid_and_start_stop_is_shared():
    rig = Rig()
    rig.apply(P.DefineNeuron("beat", {"rate": 1.0}), P.Link(True, 4.0, True))
    rig.run_until(1.0)
    rig.apply(P.Stop())
    assert rig.peer.playing_sent == [False]
    rig.run_until(2.33)
    rig.apply(P.Start())
    assert rig.peer.playing_sent == [False, True]
    rig.run_until(5.0)
    assert off_grid(rig, rig.ons("beat", 2.33)) < 1e-6
    # a peer stops the session: the network stops; starts it: the network comes in on the grid
    rig.session.playing = False
    rig.run_until(5.5)
    assert not rig.net.running
    rig.session.playing = True
    rig.run_until(8.0)
    assert rig.net.running and off_grid(rig, rig.ons("beat", 5.5)) < 1e-6


def test_leaving_keeps_the_beat_and_the_tempo():
    rig = Rig(session_tempo=100.0)
    rig.apply(P.DefineNeuron("beat", {"rate": 1.0}), P.Link(True, 1.0))
    rig.run_until(3.0)
    assert rig.net.tempo == pytest.approx(100.0)
    beat = rig.net.beat
    rig.apply(P.Link(False))
    assert rig.authority.status()["authority"] == "own" and rig.peer.on is False
    rig.run_until(4.2)
    assert rig.net.beat == pytest.approx(beat + 1.2 * 100 / 60)
    gaps = [b - a for a, b in zip(rig.ons("beat", 2.0), rig.ons("beat", 2.0)[1:], strict=False)]
    assert gaps == pytest.approx([0.6] * len(gaps))


def ticks(start: float, bpm: float, n: int, jitter: float = 0.0, seed: int = 1):
    """``n`` MIDI clock pulses from ``start`` at ``bpm``, each moved by up to ``jitter`` s."""
    import random

    rnd = random.Random(seed)
    step = 60.0 / bpm / 24
    return [start + k * step + rnd.uniform(-jitter, jitter) for k in range(n)]


def test_the_clock_follower_estimates_tempo_through_jitter_and_follows_a_change():
    f = ClockFollower()
    for t in ticks(0.0, 120.0, 96, jitter=0.001):
        f.feed(b"\xf8", t)
    assert f.tempo == pytest.approx(120.0, rel=0.005)
    last = f.ticks[-1][1]
    # a change to 133 BPM: within 1 % after two beats of the new clock
    for t in ticks(last + 60 / 133 / 24, 133.0, 48, jitter=0.001):
        f.feed(b"\xf8", t)
    assert f.tempo == pytest.approx(133.0, rel=0.01)


def test_the_clock_follower_positions_start_stop_continue_and_song_position():
    f = ClockFollower()
    times = ticks(0.0, 120.0, 200)
    for t in times[:30]:
        f.feed(b"\xf8", t)
    assert f.line(times[29]).phase is False  # running clock, no start yet: tempo only
    f.feed(b"\xfa", times[29] + 0.001)
    for t in times[30:54]:  # the pulse after Start is beat 0; 24 pulses later beat 1
        f.feed(b"\xf8", t)
    line = f.line(times[53])
    assert line.phase and line.beat == pytest.approx(23 / 24, abs=1e-6)
    f.feed(b"\xfc", times[53] + 0.001)
    assert f.playing is False
    f.feed(bytes([0xF2, 8, 0]), times[53] + 0.002)  # song position: 8 sixteenths = beat 2
    for t in times[54:60]:
        f.feed(b"\xf8", t)
    f.feed(b"\xfb", times[59] + 0.001)
    f.feed(b"\xf8", times[60])
    assert f.line(times[60]).beat == pytest.approx(2.0, abs=1e-6)


def test_a_lost_or_repeated_pulse_does_not_move_the_clocks_beat():
    times = ticks(0.0, 120.0, 200, jitter=0.0005)
    whole, lossy = ClockFollower(), ClockFollower()
    for f in (whole, lossy):
        f.feed(b"\xf8", times[0])
        f.feed(b"\xfa", times[0] + 0.001)
    for k, t in enumerate(times[1:], 1):
        whole.feed(b"\xf8", t)
        if k in (40, 90, 91, 150):
            continue  # lost on the way (90 and 91: two in a row)
        lossy.feed(b"\xf8", t)
        if k in (60, 120):
            lossy.feed(b"\xf8", t)  # read twice
    end = times[-1]
    assert lossy.line(end).beat == pytest.approx(whole.line(end).beat, abs=1e-6)
    assert (lossy.lost, lossy.repeated) == (4, 2)


def test_a_clock_that_slows_to_half_is_not_taken_for_lost_pulses():
    f = ClockFollower()
    slow = ticks(0.0, 120.0, 48)
    slow += ticks(slow[-1] + 60 / 60 / 24, 60.0, 72)  # from the 49th pulse on: half tempo
    for t in slow:
        f.feed(b"\xf8", t)
    assert f.count == len(slow) and f.lost == 0
    assert f.tempo == pytest.approx(60.0, rel=0.001)


def test_clock_in_leads_the_network_with_start_stop_and_song_position():
    rig = Rig()
    rig.apply(P.DefineNeuron("beat", {"rate": 1.0}), P.ClockIn("drums", 1.0))
    source = rig.clock_in
    assert source is not None and rig.authority.status()["authority"] == "clock_in"
    pulses = iter(ticks(0.0, 100.0, 2000))
    pending = [next(pulses)]
    starts: dict[str, float] = {}

    def feed(now: float) -> None:
        while pending[0] <= now:
            source.push(b"\xf8", pending[0])
            pending[0] = next(pulses)

    rig.run_until(1.0, feed)
    assert rig.net.tempo == pytest.approx(100.0, abs=0.05)  # tempo only, before Start
    rig.apply(P.Stop())
    source.push(b"\xfa", rig.session.now)  # Start: the next pulse is beat 0
    starts["start"] = pending[0]
    source._drain()
    assert rig.net.running
    rig.run_until(4.0, feed)
    on = rig.ons("beat", starts["start"] - 1e-9)
    assert on and all(
        abs(((t - starts["start"]) / 0.6) - round((t - starts["start"]) / 0.6)) < 1e-4 for t in on
    )
    source.push(b"\xfc", rig.session.now)
    source._drain()
    assert not rig.net.running
    source.push(bytes([0xF2, 2, 0]), rig.session.now)  # half a beat in
    source.push(b"\xfb", rig.session.now)
    cont = pending[0]
    source._drain()
    rig.run_until(7.0, feed)
    on = rig.ons("beat", cont - 1e-9)
    # beats fall half a beat (0.3 s) after the continue's first pulse, then every 0.6 s
    assert on and all(
        abs((t - cont - 0.3) / 0.6 - round((t - cont - 0.3) / 0.6)) < 1e-4 for t in on
    )
