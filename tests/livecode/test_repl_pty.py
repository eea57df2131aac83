"""The REPL end to end, through a real pseudo-terminal (pexpect), with a real engine."""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

ROOT = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")
CARD = "n1 = neuron(36, thr=1.2); n1 >> n2 @ -0.4"


class Pty:
    """``python -m livecode.cli ...`` in a pseudo-terminal; all it printed, without escapes."""

    def __init__(self, tmp_path: Path, *args: str, module: str = "livecode.cli") -> None:
        self.events = tmp_path / "events.jsonl"
        env = dict(
            os.environ,
            LIVECODE_HISTORY=str(tmp_path / "history"),
            TERM="xterm",
            PROMPT_TOOLKIT_NO_CPR="1",
        )
        self.child = pexpect.spawn(
            sys.executable,
            [
                "-m",
                module,
                "--midi-api",
                "none",
                "--audio",
                "none",
                "--osc-port",
                "0",
                "--events",
                str(self.events),
                *args,
            ],
            cwd=str(ROOT),
            env=env,
            encoding="utf-8",
            dimensions=(40, 160),
            timeout=20,
        )
        self.seen = ""  # everything printed so far, escapes removed
        self.pos = 0  # where the next expect() starts looking
        self.expect("lc>")
        self.pos = 0  # what came before the first prompt is still there to look at

    def line(self, text: str) -> None:
        self.child.send(text + "\r")

    def expect(self, pattern: str, timeout: float = 20.0) -> str:
        """Wait for ``pattern`` in the output since the last match; the text up to it."""
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.seen[self.pos :])
            if found:
                text = self.seen[self.pos : self.pos + found.end()]
                self.pos += found.end()
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"no {pattern!r} in: {self.seen[self.pos :]}")
            # the toolbar's refresh keeps writing escapes, so read what there is, briefly
            index = self.child.expect([r".+", pexpect.EOF, pexpect.TIMEOUT], timeout=0.2)
            if index == 1:
                raise AssertionError(f"exited before {pattern!r}: {self.seen[self.pos :]}")
            if index == 0:
                self.seen += ANSI.sub("", self.child.after)

    def read_events(self) -> list[dict]:
        if not self.events.exists():
            return []
        return [json.loads(s) for s in self.events.read_text().splitlines() if s.endswith("}")]

    def wait_events(self, what: str, check, timeout: float = 15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = check(self.read_events())
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"gave up waiting for {what}")

    def quit(self, timeout: float = 20.0) -> None:
        # A Ctrl-D that arrives between two prompts (the last block's output is printed
        # before its prompt is back) meets the terminal in cooked mode, whose line
        # discipline takes it as end-of-file and drops it: a performer presses it again
        # at the prompt, and so does this.
        deadline = time.monotonic() + timeout
        while True:
            self.child.sendcontrol("d")
            if self.child.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=2.0) == 0:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"Ctrl-D did not end the REPL: {self.seen[self.pos :]}")
        self.child.close()
        assert self.child.exitstatus == 0

    def kill(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)


def _ons(events: list[dict], name: str) -> list[dict]:
    return [e for e in events if e["type"] == "note_on" and e["neuron"] == name]


def test_the_design_card_line_in_a_terminal(tmp_path):
    pty = Pty(tmp_path)
    try:
        pty.line(CARD)
        out = pty.expect(r"\^")
        assert "<repl>:1:33: `n2` is not defined; did you mean `n1`?" in out
        assert "Traceback" not in out
        pty.line("ls()")
        pty.expect(r"0 neurons")
        pty.line('n2 = neuron("D3", rate=2, dur=0.1, ch=10)')
        # n2 fires every 0.25 s; n1, had the refused block been applied, every 0.6 s
        early = pty.wait_events("n2 playing", lambda evs: len(_ons(evs, "n2")) >= 4 and evs)
        assert _ons(early, "n1") == []
        pty.line(CARD)
        evs = pty.wait_events("n1 playing", lambda evs: len(_ons(evs, "n1")) >= 2 and evs)
        assert {e["note"] for e in _ons(evs, "n1")} == {36}
        assert {(e["note"], e["ch"]) for e in _ons(evs, "n2")} == {(50, 10)}
        pty.quit()
    finally:
        pty.kill()
    evs = pty.read_events()
    sounding: dict[tuple[int, int], int] = {}
    for e in evs:
        key = (e["ch"], e["note"])
        if e["type"] == "note_on":
            assert sounding.get(key, 0) == 0, f"{key} retriggered without a note-off"
            sounding[key] = 1
        elif e["type"] == "note_off":
            assert sounding.get(key) == 1, f"note-off for {key} that was not sounding"
            sounding[key] = 0
    assert not any(sounding.values()), "notes left sounding after Ctrl-D"


