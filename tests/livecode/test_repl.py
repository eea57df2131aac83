"""Key-level REPL tests: prompt_toolkit's pipe input and dummy output, a fake engine."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from engine import protocol as P
from livecode.language.interpreter import Interpreter
from livecode.repl.live import LiveSession
from livecode.repl.prompt import is_complete, make_prompt, repl_loop
from livecode.repl.toolbar import Monitor
from tests.livecode.fakes import FakeEngine

F12 = "\x1b[24~"
ALT_ENTER = "\x1b\r"
CTRL_C, CTRL_D = "\x03", "\x04"
Step = tuple[str, Callable[[Buffer], bool] | None]


class Repl:
    """One REPL over a fake engine; ``type()`` feeds keys, waiting for states in between."""

    def __init__(self, engine: FakeEngine | None = None) -> None:
        self.engine = engine or FakeEngine()
        self.said: list[str] = []
        self.interp = Interpreter()
        self.live = LiveSession(self.interp, self.engine, self.said.append)
        self.monitor = Monitor(self.said.append)
        self.monitor.engine = self.engine
        self.seen: list[object] = []

    def type(self, *steps: Step | str) -> None:
        """Feed each step's keys; a step ``(keys, until)`` waits until ``until(buffer)``."""
        failures: list[str] = []
        with create_pipe_input() as inp:
            session = make_prompt(
                self.live, self.monitor, history=InMemoryHistory(), input=inp, output=DummyOutput()
            )

            def feed() -> None:
                for step in steps:
                    keys, until = (step, None) if isinstance(step, str) else step
                    inp.send_text(keys)
                    if until is None:
                        continue
                    deadline = time.monotonic() + 10
                    while not until(session.default_buffer):
                        if time.monotonic() > deadline:
                            failures.append(
                                f"after {keys!r}: buffer {session.default_buffer.text!r}"
                            )
                            inp.send_text(CTRL_C + CTRL_D)
                            return
                        time.sleep(0.005)
                    self.seen.append(_completions(session.default_buffer))
                inp.send_text(CTRL_D)

            feeder = threading.Thread(target=feed, daemon=True)
            feeder.start()
            repl_loop(self.live, session)
            feeder.join(10)
        assert not failures, failures


def _completions(buf: Buffer) -> dict[str, str]:
    state = buf.complete_state
    if state is None:
        return {}
    return {c.text: c.display_meta_text for c in state.completions}


def _menu_has(*names: str) -> Callable[[Buffer], bool]:
    return lambda buf: set(names) <= set(_completions(buf))


@pytest.fixture
def repl() -> Repl:
    return Repl()


def test_a_complete_line_runs_as_one_batch(repl):
    repl.type("n1 = neuron(36, thr=1.2)\r")
    assert len(repl.engine.batches) == 1
    (op,) = repl.engine.batches[0].ops
    assert isinstance(op, P.DefineNeuron) and op.name == "n1" and op.params["thr"] == 1.2


def test_a_multi_line_block_is_evaluated_once_as_a_whole(repl):
    repl.type(
        "n1 = neuron(36,\r",
        "thr=1.2)\r",
        "n2 = neuron(38)\r",
        "for i in range(3):\r",
        "n2.rate = i + 1\r",
        "\r",
    )
    texts = [b.text for b in repl.engine.batches]
    assert texts[0] == "n1 = neuron(36,\nthr=1.2)"
    assert texts[2].startswith("for i in range(3):\n    n2.rate = i + 1")
    assert len(texts) == 3  # the open bracket and the for block each waited for their end
    assert [op.value for op in repl.engine.batches[2].ops] == [1.0, 2.0, 3.0]


def test_alt_enter_runs_the_whole_buffer_at_once(repl):
    repl.type("n1 = neuron(36)\r", "for i in range(2):\r", "n1.rate = 2 + i" + ALT_ENTER)
    assert len(repl.engine.batches) == 2
    assert [op.value for op in repl.engine.batches[1].ops] == [2.0, 3.0]


def test_an_invalid_block_shows_its_error_and_sends_nothing(repl):
    repl.type("n1 = neuron(36, thr=1.2); n1 >> n2 @ -0.4\r")
    assert repl.engine.batches == []
    (error,) = repl.said
    lines = error.splitlines()
    assert lines[0] == "<repl>:1:33: `n2` is not defined; did you mean `n1`?"
    assert lines[2].index("^") == lines[1].index("n2 @")
    assert "Traceback" not in error
    assert repl.interp.neuron_names() == []  # the block's n1 was not kept either


def test_refused_constructs_never_run(repl):
    repl.type("import os\r", "x = __import__('os')\r")
    assert repl.engine.batches == []
    assert len(repl.said) == 2 and all(s.startswith("<repl>:1:") for s in repl.said)


def test_completion_offers_functions_neurons_and_parameters(repl):
    repl.type(
        "kick = neuron(36)\r",
        "snare = neuron(38)\r",
        ("k", _menu_has("kick")),
        CTRL_C,
        ("kick.r", _menu_has("rate", "refr")),
        CTRL_C,
        ("hat = neuron(42, t", _menu_has("thr=")),
        CTRL_C,
        ("con", _menu_has("connect")),
        CTRL_C,
    )
    names, params, kwargs, funcs = repl.seen
    assert names["kick"].startswith("neuron(36")
    assert "snare" not in names
    assert set(params) == {"rate", "refr"}
    assert "activation gained per beat" in params["rate"] and "0..10000" in params["rate"]
    assert "threshold" in kwargs["thr="]
    assert funcs["connect"].startswith("connect(src, dst")
    assert len(repl.engine.batches) == 2  # Ctrl-C cleared each half-typed line


