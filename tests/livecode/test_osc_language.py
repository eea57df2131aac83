"""The language side of OSC: osc() controls, .fire, tempo(osc(...)), unmap, save, ls, engine."""

from __future__ import annotations

import pytest

from engine import protocol as P
from livecode.language.errors import LivecodeError
from livecode.language.interpreter import Interpreter
from livecode.language.session_text import session_text
from tests.engine.osc_rig import OscRig, message

SET = """
n1 = neuron(36); hats = [neuron(42 + i) for i in range(3)]
n1.thr = osc("/1/fader1", 0.5, 2.0)
n1.rate = osc("/1/xy1", 0.25, 8, curve="exp", arg=1)
hats.vel = osc("/1/multifader1/3")
n1.fire = osc("/1/push1")
tempo(osc("/1/rotary1", 60, 180, curve="exp"))
"""


def maps(interp: Interpreter) -> set[tuple]:
    return {
        (m.address, m.name, m.param, m.lo, m.hi, m.curve, m.arg)
        for m in interp.mirror.mappings.values()
    }


def test_assignments_make_mappings():
    interp = Interpreter()
    ops = [op for op in interp.run(SET).ops if isinstance(op, P.Map)]
    assert ops[0] == P.Map("osc", "/1/fader1", "n1", "thr", 0.5, 2.0, "lin", 0)
    assert ops[1] == P.Map("osc", "/1/xy1", "n1", "rate", 0.25, 8.0, "exp", 1)
    # no lo/hi: the parameter's own range; a list maps every member
    assert [(o.name, o.lo, o.hi) for o in ops[2:5]] == [(f"hats_{i}", 1.0, 127.0) for i in range(3)]
    assert ops[5] == P.Map("osc", "/1/push1", "n1", "fire", 0.0, 1.0, "lin", 0)
    assert ops[6] == P.Map("osc", "/1/rotary1", "", "tempo", 60.0, 180.0, "exp", 0)
    # a plain value keeps the mapping (the fader takes over again when it moves)
    interp.run("n1.thr = 1.5")
    assert ("/1/fader1", "n1", "thr", 0.5, 2.0, "lin", 0) in maps(interp)
    # a new control for the same target replaces the old one
    interp.run('n1.thr = osc("/2/fader1", 1, 3)')
    assert {m[0] for m in maps(interp) if m[1:3] == ("n1", "thr")} == {"/2/fader1"}


def test_save_round_trip_and_ls():
    interp = Interpreter()
    interp.run(SET)
    text = session_text(interp.mirror, interp.variables)
    assert "n1.thr = osc('/1/fader1', 0.5, 2.0)" in text
    assert "tempo(osc('/1/rotary1', 60.0, 180.0, curve='exp'))" in text
    assert "hats[2].vel = osc('/1/multifader1/3', 1.0, 127.0)" in text
    again = Interpreter()
    again.run(text)
    assert again.mirror == interp.mirror
    listing = interp.run("ls()").output[0]
    assert "/1/xy1 arg 1 -> n1.rate 0.25..8 exp" in listing
    assert "/1/push1 -> n1.fire" in listing
    # the REPL rebuilds a fresh engine from the mirror, mappings included
    assert sum(isinstance(op, P.Map) for op in interp.mirror.to_ops()) == 7


def test_unmap_and_removal():
    interp = Interpreter()
    interp.run(SET)
    ops = interp.run('unmap(n1, "thr")').ops
    assert ops == (P.Unmap("osc", "/1/fader1", "n1", "thr"),)
    interp.run('unmap("/1/multifader1/3")')
    assert not any(m[0] == "/1/multifader1/3" for m in maps(interp))
    interp.run("unmap(tempo)")
    assert not any(m[2] == "tempo" for m in maps(interp))
    interp.run("del n1")  # a removed neuron takes its mappings with it
    assert maps(interp) == set()
    interp.run('k = neuron(36); k.fire = osc("/1/push2"); tempo(osc("/1/rotary1")); clear()')
    assert {m[2] for m in maps(interp)} == {"tempo"}  # clear() keeps the tempo's control
    interp.run("unmap()")
    assert maps(interp) == set()


@pytest.mark.parametrize(
    "source, message",
    [
        ("n1.fire = 3", "`.fire` takes a control to fire on"),
        ('n1.rate = osc("/x", curve="exp")', 'curve="exp" needs lo and hi above 0'),
        ('n1.thr = osc("/x", 0, 2, curve="exp")', 'curve="exp" needs lo and hi above 0'),
        ('n1.thr = osc("1/fader1")', "an OSC address starts with /"),
        ('n1.thr = osc("/1/fader*")', "an OSC address starts with /"),
        ('n1.thr = osc("/x", curve="log")', 'curve must be "lin" or "exp"'),
        ('n1.thr = osc("/x", arg=-1)', "arg picks an argument 0..255"),
        ('n1.thr = osc("/x", float("nan"))', "must be a finite number"),
        ('n1.speeed = osc("/x")', "neurons have no parameter `speeed`"),
        ('unmap("/1/nothing")', "nothing is mapped to '/1/nothing'"),
        ('unmap(n1, "thr")', "n1 has no thr mapping"),
        ("x = osc(5)", "needs an address as a str"),
    ],
)
def test_refusals_change_nothing(source, message):
    interp = Interpreter()
    interp.run("n1 = neuron(36)")
    before = interp.mirror.copy()
    with pytest.raises(LivecodeError) as err:
        interp.run(source)
    assert message in str(err.value)
    assert interp.mirror == before


def test_language_mapping_drives_a_running_engine(tmp_path):
    interp = Interpreter()
    result = interp.run(
        "n1 = neuron(36, rate=0, dur=0.1)\n"
        'n1.thr = osc("/1/fader1", 0.5, 2.0)\n'
        'n1.fire = osc("/1/push1")\n'
        'tempo(osc("/1/rotary1", 60, 180, curve="exp"))'
    )
    rig = OscRig(tmp_path)
    try:
        rig.patch(*result.ops)
        rig.send(message("/1/fader1", 0.5))
        rig.send(message("/1/rotary1", 1.0))
        rig.send(message("/1/push1", 1.0))
        st = rig.settled(3)
        assert rig.neuron("n1")["thr"] == pytest.approx(1.25)
        assert st["tempo"] == pytest.approx(180.0)
        assert [e["note"] for e in rig.note_ons("n1")] == [36]
        # unmap in the language: the address is unknown to the engine from then on
        rig.patch(*interp.run('unmap(n1, "thr")').ops)
        rig.send(message("/1/fader1", 1.0))
        st = rig.settled(4)
        assert rig.neuron("n1")["thr"] == pytest.approx(1.25)
        assert st["osc"]["dropped"]["address"] == 1
    finally:
        rig.close()
