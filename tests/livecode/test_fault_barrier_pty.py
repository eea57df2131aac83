"""The fault barriers end to end: bugs planted in a real REPL, in a real pseudo-terminal.

``tests/livecode/faulty_cli.py`` runs ``livecode.cli`` with bugs in ``fire()``, in the
evaluator and in the REPL's handler of engine statuses. The REPL must
say each one, answer the next block, change nothing for a faulty block, and the engine
must keep playing (``--events`` with ``--midi-api none`` logs every note it plays).
"""

from __future__ import annotations

import pytest

from tests.livecode.test_repl_pty import Pty, _ons

pytest.importorskip("pexpect")


def _more_ons(pty: Pty, name: str, after: int, count: int = 4) -> list[dict]:
    """Wait for ``count`` more note-ons of ``name`` than ``after``: the engine plays on."""
    return pty.wait_events(
        f"{count} more notes of {name}",
        lambda evs: len(_ons(evs, name)) >= after + count and evs,
    )


def test_planted_bugs_leave_the_repl_and_the_engine_running(tmp_path):
    pty = Pty(tmp_path, module="tests.livecode.faulty_cli")
    try:
        # statuses arrive from the start: their handler's bug is said once
        pty.expect(r"internal error in the REPL's handler of engine messages \(Status\): KeyError")
        pty.line("n1 = neuron(60, rate=8, dur=0.05)")
        heard = len(_ons(_more_ons(pty, "n1", 0), "n1"))

        pty.line("n3 = neuron(70, rate=8); fire(n1)")  # a bug in a language function
        out = pty.expect(r"nothing of the block was applied")
        assert "<repl>:1:26: internal error in fire(): KeyError: 'planted in fire'" in out
        heard = len(_ons(_more_ons(pty, "n1", heard), "n1"))

        pty.line("n4 = neuron(72, rate=8); n1.rate = 4 if n1 else 2")  # a bug in the evaluator
        out = pty.expect(r"nothing of the block was applied")
        assert "internal error in the evaluator" in out
        assert "RuntimeError: planted in the evaluator" in out
        heard = len(_ons(_more_ons(pty, "n1", heard), "n1"))

        pty.line("ls()")  # the faulty blocks changed nothing, the prompt answers
        out = pty.expect(r"1 neurons\s+n1\s+60, rate=8\.0, dur=0\.05")
        assert "n3" not in out and "n4" not in out

        pty.line("n2 = neuron(62, rate=8, dur=0.05)")  # and the next block is applied
        evs = _more_ons(pty, "n2", 0)
        assert len(_ons(evs, "n1")) > heard
        pty.quit()
    finally:
        pty.kill()
    assert "Traceback" not in pty.seen
    assert pty.seen.count("handler of engine messages") == 1  # once, not ten times a second
    played = {e["neuron"] for e in pty.read_events() if e["type"] == "note_on"}
    assert played == {"n1", "n2"}  # never n3 or n4
