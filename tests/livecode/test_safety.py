"""Hostile session text is refused quickly and runs nothing."""

from __future__ import annotations

import pytest

from livecode.language.errors import LimitExceeded, LivecodeError, Refused
from livecode.language.interpreter import Interpreter
from livecode.language.values import Limits


@pytest.fixture
def marker(tmp_path):
    return tmp_path / "pwned"


HOSTILE = [
    "__import__('os').system('touch {m}')",
    "import os\nos.system('touch {m}')",
    "().__class__.__bases__[0].__subclasses__()",
    "n = neuron(1)\nn.__class__.__init__.__globals__['os'].system('touch {m}')",
    "x = [].__class__",
    "open('{m}', 'w')",
    "exec(\"open('{m}', 'w')\")",
    "eval('1')",
    "getattr(1, 'real')",
    "globals()",
    "breakpoint()",
    "compile('1', 'f', 'exec')",
    "type(1)",
    "vars()",
    "x = neuron\nx.__call__",
    "help.__globals__",
    "str.join",
    "'{{0.__class__}}'.format(1)",
    "f'{{().__class__}}'",
    "[c for c in ().__class__.__mro__]",
    "lambda: open('{m}', 'w')",
    "def f():\n    open('{m}', 'w')",
    "class A:\n    x = open('{m}', 'w')",
    "with open('{m}', 'w') as f:\n    pass",
]


@pytest.mark.parametrize("template", HOSTILE, ids=lambda source: source[:40])
def test_hostile_session_file_runs_nothing(tmp_path, marker, template):
    session = tmp_path / "evil.neu"
    session.write_text("n1 = neuron(36)\n" + template.format(m=marker) + "\n")
    it = Interpreter(read_file=lambda path: session.read_text())
    with pytest.raises(LivecodeError) as info:
        it.run(f"load({str(session)!r})")
    assert not marker.exists()
    assert it.mirror.neurons == {}  # the harmless first line did not happen either
    assert info.value.filename == str(session)


@pytest.mark.parametrize(
    "source",
    [
        "for i in range(10**9):\n    pass",
        "for i in range(10**6):\n    pass",
        "x = [0] * 10**9",
        "x = 'x' * 10**9",
        "x = 2 ** 2 ** 2 ** 40",
        "x = 10 ** 10 ** 10",
        "x = [i for i in range(10**9)]",
        "x = [[0] * 90000 for i in range(100)]",
        "x = 'ab' * 60000",
        "x = [0] * 50000 + [1] * 60000",
        "for i in range(5000):\n    for j in range(5000):\n        pass",
        "x = [[i, j] for i in range(1000) for j in range(1000)]",
        "x = 7 ** 5000",
        "x = 1\nfor i in range(100):\n    x = x * 10 ** 40",
        "x = sum(range(10**12))",
        "x = list(range(10**12))",
        "x = " + "(" * 50 + "1" + ")" * 50 + " + " + "+".join(["1"] * 100000),
        "x = list(range(10000))\nfor i in range(5000):\n    y = x == x[:]",
        "x = list(range(10000))\nfor i in range(5000):\n    y = 9999 in x",
        "x = 0\nfor i in range(9999):\n    x = [x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x]",
        "a = 0\nb = 1\nfor i in range(30):\n    a = [a] * 20\n    b = [b] * 20\nc = a == b",
    ],
    ids=lambda source: source[:40],
)
def test_resource_hogs_are_refused(source):
    it = Interpreter()
    with pytest.raises(LivecodeError) as info:
        it.run(source)
    assert isinstance(info.value, (LimitExceeded, Refused, SyntaxError))
    assert it.variables == {}


def test_range_over_the_limit_is_refused_before_iterating():
    it = Interpreter(limits=Limits(iterations=10))
    with pytest.raises(LimitExceeded, match="range of 11 items"):
        it.run("for i in range(11):\n    x = 1")
    it.run("for i in range(10):\n    x = i")
    assert it.variables["x"] == 9


def test_iteration_budget_is_per_block_in_total():
    it = Interpreter()
    it.run("for i in range(6000):\n    pass")  # each block has its own budget
    with pytest.raises(LimitExceeded, match="10,000"):
        it.run("for i in range(6000):\n    pass\nfor i in range(6000):\n    pass")


def test_deep_nesting_is_refused_cleanly():
    it = Interpreter()
    for source in [
        "x = " + "-" * 5000 + "1",
        "x = " + "[" * 300 + "]" * 300,
        "x = " + "not " * 3000 + "1",
        "x = 1" + " + 1" * 20000,
    ]:
        with pytest.raises(LivecodeError):
            it.run(source)


def test_deep_values_do_not_crash_comparison_or_echo():
    it = Interpreter()
    result = it.run("a = []\nb = []\nfor i in range(3000):\n    a = [a]\n    b = [b]\na\n")
    assert result.output[0].startswith("[[[[")
    with pytest.raises(LivecodeError):
        it.run("a == b")


def test_huge_source_is_refused():
    with pytest.raises(LimitExceeded):
        Interpreter().run("x = 1\n" * 200_000)
