"""The language side of MIDI input: cc(), noteon(), listen(), follow(), clock(); save, ls, watch."""

from __future__ import annotations

import pytest

from engine import protocol as P
from engine.model.network import Network
from livecode.language.errors import LivecodeError
from livecode.language.interpreter import Interpreter
from livecode.language.session_text import session_text
from livecode.repl.watch import file_ops

SET = """
keys = listen(ch=1, lo="C2", hi=84)
n1 = neuron(50, rate=0, ch=2)
keys >> n1 @ 1.0
n1.note = follow(keys, +7)
n1.vel = follow(keys, -10)
n2 = neuron(40)
n2.rate = cc(74, 0.25, 8, curve="exp", ch=1)
n2.fire = cc(64)
n2.fire = noteon(36, ch=10)
n2.vel = noteon(ch=2)
tempo(cc(20, 60, 180))
pads = [listen(ch=10, lo=i, hi=i) for i in range(36, 38)]
clock(True)
keys.ch = 3
"""


def test_the_set_makes_the_engine_ops():
    interp = Interpreter()
    ops = interp.run(SET).ops
    assert ops[0] == P.DefineNeuron("keys", {**ops[0].params, "rate": 0.0, "mute": True, "ch": 1})
    assert ops[1] == P.Listen("keys", 1, 36, 84)
    assert P.Follow("n1", "note", "keys", 7) in ops and P.Follow("n1", "vel", "keys", -10) in ops
    assert P.Map("cc", "1/74", "n2", "rate", 0.25, 8.0, "exp") in ops
    assert P.Map("cc", "0/64", "n2", "fire", 0.0, 1.0) in ops
    assert P.Map("note", "10/36", "n2", "fire", 0.0, 1.0) in ops
    assert P.Map("note", "2", "n2", "vel", 1.0, 127.0) in ops
    assert P.Map("cc", "0/20", "", "tempo", 60.0, 180.0) in ops
    assert P.Listen("pads_1", 10, 37, 37) in ops and P.MidiClock(True) in ops
    # the engine takes the whole block, and plays what keys heard a fifth up
    net = Network()
    net.apply(P.Batch(ops))
    events = net.apply(P.NoteIn(1, 60, 100), 1.0)
    assert [
        (e.neuron, e.ch, e.note, e.vel) for e in events if e.type == "note_on" and e.neuron != "n2"
    ] == [("n1", 2, 67, 90)]


def test_save_round_trip_ls_and_restart_ops():
    interp = Interpreter()
    interp.run(SET)
    text = session_text(interp.mirror, interp.variables)
    assert "keys = listen(ch=1, lo=36, hi=84)\nkeys.ch = 3" in text
    assert "n1.note = follow(keys, 7)" in text and "clock(True)" in text
    assert "n2.rate = cc(74, 0.25, 8.0, curve='exp', ch=1)" in text
    assert "n2.fire = noteon(36, ch=10)" in text and "tempo(cc(20, 60.0, 180.0))" in text
    again = Interpreter()
    again.run(text)
    assert again.mirror == interp.mirror
    listing = interp.run("ls()").output[0]
    assert "[listen(ch=1, lo=36, hi=84)]" in listing
    assert "[note = follow(keys, 7)]" in listing
    assert "cc(74, 0.25, 8.0, curve='exp', ch=1) -> n2.rate 0.25..8 exp" in listing
    assert "noteon(36, ch=10) -> n2.fire" in listing and "midi clock out: on" in listing
    # a fresh engine rebuilt from the mirror holds the same inputs, links and clock
    net = Network()
    net.apply(P.Batch(tuple(interp.mirror.to_ops())))
    assert net.inputs()["keys"] == (1, 36, 84) and net.clock_out
    assert net.follows() == {("n1", "note"): ("keys", 7), ("n1", "vel"): ("keys", -10)}


def test_following_ends_when_set_redefined_or_rebound():
    interp = Interpreter()
    interp.run(SET)
    interp.run("n1.note = 62")
    assert ("n1", "note") not in interp.mirror.follows
    assert ("n1", "vel") in interp.mirror.follows
    interp.run("n1 = neuron(50)")
    assert interp.mirror.follows == {}
    ops = interp.run("keys = neuron(60)").ops
    assert P.Listen("keys", on=False) in ops and "keys" not in interp.mirror.inputs
    interp.run("del pads")
    assert set(interp.mirror.inputs) == set()


def test_unmap_midi_controls():
    interp = Interpreter()
    interp.run(SET)
    assert interp.run("unmap(cc(74, ch=1))").ops == (P.Unmap("cc", "1/74", "n2", "rate"),)
    assert interp.run('unmap(n2, "fire")').ops == (
        P.Unmap("cc", "0/64", "n2", "fire"),
        P.Unmap("note", "10/36", "n2", "fire"),
    )
    interp.run("unmap()")
    assert interp.mirror.mappings == {}


def test_watch_diff_keeps_inputs_and_follows():
    interp = Interpreter()
    interp.run(SET)
    current = interp.mirror.copy()
    edited = Interpreter()
    edited.run(
        SET.replace("n1 = neuron(50, rate=0, ch=2)", "n1 = neuron(52, rate=0, ch=2)")
        .replace("clock(True)", "")
        .replace('lo="C2"', "lo=40")
    )
    ops = file_ops(current, edited.mirror)
    assert P.Listen("keys", 1, 40, 84) in ops and P.MidiClock(False) in ops
    # n1 is redefined, which ends its links in the engine: they are sent again
    assert P.Follow("n1", "note", "keys", 7) in ops
    net = Network()
    net.apply(P.Batch(tuple(current.to_ops())))
    net.apply(P.Batch(tuple(ops)))
    assert net.follows()[("n1", "note")] == ("keys", 7) and not net.clock_out


@pytest.mark.parametrize(
    "source, message",
    [
        ("n1.note = follow(n1, 3)", "`n1` does not listen to MIDI"),
        ("n1.rate = follow(k)", "follow() drives .note or .vel"),
        ("n1.note = follow(k, 300)", "by must be in range -127..127"),
        ("n1.rate = cc(200)", "controller number must be in range 0..127"),
        ("n1.rate = cc(1, ch=17)", "ch must be in range 1..16"),
        ('n1.rate = cc(1, 0, 2, curve="exp")', 'curve="exp" needs lo and hi above 0'),
        ("x = listen(lo=80, hi=60)", "note range is empty"),
        ('x = listen(lo="H2")', "a note name looks like"),
        ("n1.fire = noteon(128)", "a note must be in range 0..127"),
        ('clock("yes")', "clock() takes True or False"),
        ("x = follow(3)", "follow() takes an input neuron"),
    ],
)
def test_refusals_change_nothing(source, message):
    interp = Interpreter()
    interp.run("n1 = neuron(36); k = listen()")
    before = interp.mirror.copy()
    with pytest.raises(LivecodeError) as err:
        interp.run(source)
    assert message in str(err.value)
    assert interp.mirror == before
