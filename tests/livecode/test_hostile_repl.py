"""The REPL and `play` in a real terminal against the issue's blocks: refused, and alive."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.livecode.test_repl_pty import ROOT, Pty

pytest.importorskip("pexpect")


def test_a_deep_line_is_refused_and_the_repl_plays_on(tmp_path):
    pty = Pty(tmp_path)
    try:
        pty.line("n1 = neuron(60, rate=8, dur=0.05)")
        pty.line("x = 1" + "+1" * 1000)  # 2 KB: it used to end the REPL and the music
        out = pty.expect(r"nested too deeply")
        assert "Traceback" not in out and "<repl>:1:" in out
        pty.line('print("\\x1b[2J" + "still here")')
        pty.expect(r"\\x1b\[2Jstill here")  # shown escaped, not obeyed
        pty.line("ls()")
        pty.expect(r"1 neurons?")
        before = len(pty.read_events())
        pty.wait_events("more notes", lambda evs: len(evs) > before + 4)
        pty.quit()
    finally:
        pty.kill()


def test_play_names_the_place_of_a_deep_file(tmp_path):
    deep = tmp_path / "deep.neu"
    deep.write_text("n1 = neuron(60)\nx = 1" + "+1" * 1000 + "\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "livecode.cli",
            "play",
            str(deep),
            "--seconds",
            "1",
            "--midi-api",
            "none",
            "--osc-port",
            "0",
        ],
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        timeout=60,
    )
    said = done.stdout + done.stderr
    assert done.returncode != 0 and "Traceback" not in said
    assert f"{deep}:2:" in said and "nested too deeply" in said
