"""--watch: the file describes the whole network; a broken save changes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

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


def test_programs_volumes_and_pans_change_where_the_file_sets_them():
    current, _ = _mirror(BASE + 'program(2, "Fingered Bass"); program(3, 81); volume(3, 90)\n')
    same, ran = _mirror(BASE + 'program(2, "Fingered Bass"); program(3, 81); volume(3, 90)\n')
    assert file_ops(current, same, ran) == []
    target, ran = _mirror(BASE + "program(2, 39); pan(3, -0.5)\n")
    ops = file_ops(current, target, ran)
    assert ops == [P.Program(2, 39), P.Mix(3, pan=-0.5)]  # channel 3 keeps program and volume


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


@pytest.mark.timing
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


def test_parameter_processes_follow_the_file():
    text = BASE + "a.vel = choose([60, 90])\nb.rate = walk(1, 4)\nkeys = listen(ch=1)\n"
    current, _ = _mirror(text + "c.note = markov(keys)\n")
    target, ran = _mirror(text + "c.note = markov(keys)\n")
    assert file_ops(current, target, ran) == []  # a learning chain is left as it is
    target, ran = _mirror(BASE + "a.vel = choose([60, 100])\nkeys = listen(ch=1)\n")
    ops = file_ops(current, target, ran)
    assert P.Choose("a", "vel", (60, 100), (1.0, 1.0), "choose([60, 100])") in ops
    assert P.SetParam("b", "rate", 1.0) in ops and P.SetParam("c", "note", 64) in ops
    after = current.copy()
    for op in ops:
        after.apply(op)
    assert after == target


# --- how the watcher hears a save (issue 16) ------------------------------------------


class _Seen:
    """What a watcher called back with, and a way to wait for it."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.errors: list[str] = []
        self._cond = threading.Condition()

    def __call__(self, text: str) -> None:
        with self._cond:
            self.texts.append(text)
            self._cond.notify_all()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[str]:
        with self._cond:
            self._cond.wait_for(lambda: len(self.texts) >= count, timeout)
        assert len(self.texts) >= count, f"saw {self.texts}, waited for {count}"
        return self.texts


def _save_rename(path: Path, text: str) -> None:
    tmp = path.with_name(".set.neu.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _save_in_place(path: Path, text: str) -> None:
    with open(path, "w") as f:  # truncates, then writes
        f.write(text)


def _save_like_vim(path: Path, text: str) -> None:
    probe = path.with_name("4913")  # vim checks it may create files here
    probe.write_text("")
    probe.unlink()
    backup = path.with_name(path.name + "~")
    os.replace(path, backup)
    with open(path, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    backup.unlink()


SAVES = [_save_rename, _save_in_place, _save_like_vim]
MODES = ["inotify", "poll"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("save", SAVES, ids=lambda f: f.__name__)
def test_every_save_style_is_heard_once_with_its_whole_text(tmp_path, mode, save):
    path = tmp_path / "set.neu"
    path.write_text("a = neuron(60)\n")
    seen = _Seen()
    watcher = FileWatcher(str(path), seen, use_inotify=mode == "inotify").start()
    try:
        assert watcher.mode == mode
        for i in range(3):
            save(path, f"a = neuron({61 + i})\n")
            assert seen.wait_for(i + 1)[i] == f"a = neuron({61 + i})\n"
    finally:
        watcher.stop()
    assert seen.texts == [f"a = neuron({61 + i})\n" for i in range(3)]


@pytest.mark.parametrize("mode", MODES)
def test_a_writer_that_truncates_and_pauses_never_empties_the_network(tmp_path, mode):
    path = tmp_path / "set.neu"
    path.write_text("a = neuron(60)\nb = neuron(62)\n")
    seen = _Seen()
    watcher = FileWatcher(str(path), seen, use_inotify=mode == "inotify").start()
    try:
        with open(path, "w") as f:
            f.flush()
            time.sleep(0.3)  # the writer's pause, longer than any settling time
            f.write("a = neuron(61)\nb = neuron(62)\n")
        seen.wait_for(1)
    finally:
        watcher.stop()
    assert seen.texts == ["a = neuron(61)\nb = neuron(62)\n"]


def test_a_file_still_being_written_is_not_applied_half_written(tmp_path):
    path = tmp_path / "set.neu"
    path.write_text("a = neuron(60)\nb = neuron(62)\n")
    seen = _Seen()
    watcher = FileWatcher(str(path), seen).start()
    try:
        assert watcher.mode == "inotify"
        with open(path, "w") as f:
            f.write("a = neuron(61)\n")
            f.flush()
            time.sleep(1.2)  # longer than the quiet time: the writer still has it open
            f.write("b = neuron(62)\n")
        seen.wait_for(1)
    finally:
        watcher.stop()
    assert seen.texts == ["a = neuron(61)\nb = neuron(62)\n"]


@pytest.mark.parametrize("mode", MODES)
def test_an_emptied_file_that_stays_empty_empties_the_network(tmp_path, mode):
    path = tmp_path / "set.neu"
    path.write_text("a = neuron(60)\n")
    seen = _Seen()
    watcher = FileWatcher(str(path), seen, use_inotify=mode == "inotify", empty_hold=0.3)
    watcher.start()
    try:
        _save_in_place(path, "")
        assert seen.wait_for(1) == [""]
    finally:
        watcher.stop()


@pytest.mark.parametrize("save", SAVES, ids=lambda f: f.__name__)
def test_with_inotify_a_save_is_applied_at_the_writers_close_not_by_a_timer(
    tmp_path, monkeypatch, save
):
    from livecode.repl import watch

    monkeypatch.setattr(watch, "QUIET_SECONDS", 3600.0)  # no fallback timer can fire
    monkeypatch.setattr(watch, "RECHECK_SECONDS", 3600.0)
    path = tmp_path / "set.neu"
    path.write_text("a = neuron(60)\n")
    seen = _Seen()
    watcher = FileWatcher(str(path), seen, use_inotify=True).start()
    try:
        assert watcher.mode == "inotify"
        save(path, "a = neuron(61)\n")
        assert seen.wait_for(1) == ["a = neuron(61)\n"]
    finally:
        watcher.stop()
