"""Refusals, positions, carets, suggestions, and atomic blocks."""

from __future__ import annotations

import pickle

import pytest

from livecode.language.errors import (
    BadType,
    BadValue,
    LanguageSyntaxError,
    LivecodeError,
    Refused,
    UndefinedName,
    UnknownAttribute,
    UnknownFunction,
)
from livecode.language.interpreter import Interpreter


@pytest.fixture
def it() -> Interpreter:
    it = Interpreter()
    it.run("n1 = neuron(36); n2 = neuron(38)")
    return it


def error(it: Interpreter, source: str) -> LivecodeError:
    with pytest.raises(LivecodeError) as info:
        it.run(source)
    return info.value


def caret_col(err: LivecodeError) -> int:
    """The 1-based column the rendered caret points at."""
    src_line, caret_line = str(err).splitlines()[1:3]
    assert src_line == "  " + err.source_line
    return caret_line.index("^") - 1


def test_rendering_matches_the_contract():
    err = error(Interpreter(), "n1 = neuron(36, thr=1.2); n1 >> n2 @ -0.4")
    assert isinstance(err, UndefinedName) and isinstance(err, NameError)
    assert str(err) == (
        "<repl>:1:33: `n2` is not defined; did you mean `n1`?\n"
        "  n1 = neuron(36, thr=1.2); n1 >> n2 @ -0.4\n"
        "                                  ^"
    )
    assert (err.filename, err.line, err.col, err.suggestion) == ("<repl>", 1, 33, "n1")
    assert err.render() == str(err)


@pytest.mark.parametrize(
    "source, line, col, fragment",
    [
        ("import os", 1, 1, "`import` is not allowed"),
        ("x = 1\nfrom os import path", 2, 1, "`from ... import` is not allowed"),
        ("def f():\n    pass", 1, 1, "`def` is not allowed"),
        ("class A:\n    pass", 1, 1, "`class` is not allowed"),
        ("f = lambda: 1", 1, 5, "`lambda` is not allowed"),
        ("while True:\n    pass", 1, 1, "`while` is not allowed"),
        ("with x:\n    pass", 1, 1, "`with` is not allowed"),
        ("try:\n    x = 1\nexcept Exception:\n    pass", 1, 1, "`try` is not allowed"),
        ("raise 1", 1, 1, "`raise` is not allowed"),
        ("global x", 1, 1, "`global` is not allowed"),
        ("assert 1", 1, 1, "`assert` is not allowed"),
        ("if (y := 3):\n    pass", 1, 5, "`:=` is not allowed"),
        ("_x = 1", 1, 1, "names starting with `_`"),
        ("y = n1 + _hidden", 1, 10, "names starting with `_`"),
        ("().__class__", 1, 4, "attributes starting with `_`"),
        ("n1.__dict__", 1, 4, "attributes starting with `_`"),
        ("x = n1.__class__.__mro__", 1, 18, "attributes starting with `_`"),
        ("__import__('os').system('x')", 1, 1, "names starting with `_`"),
        ("neuron(36, __x=1)", 1, 12, "names starting with `_`"),
        ("n1.fire()", 1, 4, "methods are not part of the language"),
        ("{1, 2}", 1, 1, "sets are not part of the language"),
        ("x = 1 | 2", 1, 5, "`|` is not part"),
        ("xs = [1]\nxs[0] = 2", 2, 1, "changing an item in place"),
        ("if False:\n    import os", 2, 5, "`import` is not allowed"),
    ],
)
def test_refusals_are_positioned(it, source, line, col, fragment):
    err = error(it, source)
    assert isinstance(err, Refused) and isinstance(err, SyntaxError)
    assert fragment in err.message
    assert (err.line, err.col) == (line, col)
    assert caret_col(err) == col
    assert it.mirror.neurons.keys() == {"n1", "n2"}


def test_unknown_function_suggests_a_function(it):
    err = error(it, "x = 1\ntempp(96)")
    assert isinstance(err, UnknownFunction) and isinstance(err, NameError)
    assert (err.line, err.col, err.suggestion) == (2, 1, "tempo")
    assert "did you mean `tempo`?" in str(err)


def test_unknown_attribute_suggests_a_parameter(it):
    err = error(it, "n1.rte = 3")
    assert isinstance(err, UnknownAttribute) and isinstance(err, AttributeError)
    assert (err.col, err.suggestion) == (4, "rate")
    err = error(it, "x = n1.treshold")
    assert err.suggestion == "thr"
    assert error(it, "n3 = neuron(velocity=3)").suggestion == "vel"


def test_fstring_format_spec_is_refused(it):
    err = error(it, "x = f'{3:>1000000000}'")
    assert isinstance(err, Refused) and "format specs" in err.message and err.line == 1


def test_unknown_keyword_suggests_a_parameter_and_points_at_it(it):
    err = error(it, "n3 = neuron(36, thrr=1)")
    assert isinstance(err, BadType) and err.suggestion == "thr" and err.col == 17
    err = error(it, "connect(n1, n2, 0.3, dealy=1)")
    assert err.suggestion == "delay" and err.col == 22


