"""A stranger's text cannot hurt the gig: deep, costly or oversized blocks are refused fast.

Each block here is refused whole (nothing applied) within one second of CPU time. CPU
time, not wall time: on a busy machine the wall clock says nothing about the block.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livecode.language.errors import Interrupted, LimitExceeded, LivecodeError
from livecode.language.interpreter import Interpreter
from livecode.language.sessionfile import file_reader
from livecode.language.values import Limits

SETUP = "n1 = neuron(36)\nxs = [1, 2, 3]\n"


def refused(it: Interpreter, source: str, filename: str = "<repl>") -> LivecodeError:
    """Run ``source``; it must be refused, positioned, fast, with nothing changed."""
    before = (it.mirror.copy(), it.variables)
    start = time.process_time()
    with pytest.raises(LivecodeError) as info:
        it.run(source, filename)
    spent = time.process_time() - start
    assert spent < 1.0, f"refusing took {spent:.2f} s of CPU"
    assert (it.mirror.neurons, it.mirror.connections) == (
        before[0].neurons,
        before[0].connections,
    )
    assert it.variables == before[1]
    return info.value


def fresh() -> Interpreter:
    it = Interpreter()
    it.run(SETUP)
    return it


# --- 1. depth: every later pass recurses, so the depth is checked first ------------------

WRAPPERS = [
    lambda e: f"{e}+1",
    lambda e: f"1+{e}",
    lambda e: f"not {e}",
    lambda e: f"-{e}",
    lambda e: f"{e}.rate",
    lambda e: f"{e}[0]",
    lambda e: f"abs({e})",
    lambda e: f"1 if {e} else 2",
    lambda e: f"1 if 1 else {e}",
    lambda e: f"[{e}]",
    lambda e: f"{{1: {e}}}",
    lambda e: f"{e} ** 1",
    lambda e: f"{e} >> n1",
    lambda e: f"{e} < 1",
    lambda e: f"{e} and 1",
]


@pytest.mark.parametrize(
    "source",
    [
        "x = 1" + "+1" * 1000,
        "x = " + "not " * 1000 + "1",
        "x = " + "1 if 1 else " * 700 + "1",
        "x = n1" + ".rate" * 1500,
        "x = xs" + "[0]" * 1000,
        "x = " + "abs(" * 150 + "1" + ")" * 150,
        "x = " + "-" * 1000 + "1",
        "for i in range(1):\n"
        + "".join(" " * d + "if 1:\n" for d in range(1, 150))
        + " " * 150
        + "x = 1",
    ],
    ids=["sum", "not", "ifexp", "attribute", "subscript", "calls", "minus", "ifs"],
)
def test_deep_nesting_is_a_positioned_refusal(source):
    err = refused(fresh(), source)
    assert err.line >= 1 and err.col >= 1
    assert "Traceback" not in err.render()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(range(len(WRAPPERS))), min_size=101, max_size=1500))
def test_any_deep_expression_is_refused_fast(chain):
    expr = "1"
    for i in chain:
        expr = WRAPPERS[i](expr)
    err = refused(fresh(), "x = " + expr)
    assert err.line >= 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(range(len(WRAPPERS))), max_size=40))
def test_shallow_expressions_run_or_are_refused_cleanly(chain):
    expr = "1"
    for i in chain:
        expr = WRAPPERS[i](expr)
    it = fresh()
    try:
        it.run("x = " + expr)
    except LivecodeError:
        pass  # a type error, say: any language error is fine, a Python one is not


# --- 2. work: one budget charged by everything a block causes ----------------------------

BOMBS = {
    "membership in a nested tuple, in a generator": (
        "t = tuple(tuple(range(90)) for i in range(90))\n"
        "big = (t,) * 99\n"
        "x = [(t in big) for i in range(5000)]"
    ),
    "== on two large distinct lists": (
        "a = [list(range(100)) for i in range(900)]\n"
        "b = [list(range(100)) for i in range(900)]\n"
        "for i in range(9000):\n    c = a == b"
    ),
    "sorted() of nested lists": (
        "a = [list(range(100)) for i in range(900)]\nfor i in range(9000):\n    b = sorted(a)"
    ),
    "min() of nested lists": (
        "a = [list(range(100)) for i in range(900)]\nfor i in range(9000):\n    b = min(a)"
    ),
    "dict lookups with a huge key": (
        "k = tuple(range(9000))\nd = {k: 1}\nfor i in range(9000):\n    v = d[k]"
    ),
    "floor division of huge literals": (
        "x = 0x" + "f" * 900_000 + "\nfor i in range(9999):\n    y = x // 7"
    ),
    "a huge string literal": "x = '" + "a" * 999_000 + "'",
}


@pytest.mark.parametrize("source", list(BOMBS.values()), ids=list(BOMBS))
def test_cpu_bombs_are_refused_fast(source):
    err = refused(fresh(), source)
    assert isinstance(err, LimitExceeded), err.render()
    assert "compute for at most" not in err.message  # a counter caught it, not the clock


def test_the_clock_bounds_what_the_counters_let_through():
    # ~250,000 cheap steps: under every counter, but about a second of Python
    source = "for i in range(9000):\n    x = [i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i]"
    Interpreter(limits=Limits(nodes=10**9)).run(source)  # runs to the end without the clock
    err = refused(Interpreter(limits=Limits(seconds=0.02)), source)
    assert "compute for at most 0.02 s" in err.message


def test_literals_are_held_to_the_limits_on_values():
    it = fresh()
    assert "4096 bits" in refused(it, "x = 0x" + "f" * 1025).message
    assert "100,000 characters" in refused(it, "x = '" + "a" * 100_001 + "'").message
    it.run("x = 0x" + "f" * 1024 + "\ny = '" + "a" * 100_000 + "'")  # the limits themselves


@pytest.fixture()
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_loading_a_large_file_in_a_loop_is_charged_each_time(folder):
    # 120 KB, mostly comment: cheap to run once even on a busy machine (the CPU clock stays
    # far off), so what refuses the loop is the parse budget charged at every load
    (folder / "big.neu").write_text(("x = 1  # " + "p" * 51 + "\n") * 2_000)
    it = Interpreter(read_file=file_reader(str(folder)))
    it.run('load("big.neu")')  # once is fine
    err = refused(it, 'for i in range(9999):\n    load("big.neu")')
    assert "parse at most" in err.message


def test_a_large_file_that_loads_itself_is_refused_fast(folder):
    (folder / "self.neu").write_text("# pad\n" * 150_000 + 'load("self.neu")\n')
    it = Interpreter(read_file=file_reader(str(folder)))
    err = refused(it, 'load("self.neu")')
    assert isinstance(err, LimitExceeded)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    size=st.integers(1, 100_000),
    width=st.integers(1, 300),
    loops=st.integers(1, 10_000),
    op=st.sampled_from(["==", "!=", "<", "in", "not in"]),
    shape=st.sampled_from(["list(range({n}))", "'a' * {n}", "tuple([{w}] * {n})"]),
)
def test_costly_comparisons_finish_or_are_refused_fast(size, width, loops, op, shape):
    inner = shape.format(n=size, w=f"tuple(range({width}))")
    other = shape.format(n=size, w=f"list(range({width}))")
    if op in ("in", "not in"):
        other = f"[{other}]"
    source = f"a = {inner}\nb = {other}\nfor i in range({loops}):\n    c = a {op} b"
    it = fresh()
    start = time.process_time()
    try:
        it.run(source)
    except LivecodeError:
        pass
    assert time.process_time() - start < 1.0


# --- Ctrl-C ------------------------------------------------------------------------------


def test_ctrl_c_during_a_block_is_a_refusal_that_changes_nothing():
    def reader(path: str) -> str:
        raise KeyboardInterrupt  # what SIGINT does to whatever runs at that moment

    it = Interpreter(read_file=reader)
    it.run(SETUP)
    before = it.variables
    try:
        with pytest.raises(Interrupted):
            it.run("n2 = neuron(40)\nload('a.neu')")
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped the interpreter")
    assert it.variables == before and "n2" not in it.mirror.neurons


def test_the_repl_loop_survives_ctrl_c_in_a_block():
    from livecode.repl.prompt import repl_loop

    said: list[str] = []

    class Live:
        def __init__(self) -> None:
            self.blocks: list[str] = []

        def say(self, text: str) -> None:
            said.append(text)

        refused = say  # the prompt's fault barrier reports through it

        def submit(self, text: str) -> bool:
            self.blocks.append(text)
            if text == "slow":
                raise KeyboardInterrupt
            return False

    class Prompt:
        texts = ["slow", "x = 1"]

        def prompt(self) -> str:
            if not self.texts:
                raise EOFError
            return self.texts.pop(0)

    live = Live()
    try:
        repl_loop(live, Prompt())  # type: ignore[arg-type]
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C in a block ended the REPL")
    assert live.blocks == ["slow", "x = 1"] and said == ["interrupted"]


def test_sources_are_read_with_or_without_a_byte_order_mark(folder):
    (folder / "bom.neu").write_bytes("\ufeffn1 = neuron(40)\n".encode())
    it = Interpreter(read_file=file_reader(str(folder)))
    it.run('load("bom.neu")')
    assert "n1" in it.mirror.neurons


def test_the_budgets_are_stated_in_the_readme():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for figure in ("100 levels", "200,000 characters", "20,000,000", "4,096 bits"):
        assert figure in readme


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(range(len(WRAPPERS))), min_size=101, max_size=800),
    st.sampled_from(list(BOMBS.values())),
)
def test_the_live_session_refuses_them_and_carries_on(chain, bomb):
    from livecode.repl.live import LiveSession
    from tests.livecode.fakes import FakeEngine

    expr = "1"
    for i in chain:
        expr = WRAPPERS[i](expr)
    said: list[str] = []
    engine = FakeEngine()
    live = LiveSession(fresh(), engine, said.append)
    for block in ("x = " + expr, bomb):
        start = time.process_time()
        assert live.submit(block) is False
        assert time.process_time() - start < 1.0
    assert engine.batches == [] and len(said) == 2  # one message each, nothing sent
    assert not any("Traceback" in s for s in said)
    live.submit("n2 = neuron(40)")  # and the next block is played
    assert [type(op).__name__ for op in engine.ops()] == ["DefineNeuron"]
