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


def test_the_picture_is_one_a_performer_would_print(tmp_path):
    from engine.render import render_events
    from livecode.language.sessionfile import load_session
    from livecode.plot import Wire, plot
    from livecode.plot_parts import EXCITE, INHIBIT

    interp, batch = load_session(DEMO)
    events, _ = render_events(batch, 30.0)
    mirror = interp.mirror
    wires = [Wire(s, d, w, delay, kind) for (s, d), (w, delay, kind) in mirror.connections.items()]
    pic = plot(events, list(mirror.neurons), wires, str(tmp_path / "demo.png"))
    # the network is a graph with room of its own, not a 40-pixel column
    assert pic.graph_width * pic.figure_size[0] >= 4.0  # inches
    colour = {(w["src"], w["dst"]): w["colour"] for w in pic.wires}
    assert len(colour) == len(mirror.connections)
    assert colour[("kick", "ghost")] == INHIBIT and colour[("echo", "lead")] == INHIBIT
    assert colour[("bass", "lead")] == EXCITE
    # drums on lanes of their own, named after the kit and the neurons that play them
    assert "Bass Drum  (kick)" in pic.drum_lanes and "Acoustic Snare  (snare)" in pic.drum_lanes
    assert any(lane.startswith("Closed Hi-Hat") for lane in pic.drum_lanes)
    # the piano roll holds only the pitched parts: no hi-hat (42) or ghost (40) there
    assert 42 not in pic.roll_notes and 40 not in pic.roll_notes
    assert {60, 67} <= set(pic.roll_notes)  # the lead is there
    assert pic.bars >= 14  # 30 s at 112 bpm: 56 beats, 14 bars marked
