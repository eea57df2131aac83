"""program(ch, name): GM programs by name or number, refused clearly, saved and listed."""

from __future__ import annotations

import pytest

from engine import protocol as P
from livecode.language.errors import BadType, BadValue, LivecodeError
from livecode.language.interpreter import Interpreter
from livecode.language.session_text import listing, session_text


def test_names_and_numbers_give_one_gm_program():
    it = Interpreter()
    ops = it.run('program(2, "Fingered Bass"); program(3, "electric bass (finger)")').ops
    assert list(ops) == [P.Program(2, 34), P.Program(3, 34)]  # GM numbering: 1..128
    assert list(it.run("program(4, 128)").ops) == [P.Program(4, 128)]
    assert list(it.run('program(10, "TR 808")').ops) == [P.Program(10, 26)]  # drum kits on 10
    assert it.mirror.programs == {2: 34, 3: 34, 4: 128, 10: 26}
    assert it.run("program(2)").output == ["34 Fingered Bass"]
    assert it.run("program(5)").output == ["1 Piano 1"]


@pytest.mark.parametrize(
    "source, kind, words",
    [
        ('program(2, "Fingerd Bass")', BadValue, "did you mean 'Fingered Bass'"),
        ("program(2, 0)", BadValue, "1..128"),
        ("program(2, 129)", BadValue, "1..128"),
        ("program(17, 1)", BadValue, "1..16"),
        ('program(10, "Fingered Bass")', BadValue, "drum kit"),
        ("program(2, 1.5)", BadType, "number 1..128 or a GM name"),
    ],
)
def test_bad_programs_are_refused_and_change_nothing(source, kind, words):
    it = Interpreter()
    it.run("program(2, 39)")
    with pytest.raises(LivecodeError) as info:
        it.run("n = neuron(40, ch=2); " + source)
    assert isinstance(info.value, kind)
    assert words in str(info.value)
    assert "^" in str(info.value)  # positioned, with a caret
    assert it.mirror.programs == {2: 39} and "n" not in it.mirror.neurons


def test_programs_volumes_and_pans_are_saved_reloaded_and_listed():
    it = Interpreter()
    it.run('program(2, "Synth Bass 1"); program(10, "Power"); b = neuron(36, ch=2)')
    it.run("volume(2, 90); pan(3, -0.5); pan(2, 0.25)")
    text = session_text(it.mirror, it.variables)
    assert "program(2, 39)  # Synth Bass 1" in text
    assert "volume(2, 90)" in text and "pan(3, -0.5)" in text
    fresh = Interpreter()
    fresh.run(text)
    assert fresh.mirror == it.mirror
    assert "ch2: 39 Synth Bass 1, volume 90, pan 0.25" in listing(it.mirror)
    assert "ch3: 1 Piano 1, volume 100, pan -0.5" in listing(it.mirror)
    assert it.run("volume(2)").output == ["90"] and it.run("pan(4)").output == ["0.0"]


def test_volume_and_pan_go_out_as_control_changes():
    it = Interpreter()
    assert list(it.run("volume(2, 0); pan(2, 1); pan(ch=5, position=-1)").ops) == [
        P.Mix(2, volume=0),
        P.Mix(2, pan=1.0),
        P.Mix(5, pan=-1.0),
    ]
    events = [e for op in it.mirror.channel_ops() for e in op.events(0.0, 0.0)]
    assert [(e.type, e.ch, e.note, e.vel) for e in events] == [
        ("control_change", 2, 7, 0),
        ("control_change", 2, 10, 127),
        ("control_change", 5, 10, 0),
    ]


@pytest.mark.parametrize(
    "source, words",
    [
        ("volume(2, 128)", "0..127"),
        ("volume(0, 10)", "1..16"),
        ("pan(2, 1.5)", "-1..1"),
        ('pan(2, "left")', "must be a number"),
    ],
)
def test_bad_volumes_and_pans_are_refused(source, words):
    it = Interpreter()
    with pytest.raises(LivecodeError) as info:
        it.run(source)
    assert words in str(info.value) and "^" in str(info.value)
    assert it.mirror.volumes == {} and it.mirror.pans == {}
