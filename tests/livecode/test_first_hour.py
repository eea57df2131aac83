"""A newcomer's first hour (issue 16): the rough edges of the language and the REPL."""

from __future__ import annotations

import os
import stat

import pytest

from engine import protocol as P
from livecode.language.errors import LivecodeError, suggest
from livecode.language.interpreter import Interpreter
from livecode.language.session_text import session_text
from livecode.language.sessionfile import file_reader
from livecode.repl.live import LiveSession
from livecode.repl.toolbar import Monitor
from tests.livecode.fakes import FakeEngine

HATS = "n1 = neuron(36)\nhats = [neuron(42 + i, rate=4, phase=i / 4) for i in range(4)]\n"


def _error(it: Interpreter, source: str) -> LivecodeError:
    with pytest.raises(LivecodeError) as info:
        it.run(source)
    return info.value


@pytest.mark.parametrize(
    "typo, meant",
    [("rat", "rate"), ("th", "thr"), ("rte", "rate"), ("vle", "vel"), ("flor", "floor")],
)
def test_a_misspelt_parameter_suggests_the_closest_by_edits_and_prefix(typo, meant):
    it = Interpreter()
    it.run(HATS)
    assert _error(it, f"n1.{typo} = 2").suggestion == meant


def test_suggest_prefers_fewer_edits_then_a_longer_shared_start():
    assert suggest("rat", ["dur", "duration", "rate"]) == "rate"
    assert suggest("dealy", ["delay", "kind"]) == "delay"  # a swap is one edit
    assert suggest("hats", ["hats_0", "n1"]) == "hats_0"
    assert suggest("zzz", ["rate", "thr"]) is None


def test_a_list_members_own_name_works_everywhere():
    it = Interpreter()
    it.run(HATS)
    assert it.run("hats_0.vel = 5").ops == (P.SetParam("hats_0", "vel", 5),)
    assert it.run("hats_1 >> n1 @ -0.2").ops == (P.Connect("hats_1", "n1", -0.2, 0.0, "pulse"),)
    assert it.run("x = hats_2.rate").ops == () and it.variables["x"] == 4.0
    assert it.run("del hats_3").ops == (P.Remove("hats_3"),)
    assert "hats_3" not in it.mirror.neurons and "hats" in it.variables
    assert _error(it, "hats_3.vel = 5").suggestion in {"hats_0", "hats_1", "hats_2", "hats"}


def test_a_missing_file_is_said_once(tmp_path):
    it = Interpreter(read_file=file_reader(str(tmp_path)))
    err = _error(it, 'load("x.neu")')
    assert err.message == f"cannot read x.neu: no such file in {tmp_path}"
    assert str(err).count("cannot read") == 1
    err = _error(it, f'load("{tmp_path}")')
    assert str(err).count("cannot read") == 1 and "not a regular file" in err.message


def test_a_for_loops_variable_does_not_outlive_the_loop_nor_reach_save():
    it = Interpreter()
    it.run(
        HATS
        + "x = 7\nfor i in range(4):\n    hats[i].vel = 50 + i\nfor x in hats:\n    x.rate = 2\n"
    )
    assert "i" not in it.variables and it.variables["x"] == 7
    text = session_text(*it.state())
    assert "\ni =" not in text and "x = 7" in text and "vel=53" in text


@pytest.fixture
def live(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    said: list[str] = []
    session = LiveSession(
        Interpreter(read_file=file_reader(str(tmp_path))), FakeEngine(), said.append
    )
    session.said = said  # type: ignore[attr-defined]
    session.submit(HATS)
    return session


def test_save_keeps_what_it_replaces_and_says_so(live, tmp_path):
    (tmp_path / "set.neu").write_text("mine = neuron(70)\n")
    live.submit('save("set.neu")')
    assert (tmp_path / "set.neu~").read_text() == "mine = neuron(70)\n"
    assert "kept as set.neu~" in live.said[-1]
    assert (tmp_path / "set.neu").read_text().startswith("# livecode session")
    live.submit('save("set.neu")')  # the same text again: nothing to keep
    assert "kept" not in live.said[-1]
    assert (tmp_path / "set.neu~").read_text() == "mine = neuron(70)\n"


def test_save_gives_a_new_file_the_umasks_mode_and_an_old_one_its_own(live, tmp_path):
    old = os.umask(0o022)
    try:
        live.submit('save("new.neu")')
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.neu").st_mode) == 0o644
    (tmp_path / "shared.neu").write_text("x = 1\n")
    os.chmod(tmp_path / "shared.neu", 0o664)
    live.submit('save("shared.neu")')
    assert stat.S_IMODE(os.stat(tmp_path / "shared.neu").st_mode) == 0o664


def test_the_toolbar_forgets_a_refusal_once_a_later_block_succeeds():
    monitor = Monitor(lambda text: None)
    live = LiveSession(
        Interpreter(), FakeEngine(), lambda text: None, monitor.refused, monitor.accepted
    )
    live.submit("n1 = neuron(60)\nn1.rat = 2")
    assert "refused:" in monitor.toolbar_line()
    live.submit("n1 = neuron(60)")
    assert "refused" not in monitor.toolbar_line()
    live.submit("n1.rat = 2")
    live.apply_file("n1 = neuron(61)\n", "set.neu")  # a good save counts too
    assert "refused" not in monitor.toolbar_line()


def test_a_comment_only_save_after_a_typed_block_changes_nothing():
    engine, said = FakeEngine(), []
    live = LiveSession(Interpreter(), engine, said.append)
    text = 'bass = neuron(["C2", "G2"], rate=0.9)\nlead = neuron([60, 63], rate=1.1)\n'
    live.apply_file(text, "set.neu")
    # The engine's status carries parameters as plain data (a note list is a list).
    engine.last_status = {
        "t": 1.0,
        "snapshot": {
            "neurons": {
                "bass": {"params": {"note": [36, 43], "rate": 0.9}},
                "lead": {"params": {"note": [60, 63], "rate": 1.1}},
            }
        },
    }
    live.submit("x = 1")
    live.apply_file("# only a comment\n" + text, "set.neu")
    assert said[-1] == "set.neu applied (0 changes)"


def test_inhibition_inside_a_volley_gets_a_gentle_note_and_the_fix_works():
    from engine.protocol import Batch
    from engine.render import render_events

    pair = "a = neuron(60)\nb = neuron(62)\n"
    plain = Interpreter().run(pair + "a >> b @ -0.5")
    assert len(plain.output) == 1 and "delay=0.01" in plain.output[0]
    fixed = Interpreter().run(pair + "connect(a, b, -0.5, delay=0.01)")
    assert fixed.output == []
    assert (
        Interpreter().run("a = neuron(60)\nb = neuron(62, phase=0.5)\na >> b @ -0.5").output == []
    )

    def b_notes(result) -> int:
        events, _ = render_events(Batch(result.ops), 4.0)
        return sum(e.type == "note_on" and e.neuron == "b" for e in events)

    assert b_notes(plain) == 8  # the inhibition did nothing, as the note says
    assert b_notes(fixed) == 4  # with the delay, every other one is held back