def _engine_pid(repl_pid: int, events: Path) -> int:
    """The engine process: the REPL's multiprocessing child that writes the events file
    (the supervisor also keeps a spare engine waiting, which has opened nothing yet)."""
    for task in Path(f"/proc/{repl_pid}/task").iterdir():
        for pid in (task / "children").read_text().split():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                if b"spawn_main" not in cmdline or b"resource_tracker" in cmdline:
                    continue
                fds = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
            except (FileNotFoundError, ProcessLookupError, OSError):
                continue  # it ended while we looked
            if str(events) in fds:
                return int(pid)
    raise AssertionError("no engine process found")


def _dead(pid: int) -> bool:
    """The process is gone or a zombie (it can vanish between two reads of /proc)."""
    try:
        return "Z" in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.timing
def test_sigkill_to_the_engine_during_a_session(tmp_path):
    pty = Pty(tmp_path)
    try:
        pty.line("n1 = neuron(60, rate=8, dur=0.05); n2 = neuron(62, rate=0, dur=0.05)")
        pty.line("n1 >> n2 @ 1.0")  # n2 only ever fires when n1's pulse arrives
        pty.wait_events("both playing", lambda evs: len(_ons(evs, "n2")) >= 4)
        engine = _engine_pid(pty.child.pid, pty.events)
        os.kill(engine, signal.SIGKILL)
        while not _dead(engine):
            time.sleep(0.01)
        before = len(pty.read_events())  # a dead engine appends nothing more
        out = pty.expect(r"engine restarted")
        assert "engine died" in out
        after = pty.wait_events(
            "events from the new engine", lambda evs: len(_ons(evs[before:], "n1")) >= 8 and evs
        )
        old, new = after[:before], after[before:]
        assert _engine_pid(pty.child.pid, pty.events) != engine
        # the same neurons, and the connection still drives n2 at n1's instants
        assert {e["neuron"] for e in new} == {"n1", "n2"}
        assert {e["t"] for e in _ons(new, "n2")} <= {e["t"] for e in _ons(new, "n1")}
        assert len(_ons(new, "n2")) >= len(_ons(new, "n1")) - 1
        # events resume within one second of the last one the dead engine wrote
        gap = new[0]["sent"] - max(e["sent"] for e in old)
        assert 0 < gap < 1.0, gap
        pty.line("n1.rate = 4")  # and the REPL patches the new engine
        pty.wait_events("the patch applied", lambda evs: len(evs) > len(after) + 8)
        pty.quit()
    finally:
        pty.kill()


@pytest.mark.timing
def test_repl_watch_follows_the_file_from_a_broken_start(tmp_path):
    session = tmp_path / "live.neu"
    session.write_text("a = neuron(60, rate=4)\nb = neuron(62, rte=4)\n")
    pty = Pty(tmp_path, str(session), "--watch")
    try:
        pty.expect(r"live\.neu not loaded")  # the error was shown; the network starts empty
        pty.line("x = neuron(40, rate=4)")
        pty.line("ls()")  # x is in the network before the save (the watcher is quick)
        pty.expect(r"x\s+40")
        session.write_text("a = neuron(60, rate=4)\nb = neuron(62, rate=4)\na >> b @ 0.2\n")
        pty.expect(r"live\.neu applied")
        pty.line("ls()")
        out = pty.expect(r"a >> b @ 0\.2")
        assert "2 neurons" in out and "  x " not in out  # the file is the whole network
        pty.line("b.rate = 2")  # the REPL works on the file's neurons
        pty.line("ls()")
        pty.expect(r"b\s+62, rate=2\.0")
        pty.quit()
    finally:
        pty.kill()
    played = {e["neuron"] for e in pty.read_events() if e["type"] == "note_on"}
    assert {"a", "b"} <= played
