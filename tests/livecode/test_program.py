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


def test_programs_are_saved_reloaded_and_listed():
    it = Interpreter()
    it.run('program(2, "Synth Bass 1"); program(10, "Power"); b = neuron(36, ch=2)')
    text = session_text(it.mirror, it.variables)
    assert "program(2, 39)  # Synth Bass 1" in text
    fresh = Interpreter()
    fresh.run(text)
    assert fresh.mirror == it.mirror
    assert "ch2: 39 Synth Bass 1" in listing(it.mirror)