def test_tab_completes_into_the_line(repl):
    repl.type(
        ("kick = neu", _menu_has("neuron")),
        ("\t", lambda b: b.text == "kick = neuron"),
        "(36)\r",
        ("kick.th", _menu_has("thr")),
        ("\t", lambda b: b.text == "kick.thr"),
        " = 2\r",
    )
    assert [b.text for b in repl.engine.batches] == ["kick = neuron(36)", "kick.thr = 2"]


def test_panic_key_sends_all_notes_off_and_keeps_the_line(repl):
    repl.type("n1 = neuron(36)\r", "n1.rate = " + F12, "3\r", "\x1bp")
    ops = repl.engine.ops()
    assert [type(op).__name__ for op in ops] == ["DefineNeuron", "Panic", "SetParam", "Panic"]
    assert repl.said.count("panic: all notes off") == 2


def test_quit_leaves_the_loop(repl):
    repl.type("quit()\r", "n1 = neuron(36)\r")
    assert repl.engine.batches == []


def test_outputs_are_printed_and_ls_shows_live_activations(repl):
    repl.interp.activations = lambda: {"n1": 0.25}
    repl.type("n1 = neuron(36) \r", "ls()\r", "print(1 + 1)\r")
    listing = repl.said[0]
    assert "n1" in listing and "a=0.250" in listing
    assert repl.said[1] == "2"


def test_a_block_the_engine_refuses_is_undone():
    repl = Repl(FakeEngine(ok=False))
    repl.type("n1 = neuron(36)\r")
    assert repl.interp.neuron_names() == [] and "n1" not in repl.interp.variables


def test_a_block_during_a_restart_is_undone_and_said():
    repl = Repl(FakeEngine(down=True))
    repl.type("n1 = neuron(36)\r")
    assert repl.interp.neuron_names() == []
    assert "not applied" in repl.said[0]


@pytest.mark.parametrize(
    "text, complete",
    [
        ("n1 = neuron(36)", True),
        ("n1 = neuron(36,", False),
        ("hats = [neuron(42),\n", False),
        ("for i in range(2):", False),
        ("for i in range(2):\n    n1.rate = i", False),
        ("for i in range(2):\n    n1.rate = i\n", True),
        ("n1.rate = \\", False),
        ("n1 = = 3", True),  # wrong, not unfinished: run it and show the error
        ("", True),
    ],
)
def test_is_complete(text, complete):
    assert is_complete(text) is complete


def test_the_toolbar_shows_engine_state_status_refusals_and_recent_firings():
    from engine.protocol import Ack, Notice, Status

    now = [100.0]
    said: list[str] = []
    monitor = Monitor(said.append, osc_port=8000, clock=lambda: now[0])
    engine = FakeEngine()
    monitor.engine = engine
    assert monitor.engine_state() == "engine starting"
    monitor.on_message(Notice("engine up (SCHED_FIFO 20)"))
    monitor.on_message(
        Status(
            {
                "tempo": 112.0,
                "neurons": 3,
                "events_per_s": 24.0,
                "late_ms_max": 0.4,
                "midi": "jack:livecode",
                "activations": {"kick": 0.1, "snare": 0.2, "hat": 0.3},
                "fired": ["hat", "kick"],
            }
        )
    )
    monitor.on_message(Ack(7, False, 1.0, "no neuron 'zz'"))
    line = monitor.toolbar_line()
    for part in (
        "engine up",
        "midi jack:livecode",
        "osc :8000",
        "112 bpm",
        "3 neurons",
        "24 ev/s",
        "late 0.4 ms",
        "refused: engine refused a block: no neuron 'zz'",
    ):
        assert part in line
    assert monitor.activity_line() == "fired: kick hat"  # in network order
    assert said == ["[engine] engine up (SCHED_FIFO 20)", "engine refused a block: no neuron 'zz'"]
    now[0] += 2.0  # the activity line forgets what fired more than a second ago
    assert monitor.activity_line() == "fired: -"
    engine.down, engine.restarts = True, 1
    assert monitor.engine_state() == "engine DOWN, restarting"
    engine.down = False
    assert monitor.engine_state() == "engine up (restarted 1x)"
    assert "F12" in "".join(text for _, text in monitor.toolbar())


def test_toolbar_shows_the_audio_output_and_its_trouble():
    monitor = Monitor(lambda text: None, osc_port=0)
    monitor.engine = FakeEngine()
    monitor.on_message(P.Status({"midi": "none:none", "audio": None}))
    assert "audio off" in monitor.toolbar_line()
    audio = {"audio": "jack:livecode-audio:left,right -> system:playback_1", "xruns": 0}
    monitor.on_message(P.Status({"midi": "none:none", "audio": audio}))
    line = monitor.toolbar_line()
    assert "audio jack:livecode-audio |" in line and "xruns" not in line
    monitor.on_message(P.Status({"midi": "none:none", "audio": {**audio, "xruns": 2}}))
    assert "audio jack:livecode-audio (2 xruns)" in monitor.toolbar_line()
