"""The example sessions are package data: a built wheel carries them, and the installed
package finds them by name (``livecode render bench64``), with no checkout in sight."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from livecode.shipped import resolve_session, session_path, shipped_sessions

ROOT = Path(__file__).resolve().parents[2]
SESSIONS = ("bench64", "demo")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built offline from a copy of the checkout (the build's own files stay out of
    the work tree); needs setuptools >= 70.1, the ``test`` extra's, for bdist_wheel."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for package in ("livecode", "engine"):
        shutil.copytree(ROOT / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
        + ["--no-index", "-w", str(tmp / "dist"), str(src)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    (found,) = (tmp / "dist").glob("livecode-*.whl")
    return found


def test_wheel_carries_the_sessions(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        for name in SESSIONS:
            data = zf.read(f"livecode/sessions/{name}.neu")
            assert data == (ROOT / "sessions" / f"{name}.neu").read_bytes()


def test_installed_package_finds_sessions_by_name(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)  # a pure-Python wheel installs by unpacking
    run_dir = tmp_path / "elsewhere"
    run_dir.mkdir()
    env = dict(os.environ, PYTHONPATH=str(site))  # the installed copy, not the checkout
    probe = (
        "import json, livecode; from livecode.bench import BENCH_SESSION;"
        "from livecode.shipped import session_path;"
        "print(json.dumps([livecode.__file__, str(session_path(BENCH_SESSION))]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=run_dir,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    package, bench = json.loads(out.stdout)
    assert Path(package).is_relative_to(site)
    assert Path(bench) == site / "livecode" / "sessions" / "bench64.neu"
    # The command line takes a shipped session's name where a file would go.
    done = subprocess.run(
        [sys.executable, "-m", "livecode.cli", "render", "bench64", "--seconds", "2"]
        + ["-o", "out.jsonl"],
        cwd=run_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert (run_dir / "out.jsonl").read_text().count("note_on") > 100


def test_the_checkout_link_and_the_package_agree() -> None:
    assert set(shipped_sessions()) == set(SESSIONS)
    for name in SESSIONS:
        assert (ROOT / "sessions" / f"{name}.neu").samefile(session_path(name))
        assert session_path(f"{name}.neu") == session_path(name)


def test_a_file_wins_over_a_shipped_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_session("demo") == str(session_path("demo"))
    (tmp_path / "demo").write_text("n = neuron(60)\n")
    assert resolve_session("demo") == "demo"
    assert resolve_session("./bench64") == "./bench64"  # a path is never looked up
    assert resolve_session("nosuch") == "nosuch"
    with pytest.raises(FileNotFoundError, match="there are: bench64, demo"):
        session_path("nosuch")
