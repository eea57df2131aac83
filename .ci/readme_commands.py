"""Print the README's set-up commands (the ```sh blocks under "On a new machine"),
each followed by a NUL byte, for .ci/run to run as written; the tests read them too."""

from __future__ import annotations

import re
import sys
from pathlib import Path

SECTION = "## On a new machine"


def readme_commands(readme: Path) -> list[str]:
    text = readme.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    section = text[start : end if end >= 0 else len(text)]
    return re.findall(r"```sh\n(.*?)\n```", section, re.S)


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1]
    for command in readme_commands(root / "README.md"):
        sys.stdout.write(command + "\0")
