"""Whatever the text, ``run`` returns a Result or raises a LivecodeError, and stays atomic."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import protocol as P
from livecode.language.errors import LivecodeError
from livecode.language.interpreter import Interpreter, Result
from livecode.language.session_text import session_text

NAMES = ["n1", "n2", "hats", "x", "i", "k"]
FUNCS = [
    "neuron",
    "connect",
    "disconnect",
    "tempo",
    "mute",
    "unmute",
    "solo",
    "unsolo",
    "fire",
    "reset",
    "stop",
    "start",
    "panic",
    "clear",
    "ls",
    "help",
    "range",
    "len",
    "min",
    "max",
    "abs",
    "round",
    "int",
    "float",
    "str",
    "list",
    "sum",
    "sorted",
    "enumerate",
    "zip",
    "midi",
    "save",
    "quit",
]
SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

numbers = st.one_of(
    st.integers(-200, 200).map(str),
    st.floats(-1000, 1000, allow_nan=False).map(repr),
    st.sampled_from(["10**9", "2**2**40", "0", "-0.4", "1e308", "float('nan')", "127", "16"]),
)
atoms = st.one_of(
    numbers,
    st.sampled_from(NAMES + ["True", "None", "'C4'", "'F#3'", "'x'", "'cont'", "'pulse'"]),
)


def _expr(children):
    return st.one_of(
        st.tuples(
            children,
            st.sampled_from(
                ["+", "-", "*", "/", "//", "%", "**", ">>", "@", "==", "<", "and", "or", " in "]
            ),
            children,
        ).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["-", "not "]), children).map("".join),
        st.lists(children, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.tuples(
            st.sampled_from(FUNCS),
            st.lists(children, max_size=3),
            st.lists(
                st.tuples(
                    st.sampled_from(list(P.PARAMS) + ["w", "delay", "kind", "rte"]), children
                ),
                max_size=2,
            ),
        ).map(
            lambda t: (
                f"{t[0]}(" + ", ".join(t[1] + [f"{k}={v}" for k, v in dict(t[2]).items()]) + ")"
            )
        ),
        st.tuples(st.sampled_from(NAMES), st.sampled_from(list(P.PARAMS) + ["name", "foo"])).map(
            lambda t: f"{t[0]}.{t[1]}"
        ),
        st.tuples(children, children).map(lambda t: f"{t[0]}[{t[1]}]"),
        st.tuples(children, children).map(lambda t: f"[{t[0]} for i in range({t[1]})]"),
    )


exprs = st.recursive(atoms, _expr, max_leaves=8)


def _statement(body):
    simple = st.one_of(
        st.tuples(st.sampled_from(NAMES), exprs).map(lambda t: f"{t[0]} = {t[1]}"),
        st.tuples(st.sampled_from(NAMES), st.sampled_from(list(P.PARAMS) + ["rtae"]), exprs).map(
            lambda t: f"{t[0]}.{t[1]} = {t[2]}"
        ),
        st.tuples(st.sampled_from(NAMES), st.sampled_from(["+=", "*=", "-="]), exprs).map(
            lambda t: f"{t[0]} {t[1]} {t[2]}"
        ),
        st.tuples(
            st.sampled_from(["n1", "n2", "hats"]), st.sampled_from(["n1", "n2", "hats"]), numbers
        ).map(lambda t: f"{t[0]} >> {t[1]} @ {t[2]}"),
        st.sampled_from(NAMES).map(lambda n: f"del {n}"),
        st.sampled_from(
            [
                "n1 = neuron(36)",
                "n2 = neuron('D3', rate=2)",
                "pass",
                "break",
                "hats = [neuron(42 + i, phase=i / 4) for i in range(4)]",
            ]
        ),
        exprs,
    )
    return st.one_of(
        simple,
        st.tuples(exprs, body).map(lambda t: f"if {t[0]}:\n" + _indent(t[1])),
        st.tuples(exprs, body).map(lambda t: f"for i in {t[0]}:\n" + _indent(t[1])),
    )


def _indent(block: str) -> str:
    return "\n".join("    " + line for line in block.splitlines()) + "\n"


statements = st.recursive(st.just("pass"), lambda b: _statement(b), max_leaves=4)
programs = st.lists(statements, min_size=1, max_size=6).map("\n".join)


def _check(it: Interpreter, source: str) -> None:
    before = (it.mirror.copy(), it.variables)
    try:
        result = it.run(source)
    except LivecodeError as err:
        assert (it.mirror, it.variables) == before  # atomic
        str(err)  # renders
        return
    assert isinstance(result, Result)
    assert all(isinstance(line, str) for line in result.output)
    for op in result.ops:
        assert type(op) is P.OPS[type(op).__name__]  # a protocol op, nothing else


@SETTINGS
@given(st.text(max_size=200))
def test_arbitrary_text(source):
    _check(Interpreter(), source)


@SETTINGS
@given(st.text(alphabet=string.printable, max_size=120))
def test_arbitrary_printable_text_after_setup(source):
    it = Interpreter()
    it.run("n1 = neuron(36); n2 = neuron(38); hats = [neuron(40), neuron(41)]; x = [1, 2]")
    _check(it, source)


@SETTINGS
@given(st.lists(programs, min_size=1, max_size=3))
def test_programs_from_the_grammar(blocks):
    it = Interpreter()
    it.run("n1 = neuron(36); n2 = neuron(38); hats = [neuron(40), neuron(41)]; x = 3; k = 1")
    for source in blocks:
        _check(it, source)
    # whatever happened, the network still writes out and reads back the same
    fresh = Interpreter()
    fresh.run(session_text(it.mirror))
    assert fresh.mirror == it.mirror
