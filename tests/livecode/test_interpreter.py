"""Each construct of the language and the ops it produces."""

from __future__ import annotations

import pytest

from engine import protocol as P
from livecode.language.errors import BadValue, LivecodeError
from livecode.language.interpreter import Interpreter, Result
from livecode.language.mirror import default_params


def full(**given) -> dict:
    params = default_params()
    params.update(given)
    return params


@pytest.fixture
def it() -> Interpreter:
    return Interpreter()


def ops(it: Interpreter, source: str) -> list:
    return list(it.run(source).ops)


def test_run_returns_result_with_ops_in_order(it):
    result = it.run("n1 = neuron(36, thr=1.2); n2 = neuron('D3', rate=2, dur=0.1, ch=10)")
    assert isinstance(result, Result)
    assert result.ops == (
        P.DefineNeuron("n1", full(note=36, thr=1.2)),
        P.DefineNeuron("n2", full(note=50, rate=2.0, dur=0.1, ch=10)),
    )
    assert result.output == [] and result.actions == []


def test_design_card_examples(it):
    it.run("n1 = neuron(36, thr=1.2); n2 = neuron('D3', rate=2, dur=0.1, ch=10)")
    assert ops(it, "n1 >> n2 @ -0.4") == [P.Connect("n1", "n2", -0.4, 0.0, "pulse")]
    assert ops(it, "n1 >> n2") == [P.Connect("n1", "n2", 0.5, 0.0, "pulse")]
    assert ops(it, "connect(n1, n2, 0.3, delay=0.5, kind='cont')") == [
        P.Connect("n1", "n2", 0.3, 0.5, "cont")
    ]
    assert ops(it, "disconnect(n1, n2)") == [P.Disconnect("n1", "n2")]
    assert ops(it, "n1.rate = 3; n1.note = [36, 38, 43]; n1.rate *= 2") == [
        P.SetParam("n1", "rate", 3.0),
        P.SetParam("n1", "note", (36, 38, 43)),
        P.SetParam("n1", "rate", 6.0),
    ]
    assert ops(it, "hats = [neuron(42 + i, rate=4, phase=i / 4) for i in range(4)]") == [
        P.DefineNeuron(f"hats_{i}", full(note=42 + i, rate=4.0, phase=i / 4)) for i in range(4)
    ]
    assert ops(it, "tempo(96); mute(n1); unmute(n1); solo(n2); fire(n1); reset(n1); del n1") == [
        P.Tempo(96.0),
        P.Mute("n1", True),
        P.Mute("n1", False),
        P.Solo("n2", True),
        P.Fire("n1"),
        P.Reset("n1"),
        P.Remove("n1"),
    ]
    assert ops(it, "stop(); start(); panic(); clear()") == [
        P.Stop(),
        P.Start(),
        P.Panic(),
        P.Clear(),
    ]
    result = it.run("save('set.neu')")
    assert result.ops == () and result.actions == [("save", "set.neu")]


def test_redefining_a_neuron_sends_the_full_parameter_set(it):
    it.run("n1 = neuron(36, rate=3, vel=80)")
    assert ops(it, "n1 = neuron(40)") == [P.DefineNeuron("n1", full(note=40))]
    assert it.mirror.neurons["n1"] == full(note=40)


def test_chain_connects_each_pair_and_returns_the_last(it):
    it.run("a = neuron(1); b = neuron(2); c = neuron(3)")
    assert ops(it, "a >> b >> c") == [P.Connect("a", "b", 0.5), P.Connect("b", "c", 0.5)]
    assert ops(it, "a >> b @ 0.2 >> c @ -1") == [
        P.Connect("a", "b", 0.2),
        P.Connect("b", "c", -1.0),
    ]


def test_list_targets_and_sources(it):
    it.run("a = neuron(1); b = neuron(2); c = neuron(3)")
    assert ops(it, "a >> [b, c] @ 0.3") == [P.Connect("a", "b", 0.3), P.Connect("a", "c", 0.3)]
    assert ops(it, "[a, b] >> c") == [P.Connect("a", "c", 0.5), P.Connect("b", "c", 0.5)]
    assert ops(it, "mute([a, b], c)") == [P.Mute("a"), P.Mute("b"), P.Mute("c")]
    assert ops(it, "connect(a, [b, c], -0.1, kind='cont')") == [
        P.Connect("a", "b", -0.1, 0.0, "cont"),
        P.Connect("a", "c", -0.1, 0.0, "cont"),
    ]


