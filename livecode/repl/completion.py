"""Tab completion for the REPL: the language's functions, the names bound now, parameters.

What is offered depends on where the cursor is:

- after ``n1.``: the neuron parameters, each with its range and meaning;
- inside ``neuron(`` or ``connect(`` at an argument: their keyword arguments (``thr=``);
- anywhere else: variables (neurons first, with their parameters), the language's
  functions (with their signature) and the few Python words the language allows.

Nothing is evaluated to complete: names come from the interpreter's variables and its
picture of the network.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from engine.protocol import PARAMS
from livecode.language.interpreter import FUNCTIONS, Interpreter
from livecode.language.session_text import neuron_call
from livecode.language.values import NeuronRef
from livecode.repl.faults import Faults

__all__ = ["LivecodeCompleter", "KEYWORDS", "CALL_KEYWORDS"]

KEYWORDS = (
    "for",
    "in",
    "if",
    "elif",
    "else",
    "del",
    "and",
    "or",
    "not",
    "is",
    "True",
    "False",
    "None",
)
# Keyword arguments offered inside a call: the neuron's parameters, connect's options.
CALL_KEYWORDS: dict[str, dict[str, str]] = {
    "neuron": {name: spec.describe() for name, spec in PARAMS.items()},
    "connect": {
        "w": "weight (float): positive pulls together, negative pushes apart",
        "delay": "beats (>= 0) before the pulse arrives",
        "kind": '"pulse" (default) or "cont" (continuous coupling)',
    },
}

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
_ATTRIBUTE = re.compile(r"([A-Za-z_][A-Za-z0-9_\]\[]*)\.([A-Za-z_][A-Za-z0-9_]*)?$")
_ARG_START = re.compile(r"[(,]\s*([A-Za-z_][A-Za-z0-9_]*)?$")


def _in_string(text: str) -> bool:
    """True when the end of ``text`` (one line) is inside a string literal."""
    quote = ""
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "#":
            return True  # a comment: nothing to complete either
        i += 1
    return bool(quote)


def _open_call(text: str) -> str | None:
    """The name of the innermost call whose parenthesis is still open at the end of ``text``."""
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        c = text[i]
        if c in ")]}":
            depth += 1
        elif c in "([{":
            if depth == 0:
                if c != "(":
                    return None
                m = _WORD.search(text[:i])
                return m.group(0) if m else None
            depth -= 1
    return None


class LivecodeCompleter(Completer):
    """Completes against ``interpreter``'s bound names, functions and parameters."""

    def __init__(self, interpreter: Interpreter, faults: Faults | None = None) -> None:
        self.interpreter = interpreter
        self.faults = faults or Faults(_to_stderr)

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterator[Completion]:
        """The completions at the cursor.

        The completer's fault barrier: prompt_toolkit prints a traceback over the
        prompt on an exception here, so a bug ends the menu and is said once instead.
        """
        try:
            yield from self._completions(document, complete_event)
        except Exception as exc:  # noqa: BLE001 - the fault barrier (see the docstring)
            self.faults("in completion", exc, "no completions offered")

    def _completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterator[Completion]:
        line = document.current_line_before_cursor
        if _in_string(line):
            return
        text = document.text_before_cursor
        attr = _ATTRIBUTE.search(line)
        if attr:
            prefix = attr.group(2) or ""
            yield from _matching(prefix, ((name, spec.describe()) for name, spec in PARAMS.items()))
            return
        m = _WORD.search(line)
        prefix = m.group(0) if m else ""
        if not prefix and not complete_event.completion_requested:
            return
        call = _open_call(text)
        if call in CALL_KEYWORDS and _ARG_START.search(line):
            yield from _matching(
                prefix, ((f"{k}=", meta) for k, meta in CALL_KEYWORDS[call].items())
            )
        yield from _matching(prefix, self._names())
        yield from _matching(
            prefix, ((f.name, f"{f.signature}  {f.doc}") for f in FUNCTIONS.values())
        )
        yield from _matching(prefix, ((k, "") for k in KEYWORDS))

    def _names(self) -> Iterator[tuple[str, str]]:
        mirror = self.interpreter.mirror
        variables = self.interpreter.variables
        neurons = [(k, v) for k, v in variables.items() if isinstance(v, NeuronRef)]
        for var, ref in neurons:
            params = mirror.neurons.get(ref.name)
            yield var, (neuron_call(params) if params is not None else "deleted neuron")
        for var, value in variables.items():
            if not isinstance(value, NeuronRef):
                yield var, _describe(value)


def _to_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _describe(value: object) -> str:
    if isinstance(value, (list, tuple)):
        count = sum(isinstance(v, NeuronRef) for v in value)
        if count:
            return f"list of {count} neurons" if count == len(value) else f"list ({len(value)})"
        return f"list ({len(value)})"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _matching(prefix: str, items: Iterable[tuple[str, str]]) -> Iterator[Completion]:
    for text, meta in items:
        if text.startswith(prefix) and text != prefix:
            yield Completion(text, start_position=-len(prefix), display_meta=meta)
