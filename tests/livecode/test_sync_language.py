"""The language side of the tempo authority: link(), clock_in(); one at a time; save, ls,
--watch, the toolbar; bad arguments refused with a clear message and nothing sent."""

from __future__ import annotations

import pytest

from engine import protocol as P
from livecode.language.errors import LivecodeError
from livecode.language.interpreter import Interpreter
from livecode.language.session_text import session_text
from livecode.repl.toolbar import sync_part
from livecode.repl.watch import file_ops


def test_link_and_clock_in_make_their_ops_and_one_ends_the_other():
    interp = Interpreter()
    assert interp.run("link()").ops == (P.Link(True, 4.0, False),)
    assert interp.mirror.link == P.Link(True, 4.0, False)
    assert interp.run('clock_in("TR-8", quantum=2)').ops == (P.ClockIn("TR-8", 2.0),)
    assert interp.mirror.link is None and interp.mirror.clock_in == P.ClockIn("TR-8", 2.0)
    interp.run("x = clock_in()")
    assert interp.variables["x"] == "TR-8"
    assert interp.run("link(quantum=3, startstop=True)").ops == (P.Link(True, 3.0, True),)
    assert interp.mirror.clock_in is None
    assert interp.run("link(False)").ops[0].on is False and interp.mirror.link is None
    assert interp.run("clock_in(False)").ops == (P.ClockIn(""),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('link("yes")', "link() takes True or False, got str"),
        ("link(quantum=0)", "quantum must be in range 1..64 beats, got 0"),
        ("link(startstop=1)", "startstop is True or False, got int"),
        ("clock_in(3)", "clock_in() needs a port name (a str) or False, got int"),
        ('clock_in("x", quantum=100)', "quantum must be in range 1..64 beats, got 100"),
    ],
)
def test_bad_arguments_are_refused_and_send_nothing(text, message):
    interp = Interpreter()
    with pytest.raises(LivecodeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        interp.run(text)
    assert interp.mirror.link is None and interp.mirror.clock_in is None


def test_saved_listed_and_watched():
    interp = Interpreter()
    interp.run("n1 = neuron(36)\nlink(quantum=3, startstop=True)")
    text = session_text(interp.mirror, interp.variables)
    assert "link(True, quantum=3, startstop=True)" in text
    again = Interpreter()
    again.run(text)
    assert again.mirror == interp.mirror
    assert (
        "tempo authority: Ableton Link (quantum 3, start/stop shared)"
        in (interp.run("ls()").output[0])
    )
    interp.run('clock_in("TR-8")')
    assert "tempo authority: MIDI clock in from 'TR-8' (quantum 4)" in interp.run("ls()").output[0]
    # --watch: a file that sets an authority sets it; one that does not leaves it
    current = interp.mirror.copy()
    edited = Interpreter()
    edited.run("n1 = neuron(36)\nlink()")
    assert P.Link(True, 4.0, False) in file_ops(current, edited.mirror)
    plain = Interpreter()
    plain.run("n1 = neuron(36)")
    assert not [op for op in file_ops(current, plain.mirror) if isinstance(op, (P.Link, P.ClockIn))]


def test_the_toolbar_shows_peers_and_the_session_tempo():
    assert sync_part({"authority": "own"}) == [] and sync_part(None) == []
    assert sync_part({"authority": "link", "peers": 2, "session_tempo": 120.0}) == [
        "link 2 peers 120.0"
    ]
    assert sync_part({"authority": "link", "peers": 1, "session_tempo": None}) == ["link 1 peer"]
    assert sync_part({"authority": "clock_in", "clock_tempo": 133.04, "jitter_ms": 0.2}) == [
        "clock in 133.0 bpm, jitter 0.20 ms"
    ]
