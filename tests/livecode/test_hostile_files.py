"""A stranger's session file changes the network and nothing else: no file written, no
quitting, no reading outside its folder, nothing printed that drives the terminal."""

from __future__ import annotations

import os

import pytest

from engine.record.recording import RecordError, prepare
from livecode.language.errors import HostError, LivecodeError
from livecode.language.interpreter import Interpreter
from livecode.language.sessionfile import file_reader, load_session
from livecode.repl.live import LiveSession
from tests.livecode.fakes import FakeEngine


@pytest.fixture()
def home(tmp_path, monkeypatch):
    """A fake home with a ~/.bashrc, and a session folder as the working directory."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".bashrc").write_text("# mine\n")
    monkeypatch.setenv("HOME", str(home))
    work = tmp_path / "set"
    work.mkdir()
    monkeypatch.chdir(work)
    return home


EVIL = {
    "save": 'n1 = neuron(36)\nsave("~/.bashrc")\n',
    "save up": 'n1 = neuron(36)\nsave("../../home/.profile")\n',
    "record": 'n1 = neuron(36)\nrecord("~/.ssh/gig.sqlite")\n',
    "record off": "n1 = neuron(36)\nrecord(False)\n",
    "quit": "n1 = neuron(36)\nquit()\n",
}


def _files(home) -> dict:
    return {
        str(p.relative_to(home.parent)): p.read_bytes()
        for p in home.parent.rglob("*")
        if p.is_file()
    }


@pytest.mark.parametrize("source", list(EVIL.values()), ids=list(EVIL))
def test_a_loaded_file_may_not_write_files_or_quit(home, source):
    os.makedirs("sub")
    with open("sub/evil.neu", "w") as f:
        f.write(source)
    before = _files(home)
    it = Interpreter(read_file=file_reader(os.getcwd()))
    with pytest.raises(HostError) as info:
        it.run('load("sub/evil.neu")')
    assert "refused in a session file (sub/evil.neu)" in info.value.message
    assert it.mirror.neurons == {}  # the whole block changed nothing
    assert _files(home) == before


@pytest.mark.parametrize("source", list(EVIL.values()), ids=list(EVIL))
def test_a_started_or_watched_file_may_not_either(home, source):
    with open("evil.neu", "w") as f:
        f.write(source)
    before = _files(home)
    said: list[str] = []
    live = LiveSession(Interpreter(read_file=file_reader(os.getcwd())), FakeEngine(), said.append)
    assert live.load_initial("evil.neu") is None  # `livecode evil.neu`
    assert not live.apply_file(source, "evil.neu")  # `--watch`
    with pytest.raises(HostError):
        load_session("evil.neu")  # `livecode play evil.neu`
    assert live.engine.batches == []
    assert any("refused in a session file" in s for s in said)
    assert _files(home) == before


def test_at_the_prompt_the_performer_still_saves_records_and_quits(home):
    it = Interpreter()
    result = it.run('save("set.neu"); record("gig.sqlite"); quit()')
    assert result.actions == [("save", "set.neu"), ("record", "gig.sqlite"), ("quit",)]


@pytest.mark.parametrize(
    "path", ["/etc/passwd", "../../etc/passwd.neu", "~/x.neu", "/tmp/x.neu", "notes.txt"]
)
def test_a_file_loads_only_session_files_below_its_folder(home, path):
    with open("evil.neu", "w") as f:
        f.write(f"n1 = neuron(36)\nload({path!r})\n")
    with open("notes.txt", "w") as f:
        f.write("secret line\n")
    it = Interpreter(read_file=file_reader(os.getcwd()))
    with pytest.raises(HostError) as info:
        it.run('load("evil.neu")')
    text = info.value.render()
    assert "only .neu files" in text and "root:" not in text and "secret" not in text


def test_a_file_may_load_the_session_files_beside_and_below_it(home):
    os.makedirs("parts")
    with open("parts/drums.neu", "w") as f:
        f.write("kick = neuron(36)\n")
    with open("main.neu", "w") as f:
        f.write('load("parts/drums.neu")\nbass = neuron(40)\n')
    it = Interpreter(read_file=file_reader(os.getcwd()))
    it.run('load("main.neu")')
    assert set(it.mirror.neurons) == {"kick", "bass"}


def test_what_a_block_prints_cannot_drive_the_terminal():
    it = Interpreter()
    result = it.run(
        'print("\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J hi")\n"\\x9b31m"\nprint("a\\u202eb\\tc")'
    )
    for line in result.output:
        assert not any(ord(c) < 32 and c not in "\t\n" for c in line), repr(line)
        assert "\x9b" not in line and "\u202e" not in line
    assert "\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J hi" in result.output[0]


def test_an_error_quoting_a_hostile_line_is_escaped():
    it = Interpreter()
    with pytest.raises(LivecodeError) as info:
        it.run('x = "\x1b[2J\x1b]0;owned\x07" + nope')
    text = info.value.render()
    assert "\x1b" not in text and "\x07" not in text and "\\x1b[2J" in text
    caret_line, source_line = text.splitlines()[2], text.splitlines()[1]
    assert source_line[caret_line.index("^")] == "n"  # the caret still points at `nope`
    # a file name is text from anyone too
    files = {"x\x1b]0;t\x07.neu": "x = nope\n"}
    with pytest.raises(LivecodeError) as info:
        Interpreter(read_file=files.__getitem__).run("load('x\\x1b]0;t\\x07.neu')")
    text = info.value.render()
    assert "\x1b" not in text and "\x07" not in text and "x\\x1b]0;t\\x07.neu:1:5:" in text


def test_record_refuses_a_symbolic_link_even_a_dangling_one(tmp_path):
    link = tmp_path / "gig.sqlite"
    link.symlink_to(tmp_path / "elsewhere" / "authorized_keys")
    with pytest.raises(RecordError, match="symbolic link"):
        prepare(str(link))
    assert not (tmp_path / "elsewhere").exists()


def test_at_the_prompt_load_runs_only_session_files_and_shows_no_line_of_others(home):
    it = Interpreter(read_file=file_reader(os.getcwd()))
    with open("notes.txt", "w") as f:
        f.write("secret: line\n")
    with pytest.raises(HostError) as info:
        it.run('load("notes.txt")')
    assert "session files (*.neu)" in info.value.message
    assert "secret" not in info.value.render()
