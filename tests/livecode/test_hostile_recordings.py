"""Recordings from elsewhere: checked when opened, a clear error naming what is wrong, and
an exported .neu holds only what the language writes."""

from __future__ import annotations

import json
import sqlite3

import pytest

from engine.model.network import Network
from engine.protocol import DefineNeuron
from engine.record.recording import RecordError, load
from livecode.cli import main
from livecode.export import export
from tests.livecode.test_replay_export import make_recording


@pytest.fixture()
def gig(tmp_path):
    path = str(tmp_path / "gig.sqlite")
    make_recording(path)
    return path


def _tamper(path: str, sql: str, *args: object) -> None:
    db = sqlite3.connect(path)
    db.execute(sql, args)
    db.commit()
    db.close()


def _snapshot(path: str) -> dict:
    db = sqlite3.connect(path)
    (text,) = db.execute("SELECT snapshot FROM segments ORDER BY id").fetchone()
    db.close()
    return json.loads(text)


def _without_beat(path: str) -> None:
    snap = _snapshot(path)
    del snap["beat"]
    _tamper(path, "UPDATE segments SET snapshot = ?", json.dumps(snap))


def _evil_name(path: str) -> None:
    net = Network()
    net.apply(DefineNeuron("a", {}))
    snap = _snapshot(path)
    snap["neurons"]['x = 1\nsave("~/.bashrc")\ny'] = net.snapshot()["neurons"]["a"]
    _tamper(path, "UPDATE segments SET snapshot = ?", json.dumps(snap))


TAMPERED = {
    "snapshot without beat": (_without_beat, "lacks 'beat'"),
    "text where a time belongs": (
        lambda p: _tamper(p, "UPDATE batches SET t = 'soon' WHERE id = 1"),
        "batch 1: t must be a finite number",
    ),
    "text where an event time belongs": (
        lambda p: _tamper(p, "UPDATE events SET beat = 'x' WHERE id = 2"),
        "event 2: beat must be a finite number",
    ),
    "a channel out of range": (
        lambda p: _tamper(p, "UPDATE events SET ch = 99 WHERE id = 1"),
        "ch must be a whole number in 1..16",
    ),
    "an unknown event type": (
        lambda p: _tamper(p, "UPDATE events SET type = 'sysex' WHERE id = 1"),
        "type must be one of",
    ),
    "a neuron name that is code": (_evil_name, "is not a neuron name"),
    "an op naming code": (
        lambda p: _tamper(
            p,
            "UPDATE batches SET ops = ? WHERE id = 1",
            json.dumps([{"op": "DefineNeuron", "name": "a\nsave('x')", "params": {}}]),
        ),
        "DefineNeuron.name is not a neuron name",
    ),
    "an infinite tempo": (
        lambda p: _tamper(p, "UPDATE segments SET tempo = 9e999"),
        "tempo must be a finite number",
    ),
    "a seed that is text": (
        lambda p: _tamper(p, "UPDATE segments SET seed = 'x'"),
        "seed must be a whole number",
    ),
}


@pytest.mark.parametrize("case", list(TAMPERED), ids=list(TAMPERED))
def test_a_tampered_recording_is_refused_when_opened(gig, case):
    tamper, why = TAMPERED[case]
    tamper(gig)
    with pytest.raises(RecordError) as info:
        load(gig)
    assert why in str(info.value) and "not a valid livecode recording" in str(info.value)


@pytest.mark.parametrize("case", list(TAMPERED), ids=list(TAMPERED))
@pytest.mark.parametrize(
    "command", [["replay", "-o", "out.mid"], ["export", "-o", "out.neu"], ["export", "-o", "o.txt"]]
)
def test_replay_and_export_say_what_is_wrong_without_a_traceback(
    gig, case, command, tmp_path, capsys
):
    TAMPERED[case][0](gig)
    out = str(tmp_path / command[-1])
    assert main([command[0], gig, "-o", out]) == 2
    said = capsys.readouterr()
    assert "Traceback" not in said.out + said.err
    assert TAMPERED[case][1] in said.out + said.err


def test_an_untampered_recording_still_exports_a_plain_session(gig, tmp_path):
    out = str(tmp_path / "end.neu")
    export(gig, out)
    text = open(out).read()
    for word in ("save(", "record(", "load(", "quit("):
        assert word not in text


def test_an_export_that_is_not_a_plain_session_is_not_written():
    from livecode.export import _check_session

    _check_session("a = neuron(36)\n", "gig.sqlite")
    for text in ('a = neuron(36)\nsave("~/.bashrc")\n', 'load("x.neu")\n', "import os\n"):
        with pytest.raises(ValueError, match="cannot be written as a session file"):
            _check_session(text, "gig.sqlite")
