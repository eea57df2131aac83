"""``livecode plot``: a valid PNG of sensible size, for a session and for a recording."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from livecode.cli import main
from tests.livecode.test_replay_export import make_recording

pytest.importorskip("matplotlib")

PNG = b"\x89PNG\r\n\x1a\n"
DEMO = str(Path(__file__).resolve().parents[2] / "sessions" / "demo.neu")


def png_size(path) -> tuple[int, int]:
    """Width and height from the IHDR chunk, after checking the signature."""
    data = path.read_bytes()
    assert data[:8] == PNG, "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert data[-8:-4] == b"IEND"
    return width, height


def test_plot_a_session(tmp_path, capsys):
    out = tmp_path / "demo.png"
    assert main(["plot", DEMO, "--seconds", "20", "-o", str(out)]) == 0
    width, height = png_size(out)
    assert 1000 <= width <= 3000 and 400 <= height <= 3000
    assert out.stat().st_size > 20_000  # there is a picture in it, not a blank page
    assert "8 neurons" in capsys.readouterr().err


def test_plot_a_recording(tmp_path):
    path = str(tmp_path / "gig.sqlite")
    make_recording(path)
    out = tmp_path / "gig.png"
    assert main(["plot", path, "-o", str(out)]) == 0
    width, height = png_size(out)
    assert 1000 <= width <= 3000 and 400 <= height <= 3000


def test_plot_refuses_bad_requests(tmp_path, capsys):
    assert main(["plot", DEMO, "-o", str(tmp_path / "x.png")]) == 2
    assert "--seconds" in capsys.readouterr().err
    assert main(["plot", DEMO, "--seconds", "1", "-o", str(tmp_path / "x.jpg")]) == 2
    assert not (tmp_path / "x.jpg").exists()
