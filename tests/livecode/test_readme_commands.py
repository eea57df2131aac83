"""The README's two set-up commands hold on a stock Debian/Ubuntu as written.

`.ci/run` runs them for real in a copy of the commit; this checks, in a second, what a
stock system needs of them: apt's index refreshed first, no question from jackd2's
installer, a venv of their own (Debian's python3 refuses `pip install` outside one) made
with `python3` (there is no `python`), and nothing installed before it is active.
"""

from __future__ import annotations

import runpy
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
readme_commands = runpy.run_path(str(ROOT / ".ci" / "readme_commands.py"))["readme_commands"]


def _steps(command: str) -> list[list[str]]:
    return [shlex.split(step) for step in command.split("&&")]


def test_there_are_two_commands_one_to_play_one_to_test():
    install, test = readme_commands(ROOT / "README.md")
    assert _steps(install)[-1] == ["livecode", "demo"]
    assert _steps(test)[-1][:3] == ["python3", "-m", "pytest"]


def test_each_command_works_on_a_stock_system_as_written():
    for command in readme_commands(ROOT / "README.md"):
        steps = _steps(command)
        words = [w for step in steps for w in step]
        assert steps[0] == ["apt-get", "update"], command
        installs = [s for s in steps if "install" in s and "apt-get" in s]
        assert installs and all(s[0] == "DEBIAN_FRONTEND=noninteractive" for s in installs)
        assert all("-y" in s for s in installs)
        assert "python" not in words  # only python3 exists on a stock system
        venv = steps.index(["python3", "-m", "venv", ".venv"])
        activate = steps.index([".", ".venv/bin/activate"])
        pip = next(i for i, s in enumerate(steps) if s[:2] == ["pip", "install"])
        assert venv < activate < pip, command
        assert not any("sudo" in s for s in steps)  # the README says how, for non-root
