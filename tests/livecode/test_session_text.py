"""session_text: written out and run in a fresh interpreter, the network comes back the same."""

from __future__ import annotations

from livecode.language.interpreter import Interpreter
from livecode.language.mirror import Mirror
from livecode.language.session_text import listing, session_text

RICH = """
tempo(87.5)
kick = neuron(36, thr=1.2, leak=0.3, vel=110, ch=10)
snare = neuron("D2", rate=0.5, phase=0.5, refr=0.125, ch=10)
bass = neuron(note=["C2", "Eb2", "G2", 41], dur=0.1 + 0.2, prob=0.75)
hats = [neuron(42 + i, rate=4, phase=i / 4, floor=-0.5) for i in range(4)]
pads = {"lo": neuron(48), "hi": neuron(60, mute=True)}
kick >> snare @ -0.4
kick >> hats @ 0.3
connect(snare, bass, 0.3, delay=0.5, kind="cont")
connect(hats[3], kick, 1 / 3, delay=0.25)
mute(snare)
solo(bass, hats[1])
later = neuron(70)
program(2, "Fingered Bass"); program(10, "TR 808"); program(ch=3, program=81)
root = 36
alias = kick
"""


def rebuilt(it: Interpreter) -> Interpreter:
    fresh = Interpreter()
    fresh.run(session_text(it.mirror, it.variables), filename="saved.neu")
    return fresh


def assert_same(a: Mirror, b: Mirror) -> None:
    assert list(a.neurons.items()) == list(b.neurons.items())  # order matters (volley ties)
    assert list(a.connections.items()) == list(b.connections.items())
    assert list(a.solo) == list(b.solo)
    assert (a.tempo, a.running, a.muted) == (b.tempo, b.running, b.muted)
    assert a == b


def test_rich_network_round_trips():
    it = Interpreter()
    it.run(RICH)
    fresh = rebuilt(it)
    assert_same(fresh.mirror, it.mirror)
    assert fresh.neuron_names()[3:7] == ["hats_0", "hats_1", "hats_2", "hats_3"]
    assert fresh.variables["root"] == 36
    # the group is a list again, so the performer can keep using it
    assert [type(op).__name__ for op in fresh.run("hats.rate = 8").ops] == ["SetParam"] * 4
    assert fresh.run("alias.name").output == ["'kick'"]


def test_text_is_readable_and_uses_a_group():
    it = Interpreter()
    it.run(RICH)
    text = session_text(it.mirror)
    assert "hats = [\n    neuron(42, rate=4.0, floor=-0.5),\n" in text
    assert "connect(snare, bass, 0.3, delay=0.5, kind='cont')" in text
    assert "connect(hats[3], kick, 0.3333333333333333, delay=0.25)" in text
    assert "tempo(87.5)" in text and "solo(bass)" in text


def test_stopped_network_and_empty_network_round_trip():
    it = Interpreter()
    it.run("a = neuron(1); stop()")
    assert_same(rebuilt(it).mirror, it.mirror)
    assert_same(rebuilt(Interpreter()).mirror, Mirror())


def test_interleaved_group_keeps_creation_order():
    it = Interpreter()
    it.run("hats = [neuron(40), neuron(41)]\nx = neuron(50)\nhats = hats + [neuron(42)]")
    assert it.neuron_names() == ["hats_0", "hats_1", "x", "hats_2"]
    fresh = rebuilt(it)
    assert_same(fresh.mirror, it.mirror)
    assert fresh.run("hats[2].note").output == ["42"]


def test_rebound_names_and_shadowing_do_not_break_the_text():
    it = Interpreter()
    it.run("hats = [neuron(40), neuron(41)]\nkick = neuron(36)\nkick = 5\nmix = [kick, hats]")
    fresh = rebuilt(it)
    assert_same(fresh.mirror, it.mirror)
    assert fresh.variables["kick"] == 5


def test_session_text_after_edits_and_deletes():
    it = Interpreter()
    it.run(RICH)
    it.run("del snare\nkick.rate *= 3\nhats = [neuron(90)]\nunsolo(bass)\ndisconnect(kick, hats)")
    assert_same(rebuilt(it).mirror, it.mirror)


def test_listing_shows_params_connections_and_activations():
    it = Interpreter()
    it.run(RICH)
    text = listing(it.mirror, {"kick": 0.5})
    assert text.startswith("tempo 87.5 bpm, running, 10 neurons")
    assert "kick >> snare @ -0.4" in text and "snare >> bass @ 0.3 delay=0.5 cont" in text
    assert "a=0.500" in text and "[solo]" in text
