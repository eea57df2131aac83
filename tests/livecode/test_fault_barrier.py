"""The fault barriers: a bug inside livecode becomes one message, and nothing stops.

Bugs are planted with monkeypatch in real parts (a language function, the evaluator,
the session's send, the monitor's status handler, the toolbar, the completer); the
engine is the fake from ``fakes.py``. Each test checks the message, that the block
changed nothing (the interpreter's mirror and variables are as before), and that the
next block runs.
"""

from __future__ import annotations

import dataclasses
import threading

import pytest

from engine import protocol as P
from livecode import cli
from livecode.language import commands
from livecode.language.errors import InternalError, LivecodeError
from livecode.language.evaluator import Evaluator
from livecode.language.interpreter import Interpreter
from livecode.language.network import USUAL_RANGES
from livecode.repl import completion, live, prompt
from livecode.repl.live import LiveSession
from livecode.repl.prompt import is_complete, repl_loop
from livecode.repl.toolbar import Monitor
from tests.livecode.fakes import FakeEngine
from tests.livecode.test_repl import Repl

SETUP = "n1 = neuron(36, rate=2); xs = [1, 2]"


def _planted(message: str):
    def raise_(*args, **kwargs):
        raise KeyError(message)

    return raise_


def _plant_in_function(monkeypatch, name: str = "fire") -> None:
    fn = commands.FUNCTIONS[name]
    monkeypatch.setitem(
        commands.FUNCTIONS, name, dataclasses.replace(fn, impl=_planted(f"planted in {name}"))
    )


class Session:
    """A LiveSession over a fake engine, with what it said and what it refused."""

    def __init__(self, engine: FakeEngine | None = None) -> None:
        self.engine = engine or FakeEngine()
        self.said: list[str] = []
        self.interp = Interpreter()
        self.live = LiveSession(self.interp, self.engine, self.said.append)
        assert self.live.submit(SETUP) is False
        self.said.clear()

    def picture(self) -> tuple:
        """The mirror and the variables, as values to compare before and after."""
        mirror, variables = self.interp.state()
        return mirror.copy(), dict(variables)

    def assert_unchanged_by(self, block: str, *expected: str) -> str:
        before, batches = self.picture(), len(self.engine.batches)
        assert self.live.submit(block) is False  # returned: the REPL carries on
        assert self.picture() == before, "a faulty block changed the picture of the network"
        assert len(self.engine.batches) == batches, "a faulty block reached the engine"
        (message,) = self.said
        for text in ("internal error", "nothing of the block was applied", *expected):
            assert text in message, message
        assert "Traceback" not in message
        self.said.clear()
        return message

    def assert_next_block_runs(self) -> None:
        self.live.submit("n2 = neuron(38); n1.rate = 3")
        assert self.said == []
        assert [type(op).__name__ for op in self.engine.batches[-1].ops] == [
            "DefineNeuron",
            "SetParam",
        ]
        assert set(self.interp.mirror.neurons) == {"n1", "n2"}


@pytest.fixture
def session() -> Session:
    return Session()


# --- blocks ------------------------------------------------------------------------------


def test_a_bug_in_a_language_function_is_one_message_and_changes_nothing(session, monkeypatch):
    _plant_in_function(monkeypatch)
    message = session.assert_unchanged_by(
        "n3 = neuron(40); xs = xs + [3]; fire(n1)", "in fire()", "KeyError: 'planted in fire'"
    )
    assert message.startswith("<repl>:1:33: ")  # where the call is, with a caret under it
    assert message.splitlines()[1:] == [
        "  n3 = neuron(40); xs = xs + [3]; fire(n1)",
        " " * 34 + "^",
    ]
    session.assert_next_block_runs()


def test_a_bug_in_the_evaluator_is_one_message_and_changes_nothing(session, monkeypatch):
    monkeypatch.setattr(Evaluator, "e_ifexp", _planted("planted in the evaluator"))
    session.assert_unchanged_by(
        "n3 = neuron(40); n1.rate = 5 if n1 else 1",
        "in the evaluator, running the block `n3 = neuron(40); n1.rate = 5 if n1 else ...`",
        "KeyError: 'planted in the evaluator'",
    )
    session.assert_next_block_runs()