def test_group_attribute_assignment_sets_each(it):
    it.run("hats = [neuron(42 + i) for i in range(3)]")
    assert ops(it, "hats.rate = 2") == [P.SetParam(f"hats_{i}", "rate", 2.0) for i in range(3)]
    assert ops(it, "hats.rate *= 2") == [P.SetParam(f"hats_{i}", "rate", 4.0) for i in range(3)]
    assert it.run("hats.rate").output == ["[4.0, 4.0, 4.0]"]


def test_param_read_uses_the_mirror_inside_the_block(it):
    result = it.run("n = neuron(36, rate=1.5)\nn.rate *= 2\nn.rate")
    assert result.ops[-1] == P.SetParam("n", "rate", 3.0)
    assert result.output == ["3.0"]
    assert it.run("n.note").output == ["36"]
    assert it.run("n.name").output == ["'n'"]


def test_alias_refers_to_the_same_neuron(it):
    it.run("n1 = neuron(36); a = n1")
    assert ops(it, "a.rate = 2") == [P.SetParam("n1", "rate", 2.0)]
    assert ops(it, "a >> n1") == [P.Connect("n1", "n1", 0.5)]


def test_del_removes_neuron_and_unbinds_references(it):
    it.run("n1 = neuron(36); a = n1; x = 5")
    assert ops(it, "del a") == [P.Remove("n1")]
    assert "n1" not in it.names() and "a" not in it.names()
    assert "n1" not in it.mirror.neurons
    assert ops(it, "del x") == []
    assert "x" not in it.names()


def test_del_group_removes_every_member(it):
    it.run("hats = [neuron(42 + i) for i in range(3)]")
    assert ops(it, "del hats") == [P.Remove(f"hats_{i}") for i in range(3)]


def test_rebinding_a_group_to_fewer_neurons_removes_the_rest(it):
    it.run("hats = [neuron(42 + i) for i in range(4)]")
    assert ops(it, "hats = [neuron(50 + i) for i in range(2)]") == [
        P.DefineNeuron("hats_0", full(note=50)),
        P.DefineNeuron("hats_1", full(note=51)),
        P.Remove("hats_2"),
        P.Remove("hats_3"),
    ]
    assert it.neuron_names() == ["hats_0", "hats_1"]


def test_naming_rule_for_nested_lists_dicts_and_unpacking(it):
    it.run("grid = [[neuron(i + j) for j in range(2)] for i in range(2)]")
    assert it.neuron_names() == ["grid_0_0", "grid_0_1", "grid_1_0", "grid_1_1"]
    it.run("kit = {'kick': neuron(36), 'snare': neuron(38)}")
    assert it.neuron_names()[-2:] == ["kit_kick", "kit_snare"]
    it.run("a, b = neuron(1), neuron(2)")
    assert it.neuron_names()[-2:] == ["a", "b"]
    assert ops(it, "kit['kick'] >> a") == [P.Connect("kit_kick", "a", 0.5)]


def test_tempo_reads_and_writes(it):
    assert it.run("tempo()").output == ["120.0"]
    it.run("tempo(90)")
    assert it.mirror.tempo == 90.0
    with pytest.raises(BadValue, match="tempo must be in range 1..999"):
        it.run("tempo(1000)")


def test_solo_unsolo_and_mirror(it):
    it.run("a = neuron(1); b = neuron(2)")
    assert ops(it, "solo(a, b); unsolo(a)") == [
        P.Solo("a", True),
        P.Solo("b", True),
        P.Solo("a", False),
    ]
    assert list(it.mirror.solo) == ["b"]
    it.run("mute(a)")
    assert it.mirror.muted == {"a"}


def test_disconnect_without_connection_is_an_error(it):
    it.run("a = neuron(1); b = neuron(2)")
    with pytest.raises(BadValue, match="no connection a -> b"):
        it.run("disconnect(a, b)")


