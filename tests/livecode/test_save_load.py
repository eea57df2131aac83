"""save() writes the network as language text that load() and `livecode FILE` rebuild exactly."""

from __future__ import annotations

import pytest

from engine.model.network import Network
from engine.protocol import Batch
from livecode.language.interpreter import Interpreter
from livecode.language.sessionfile import file_reader, load_session
from livecode.repl.live import LiveSession
from tests.livecode.fakes import FakeEngine

RICH = """\
tempo(96.5)
kick = neuron("C2", thr=2, rate=1, dur=0.1, ch=10, vel=115)
hats = [neuron(42 + i, rate=4, phase=i / 4, prob=0.9) for i in range(4)]
kit = {"snare": neuron("D2", phase=0.5, refr=0.2), "tom": neuron(45, leak=0.3, floor=-0.5)}
bass = neuron(["C2", "C2", "G2", "Bb1"], thr=1.5, leak=0.1, dur=0.4, ch=2)
lead = neuron([60, 63, 67], rate=1.1, mute=True)
kick >> hats @ -0.25
connect(kick, bass, 0.25, delay=0.5)
connect(bass, lead, 0.05, kind="cont")
hats[0] >> kit["snare"] >> kit["tom"] @ 0.7
solo(kick, bass)
lead.thr = osc("/1/fader1", 0.5, 2.0)
bass.fire = osc("/1/push1")
x = 3
pair = [kick, lead]
"""


def _same(a, b) -> None:
    assert list(a.neurons) == list(b.neurons)  # creation order too
    assert a.neurons == b.neurons
    assert a.connections == b.connections
    assert (a.tempo, list(a.solo), a.running) == (b.tempo, list(b.solo), b.running)
    assert a.mappings == b.mappings


@pytest.fixture
def live(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    said: list[str] = []
    session = LiveSession(
        Interpreter(read_file=file_reader(str(tmp_path))), FakeEngine(), said.append
    )
    session.said = said  # type: ignore[attr-defined]
    assert not session.submit(RICH)
    return session


def test_save_then_load_rebuilds_the_same_network(live, tmp_path):
    live.submit("stop()")
    live.submit('save("set.neu")')
    assert live.said[-1] == "saved 9 neurons and 8 connections to set.neu"
    fresh = Interpreter(read_file=file_reader(str(tmp_path)))
    fresh.run('load("set.neu")')
    _same(live.interpreter.mirror, fresh.mirror)
    assert (
        fresh.variables["x"] == 3 and fresh.variables["pair"] == live.interpreter.variables["pair"]
    )
    # and saving what was loaded writes the same text: the round trip is a fixed point
    live.submit('save("again.neu")')
    assert (tmp_path / "again.neu").read_text() == (tmp_path / "set.neu").read_text()


def test_a_saved_session_starts_the_same_network_in_the_engine(live, tmp_path):
    live.submit('save("set.neu")')
    interp, batch = load_session(str(tmp_path / "set.neu"))  # what `livecode set.neu` runs
    _same(live.interpreter.mirror, interp.mirror)
    original = Network()
    original.apply(Batch(tuple(live.interpreter.mirror.to_ops())), 0.0)
    loaded = Network()
    loaded.apply(batch, 0.0)
    a, b = original.snapshot(), loaded.snapshot()
    assert a["neurons"] == b["neurons"] and a["connections"] == b["connections"]
    assert (a["tempo"], a["solo"]) == (b["tempo"], b["solo"])


def test_save_typed_in_the_repl_writes_atomically_and_says_so(live, tmp_path):
    (tmp_path / "set.neu").write_text("old")
    live.submit('save("set.neu")')
    assert (tmp_path / "set.neu").read_text().startswith("# livecode session")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".livecode-")] == []


def test_a_save_that_cannot_be_written_is_reported_not_raised(live, tmp_path):
    live.submit('save("no/such/dir/set.neu")')
    assert live.said[-1].startswith("cannot save no/such/dir/set.neu")
