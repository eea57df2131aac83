"""``python -m livecode.cli`` with bugs planted, for the fault-barrier pty test.

Run as ``python -m tests.livecode.faulty_cli ARGS...``. Planted before ``main()``:

- the language function ``fire()`` raises ``KeyError``;
- the evaluator raises ``RuntimeError`` on every conditional expression (``a if c else b``);
- the REPL's handler of engine statuses raises ``KeyError`` on every status.

(Not the toolbar: with ``PROMPT_TOOLKIT_NO_CPR`` prompt_toolkit never draws it in the
pty, so ``test_fault_barrier.py`` tests that barrier through the pipe input.)

Production code has no test hooks: these are plain monkeypatches of real parts.
"""

from __future__ import annotations

import dataclasses
import sys


def _raise(exc: Exception):
    def planted(*args: object, **kwargs: object) -> object:
        raise exc

    return planted


def plant() -> None:
    from livecode.language.commands import FUNCTIONS
    from livecode.language.evaluator import Evaluator
    from livecode.repl.toolbar import Monitor

    fire = FUNCTIONS["fire"]
    FUNCTIONS["fire"] = dataclasses.replace(fire, impl=_raise(KeyError("planted in fire")))
    Evaluator.e_ifexp = _raise(RuntimeError("planted in the evaluator"))  # type: ignore[method-assign]
    Monitor.on_status = _raise(KeyError("planted in the status handler"))  # type: ignore[method-assign]


if __name__ == "__main__":  # the engine process imports this module too: plant nothing there
    plant()
    from livecode.cli import main

    sys.exit(main())