def test_note_names_and_lists(it):
    it.run("a = neuron('C4'); b = neuron(note=['C3', 'Eb3', 'G3'])")
    assert it.mirror.neurons["a"]["note"] == 60
    assert it.mirror.neurons["b"]["note"] == (48, 51, 55)
    assert it.run("midi('F#3')").output == ["54"]


def test_plain_language_features(it):
    src = """
xs = [1, 2, 3]
d = {"a": 1, **{"b": 2}}
total = 0
for i, x in enumerate(xs):
    if x == 2:
        continue
    elif x > 5:
        break
    total += i * x
else:
    total += 100
ys = {k: v * 2 for k, v in zip(["p", "q"], range(2))}
z = [x for x in range(10) if x % 3 == 0][1:]
s = "ab" * 2 + str(len(xs)) + f"{total}"
b = not (1 < 2 < 3) or min(xs) == 1 and max(4, 5) == 5
w = 2 ** 10 + 7 // 2 - 7 % 3 + abs(-3) + round(2.6) + int("4") + float("0.5") + sum(xs)
q = sorted([3, 1, 2], reverse=True) + list(reversed((1, 2)))
c = 1 if "a" in d else 2
pass
"""
    it.run(src)
    v = it.variables
    assert v["total"] == 106 and v["ys"] == {"p": 0, "q": 2} and v["z"] == [3, 6, 9]
    assert v["s"] == "abab3106" and v["b"] is True
    assert v["w"] == 1024 + 3 - 1 + 3 + 3 + 4 + 0.5 + 6
    assert v["q"] == [3, 2, 1, 2, 1] and v["c"] == 1 and v["d"] == {"a": 1, "b": 2}


def test_expression_statements_echo_but_connections_do_not(it):
    it.run("a = neuron(1); b = neuron(2)")
    assert it.run("a >> b").output == []
    assert it.run("1 + 1\nprint('x', 2)\nNone").output == ["2", "x 2"]


def test_ls_and_help_return_text(it):
    it = Interpreter(activations=lambda: {"a": 0.25})
    it.run("a = neuron(36, rate=2); b = neuron(38); a >> b @ 0.3")
    out = it.run("ls()").output[0]
    assert "a" in out and "rate=2.0" in out and "a >> b @ 0.3" in out and "a=0.250" in out
    assert "rate" in it.run("help()").output[0]
    assert it.run("help(neuron)").output[0].startswith("neuron(")
    assert "activation gained per beat" in it.run("help('rate')").output[0]
    with pytest.raises(LivecodeError, match="did you mean `rate`"):
        it.run("help('rte')")


def test_quit_is_a_host_action(it):
    assert it.run("quit()").actions == [("quit",)]


def test_load_runs_the_file_inline_in_the_same_block():
    files = {"a.neu": "x = neuron(40)\nload('b.neu')\n", "b.neu": "y = neuron(41); x >> y"}
    it = Interpreter(read_file=files.__getitem__)
    result = it.run("load('a.neu'); y.rate = 2")
    assert [type(op).__name__ for op in result.ops] == [
        "DefineNeuron",
        "DefineNeuron",
        "Connect",
        "SetParam",
    ]


def test_load_without_a_host_reader_is_refused(it):
    with pytest.raises(LivecodeError, match="load"):
        it.run("load('x.neu')")


def test_names_and_neuron_names(it):
    it.run("n1 = neuron(1); k = 3; hats = [neuron(2), neuron(3)]")
    assert it.names() == ["n1", "k", "hats"]
    assert {"neuron", "tempo", "connect", "range"} <= set(it.function_names())
    assert it.neuron_names() == ["n1", "hats_0", "hats_1"]


def test_mirror_to_ops_rebuilds_the_network(it):
    it.run("a = neuron(1, rate=2); b = neuron(2); a >> b @ 0.1; solo(b); tempo(70); stop()")
    rebuilt = Interpreter().mirror
    for op in it.mirror.to_ops():
        rebuilt.apply(op)
    assert rebuilt == it.mirror