def test_a_parameter_without_its_usual_range_is_no_longer_a_bare_key_error(session, monkeypatch):
    # the example: a parameter added to PARAMS without its USUAL_RANGES row
    monkeypatch.delitem(USUAL_RANGES, "thr")
    session.assert_unchanged_by('n1.thr = osc("/1/fader1")', "KeyError: 'thr'")
    session.assert_next_block_runs()


def test_a_bug_in_a_loaded_file_points_into_that_file(tmp_path, monkeypatch):
    (tmp_path / "part.neu").write_text("n5 = neuron(50)\nfire(n5)\n")
    _plant_in_function(monkeypatch)
    s = Session()
    s.interp.read_file = lambda path: (tmp_path / path).read_text()
    message = s.assert_unchanged_by('load("part.neu")', "in fire()")
    assert message.startswith("part.neu:2:1: ")


class BrokenPipeEngine(FakeEngine):
    """A fake engine whose pipe cannot carry the batch (a bug, not a dead engine)."""

    def request(self, batch: P.Batch, timeout: float = 2.0) -> P.Ack:
        raise TypeError("cannot pickle 'generator' object")


def test_a_bug_in_sending_the_block_undoes_it():
    s = Session()
    s.engine.__class__ = BrokenPipeEngine
    s.assert_unchanged_by("n3 = neuron(40)", "while sending the block to the engine", "TypeError")
    s.engine.__class__ = FakeEngine
    s.assert_next_block_runs()


def test_a_bug_after_the_engine_applied_the_block_says_so_and_keeps_it(session, monkeypatch):
    monkeypatch.setattr(live, "session_text", _planted("planted in session_text"))
    assert session.live.submit('n3 = neuron(40); save("x.neu")') is False
    (message,) = session.said
    assert message.startswith("internal error in save(): KeyError")
    assert "the block itself was applied" in message
    assert "n3" in session.interp.mirror.neurons  # the engine has it: so does the picture
    session.said.clear()
    session.live.submit("n1.rate = 3")
    assert session.said == [] and session.interp.mirror.neurons["n1"]["rate"] == 3


def test_the_panic_key_survives_a_bug():
    s = Session()
    s.engine.send = _planted("planted in send")  # type: ignore[method-assign]
    s.live.panic()
    assert s.said == [
        "internal error in the panic key: KeyError: 'planted in send' (a bug in livecode, "
        "not in your code); panic was not sent"
    ]


# --- files ---------------------------------------------------------------------------------


def test_a_bug_applying_a_watched_file_changes_nothing(session, monkeypatch, tmp_path):
    monkeypatch.setattr(live, "file_ops", _planted("planted in file_ops"))
    before, batches = session.picture(), len(session.engine.batches)
    assert session.live.apply_file("n1 = neuron(40)\n", str(tmp_path / "s.neu")) is False
    assert session.picture() == before and len(session.engine.batches) == batches
    (message,) = session.said
    assert message.startswith(f"internal error while applying {tmp_path / 's.neu'}: KeyError")
    assert "nothing of the file was applied" in message


def test_a_bug_in_a_watched_file_function_is_shown_as_the_file_not_applied(
    session, monkeypatch, tmp_path
):
    _plant_in_function(monkeypatch)
    path = str(tmp_path / "s.neu")
    assert session.live.apply_file("a = neuron(40)\nfire(a)\n", path) is False
    (message,) = session.said
    assert message.startswith(f"{path} not applied:\n{path}:2:1: internal error in fire()")


def test_a_bug_loading_the_first_file_starts_an_empty_network(monkeypatch, tmp_path):
    path = tmp_path / "s.neu"
    path.write_text("a = neuron(40)\n")
    said: list[str] = []
    s = LiveSession(Interpreter(), None, said.append)
    monkeypatch.setattr(Interpreter, "run", _planted("planted in run"))
    assert s.load_initial(str(path)) is None
    assert said[0].startswith(f"internal error while loading {path}: KeyError")
    assert said[1] == f"{path} not loaded: the network starts empty"
    assert s.interpreter.mirror.neurons == {}


