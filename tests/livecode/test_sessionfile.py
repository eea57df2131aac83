"""Session files: only regular files, and never more than the size limit is read."""

from __future__ import annotations

import os

import pytest

from livecode.language.errors import LivecodeError
from livecode.language.interpreter import Interpreter
from livecode.language.sessionfile import MAX_SESSION_BYTES, file_reader


@pytest.mark.parametrize("target", ["/dev/zero", "fifo"])
def test_load_refuses_what_is_not_a_regular_file(tmp_path, target):
    if target == "fifo":
        target = str(tmp_path / "fifo")
        os.mkfifo(target)  # opening it to read would block until a writer came
    interp = Interpreter(read_file=file_reader(str(tmp_path)))
    with pytest.raises(LivecodeError, match="not a regular file"):
        interp.run(f'load("{target}")')
    assert interp.mirror.neurons == {}


def test_load_refuses_a_file_over_the_limit(tmp_path):
    big = tmp_path / "big.neu"
    big.write_text("# " + "x" * MAX_SESSION_BYTES + "\n")
    with pytest.raises(LivecodeError, match="at most 4 MiB"):
        Interpreter(read_file=file_reader(str(tmp_path))).run('load("big.neu")')
