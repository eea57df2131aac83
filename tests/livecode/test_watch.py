"""--watch: the file describes the whole network; a broken save changes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from engine import protocol as P
from livecode.language.interpreter import Interpreter
from livecode.repl.live import LiveSession
from livecode.repl.watch import FileWatcher, file_ops
from tests.livecode.fakes import FakeEngine

ROOT = Path(__file__).resolve().parents[2]


def _mirror(text: str):
    interp = Interpreter()
    result = interp.run(text)
    return interp.mirror, result.ops


BASE = "tempo(100)\na = neuron(60, rate=2)\nb = neuron(62)\nc = neuron(64)\na >> b @ 0.3\nb >> c\n"


def test_an_unchanged_file_changes_nothing():
    current, _ = _mirror(BASE)
    target, ran = _mirror("# only a comment changed\n" + BASE)
    assert file_ops(current, target, ran) == []


def test_removed_neurons_and_connections_go_changed_ones_are_redefined():
    current, _ = _mirror(BASE)
    target, ran = _mirror("a = neuron(61, rate=2)\nb = neuron(62)\nd = neuron(65)\nd >> a @ -1\n")
    ops = file_ops(current, target, ran)
    assert P.Disconnect("a", "b") in ops
    assert P.Remove("c") in ops and P.Disconnect("b", "c") not in ops  # Remove takes it along
    defined = [op.name for op in ops if isinstance(op, P.DefineNeuron)]
    assert defined == ["a", "d"]  # b is unchanged: untouched, so nothing about it moves
    assert P.Connect("d", "a", -1.0, 0.0, "pulse") in ops
    assert not any(isinstance(op, P.Tempo) for op in ops)  # the file no longer sets it
    after = current.copy()
    for op in ops:
        after.apply(op)
    assert after.neurons == target.neurons and after.connections == target.connections


def test_tempo_solo_and_stop_follow_the_file():
    current, _ = _mirror(BASE + "solo(a)\n")
    target, ran = _mirror(BASE.replace("tempo(100)", "tempo(90)") + "solo(b)\nstop()\n")
    ops = file_ops(current, target, ran)
    assert P.Tempo(90.0) in ops and P.Solo("a", False) in ops and P.Solo("b", True) in ops
    assert P.Stop() in ops


def test_apply_file_keeps_the_repl_in_step_and_refuses_a_broken_save(tmp_path):
    engine, said = FakeEngine(), []
    live = LiveSession(Interpreter(), engine, said.append)
    live.submit("a = neuron(60)\nx = 3\nextra = neuron(70)")
    path = str(tmp_path / "set.neu")
    assert live.apply_file("a = neuron(60, rate=3)\nb = neuron(62)\na >> b\n", path)
    assert live.interpreter.neuron_names() == ["a", "b"]
    assert live.interpreter.variables["x"] == 3  # the performer's own variables stay
    sent = len(engine.batches)
    assert not live.apply_file("a = neuron(60, rate=3)\nb = neuron(62, rat=2)\n", path)
    assert len(engine.batches) == sent  # nothing sent
    assert "not applied" in said[-1] and "no parameter `rat`" in said[-1]
    live.submit("b.rate = 2")  # the REPL still works on the file's network
    assert engine.batches[-1].ops == (P.SetParam("b", "rate", 2.0),)


def test_the_watcher_calls_back_on_a_save_with_new_text_only(tmp_path):
    path = tmp_path / "set.neu"
    path.write_text("a = neuron(60)\n")
    seen: list[str] = []
    watcher = FileWatcher(str(path), seen.append)
    assert not watcher.poll()
    path.write_text("a = neuron(61)\n  \n")
    os.utime(path, ns=(1, 10**18))
    assert watcher.poll() and seen == ["a = neuron(61)\n  \n"]
    os.utime(path, ns=(1, 2 * 10**18))  # touched, same text
    assert not watcher.poll()
    path.unlink()  # an editor's rename in progress: nothing happens
    assert not watcher.poll() and len(seen) == 1


def _events(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]


def _wait(what: str, check, proc: subprocess.Popen, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def test_play_watch_applies_an_edit_refuses_a_broken_save_removes_a_deleted_neuron(tmp_path):
    session, events, err = tmp_path / "live.neu", tmp_path / "ev.jsonl", tmp_path / "err.txt"
    session.write_text("a = neuron(60, rate=4, dur=0.05)\nb = neuron(62, rate=4, dur=0.05)\n")
    with open(err, "w") as stderr:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "livecode.cli",
                "play",
                str(session),
                "--watch",
                "--midi-api",
                "none",
                "--audio",
                "none",
                "--osc-port",
                "0",
                "--events",
                str(events),
                "--seconds",
                "60",
            ],
            cwd=ROOT,
            stderr=stderr,
            stdout=subprocess.DEVNULL,
        )
    try:

        def notes(name: str) -> set[int]:
            return {
                e["note"] for e in _events(events) if e["type"] == "note_on" and e["neuron"] == name
            }

        _wait("both neurons", lambda: notes("a") and notes("b"), proc)
        session.write_text("a = neuron(61, rate=4, dur=0.05)\nb = neuron(62, rat=4)\n")
        _wait("the refusal", lambda: "not applied" in err.read_text(), proc)
        assert "no parameter `rat`" in err.read_text() and "live.neu:2:16:" in err.read_text()
        session.write_text("# b is gone\na = neuron(64, rate=4, dur=0.05)\n")
        _wait("the edit", lambda: 64 in notes("a"), proc)

        def after_edit() -> list[dict] | None:
            evs = _events(events)
            first = next(i for i, e in enumerate(evs) if e["note"] == 64)
            later = [e for e in evs[first:] if e["type"] == "note_on"]
            return later if len(later) >= 6 else None

        later = _wait("notes after the edit", after_edit, proc)
        assert {e["neuron"] for e in later} == {"a"}  # b was removed with the edit
        assert 61 not in notes("a")  # the broken save changed nothing
    finally:
        proc.terminate()
        proc.wait(10)
    evs = _events(events)
    ons = sum(e["type"] == "note_on" for e in evs)
    assert ons and ons == sum(e["type"] == "note_off" for e in evs)


def test_controller_mappings_follow_the_file():
    current, _ = _mirror(BASE + 'a.thr = osc("/1/fader1", 0.5, 2.0)\nb.fire = osc("/1/push1")\n')
    target, ran = _mirror(BASE + 'a.thr = osc("/1/fader2", 0.5, 2.0)\n')
    ops = file_ops(current, target, ran)
    after = current.copy()
    for op in ops:
        after.apply(op)
    assert after.mappings == target.mappings
    assert any(isinstance(op, P.Unmap) and op.address == "/1/push1" for op in ops)
    assert file_ops(target, target, ran) == []