def test_play_with_a_bug_in_the_file_says_one_message(monkeypatch, tmp_path, capsys):
    path = tmp_path / "s.neu"
    path.write_text("a = neuron(40)\nfire(a)\n")
    _plant_in_function(monkeypatch)
    code = cli.main(["play", str(path), "--midi-api", "none", "--osc-port", "0"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{path}:2:1: internal error in fire(): KeyError" in err
    assert "Traceback" not in err


# --- callbacks ---------------------------------------------------------------------------


def test_a_bug_in_the_status_handler_is_said_once_and_messages_go_on():
    said: list[str] = []
    monitor = Monitor(said.append)
    monitor.on_status = _planted("planted in on_status")  # type: ignore[method-assign]
    for _ in range(3):
        monitor.on_message(P.Status({"t": 1.0, "fired": ["n1"]}))  # returns: the thread lives
    assert said == [
        "internal error in the REPL's handler of engine messages (Status): KeyError: "
        "'planted in on_status' (a bug in livecode, not in your code); the engine plays on "
        "(said once, though it may recur)"
    ]
    monitor.on_message(P.Notice("engine up"))  # other messages are still handled
    assert monitor.started and said[-1] == "[engine] engine up"


def test_a_bug_in_the_toolbar_shows_a_short_line_instead(monkeypatch):
    said: list[str] = []
    monitor = Monitor(said.append)
    monkeypatch.setattr(Monitor, "toolbar_line", _planted("planted in the toolbar"))
    lines = [monitor.toolbar() for _ in range(3)]
    assert "toolbar unavailable" in lines[0][0][1] and "F12" in lines[0][-1][1]
    assert len(said) == 1 and said[0].startswith("internal error in the toolbar: KeyError")


def _typed(repl: Repl, *steps) -> None:
    """``repl.type(*steps)``, failing (not hanging) if the REPL does not get to the end."""
    done = threading.Thread(target=repl.type, args=steps, daemon=True)
    done.start()
    done.join(20)
    assert not done.is_alive(), "the REPL never finished reading the keys"


def test_the_prompt_survives_a_broken_toolbar(monkeypatch):
    monkeypatch.setattr(Monitor, "toolbar_line", _planted("planted in the toolbar"))
    repl = Repl()
    _typed(repl, "n1 = neuron(36)\r", "n2 = neuron(38)\r")
    assert [b.ops[0].name for b in repl.engine.batches] == ["n1", "n2"]
    assert [s for s in repl.said if "internal error" in s] == [
        "internal error in the toolbar: KeyError: 'planted in the toolbar' (a bug in "
        "livecode, not in your code); the engine plays on (said once, though it may recur)"
    ]


def test_the_prompt_survives_a_broken_completer(monkeypatch):
    monkeypatch.setattr(completion, "neuron_call", _planted("planted in completion"))
    repl = Repl()
    said_it = lambda buf: any("in completion" in s for s in repl.said)  # noqa: E731
    _typed(repl, "n1 = neuron(36)\r", ("n", said_it), "\t = neuron(38)\r")
    said = [s for s in repl.said if "internal error" in s]
    assert len(said) == 1 and said[0].startswith("internal error in completion: KeyError")
    assert "Traceback" not in "".join(repl.said)
    assert [b.ops[0].name for b in repl.engine.batches] == ["n1", "n"]


def test_the_enter_key_survives_input_too_deep_for_the_parser():
    assert is_complete("-" * 100_000 + "1") is True  # it raised MemoryError inside Enter


class FlakyPrompt:
    """A prompt session whose first prompt() fails as a bug inside prompt_toolkit would."""

    def __init__(self, answers: list) -> None:
        self.answers = answers

    def prompt(self) -> str:
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def test_the_repl_loop_survives_a_bug_in_the_prompt(monkeypatch):
    monkeypatch.setattr(prompt.time, "sleep", lambda s: None)
    s = Session()
    bug = RuntimeError("planted in the prompt")
    repl_loop(s.live, FlakyPrompt([bug, bug, "n3 = neuron(40)", EOFError()]))  # type: ignore[arg-type]
    assert s.said[0].startswith("internal error in the prompt: RuntimeError")
    assert len(s.said) == 1
    assert "n3" in s.interp.mirror.neurons


def test_internal_errors_are_language_errors():
    # every existing handler of LivecodeError (REPL, --watch, play, load) shows them
    assert issubclass(InternalError, LivecodeError) and issubclass(InternalError, RuntimeError)