def test_bad_parameter_value_points_at_the_argument(it):
    err = error(it, "n3 = neuron(36, ch=17)")
    assert isinstance(err, BadValue) and "ch must be in range 1..16, got 17" in err.message
    assert err.col == 17
    err = error(it, "n3 = neuron('H4')")
    assert "note name" in err.message and err.col == 13
    err = error(it, "n1.vel = 300")
    assert "vel must be in range 1..127, got 300" in err.message


def test_bad_connection_kind_suggests(it):
    err = error(it, "connect(n1, n2, kind='cnt')")
    assert isinstance(err, BadValue) and err.suggestion == "cont"


def test_syntax_error_keeps_the_parser_position(it):
    err = error(it, "x = 1\ny = (2 +\n")
    assert isinstance(err, LanguageSyntaxError) and isinstance(err, SyntaxError)
    assert err.line == 2 and err.col == 5
    err = error(it, "x = = 2")
    assert (err.line, err.col) == (1, 5)
    assert caret_col(err) == 5


def test_columns_count_characters_not_bytes(it):
    err = error(it, "s = 'héllo'; y = nope")
    assert err.col == 18
    assert caret_col(err) == 18


def test_bare_neuron_needs_a_name(it):
    err = error(it, "x = 1\nneuron(40)")
    assert "bound to a name" in err.message and (err.line, err.col) == (2, 1)
    err = error(it, "n1 >> neuron(40)")
    assert "bound to a name" in err.message


def test_errors_in_loaded_files_name_that_file():
    files = {"set.neu": "a = neuron(1)\nb = neuron(2, rate=-1)\n"}
    it = Interpreter(read_file=files.__getitem__)
    err = error(it, "load('set.neu')")
    assert (err.filename, err.line, err.col) == ("set.neu", 2, 15)
    assert str(err).startswith("set.neu:2:15: rate must be in range 0..10000, got -1")
    assert it.mirror.neurons == {}


def test_load_nesting_is_bounded():
    it = Interpreter(read_file=lambda path: "load('self.neu')")
    err = error(it, "load('self.neu')")
    assert "nest at most 8" in err.message


def test_a_failing_reader_is_a_positioned_host_error():
    def reader(path: str) -> str:
        raise FileNotFoundError(2, "No such file or directory")

    err = error(Interpreter(read_file=reader), "x = 1\nload('gone.neu')")
    assert isinstance(err, OSError) and err.line == 2 and "gone.neu" in err.message


def test_error_on_line_3_leaves_lines_1_and_2_unapplied(it):
    before_mirror = it.mirror.copy()
    before_vars = it.variables
    with pytest.raises(UndefinedName) as info:
        it.run("n3 = neuron(40)\nn1 >> n2 @ 0.2\nn1 >> n9\n")
    assert info.value.line == 3
    assert it.mirror == before_mirror
    assert it.variables == before_vars
    assert "n3" not in it.names()
    # and the interpreter still works afterwards, from the old state
    assert [type(op).__name__ for op in it.run("n1 >> n2").ops] == ["Connect"]


def test_failed_block_does_not_delete_or_rebind(it):
    with pytest.raises(LivecodeError):
        it.run("del n1\nx = 5\nclear()\ntempo(0)")
    assert it.neuron_names() == ["n1", "n2"] and "x" not in it.names()
    assert "n1" in it.names() and it.mirror.tempo == 120.0


def test_deleted_neuron_in_a_list_is_reported(it):
    it.run("both = [n1, n2]\ndel n1")
    err = error(it, "mute(both)")
    assert "no longer exists" in err.message


def test_errors_pickle_with_their_position(it):
    err = error(it, "n1 >> n3")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err) and str(back) == str(err)


@pytest.mark.parametrize(
    "source, kind",
    [
        ("1 / 0", ZeroDivisionError),
        ("[1][5]", IndexError),
        ("{'a': 1}['b']", IndexError),
        ("1 + 'a'", TypeError),
        ("len(5)", TypeError),
        ("n1 + 1", TypeError),
        ("x = 5; x()", TypeError),
        ("int('x')", ValueError),
        ("a, b = [1, 2, 3]", ValueError),
        ("(-8) ** 0.5", ValueError),
        ("10.0 ** 400", ValueError),
        ("n1 >> 3", TypeError),
        ("3 >> n1", TypeError),
        ("n1 >> n2 @ 'x'", TypeError),
        ("tempo = 3", SyntaxError),
        ("for x in 5:\n    pass", TypeError),
        ("break", SyntaxError),
        ("range(1, 2, 0)", ValueError),
    ],
)
def test_runtime_errors_are_livecode_errors_of_the_matching_builtin(it, source, kind):
    err = error(it, source)
    assert isinstance(err, kind) and err.line >= 1 and err.col >= 1
