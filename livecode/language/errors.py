"""The livecode error root and its positioned, suggesting subclasses.

Every error the performer's side raises is a :class:`LivecodeError`. Each subclass
also inherits the builtin it resembles (``UndefinedName`` is a ``NameError``), so
callers can catch either. An error knows where it happened (file, 1-based line and
column, the source line) and renders like a compiler message::

    <repl>:1:33: `n2` is not defined; did you mean `n1`?
      n1 = neuron(36, thr=1.2); n1 >> n2 @ -0.4
                                      ^
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = [
    "LivecodeError",
    "LanguageSyntaxError",
    "Refused",
    "UndefinedName",
    "UnknownFunction",
    "UnknownAttribute",
    "BadValue",
    "BadType",
    "BadIndex",
    "DivisionByZero",
    "LimitExceeded",
    "HostError",
    "InternalError",
    "internal_message",
    "NOT_APPLIED",
    "Interrupted",
    "suggest",
    "printable",
    "edit_distance",
]

# C0 and C1 controls, DEL, and the bidirectional overrides that reorder what is shown:
# a file's string or a packet must not clear the screen, set the clipboard (OSC 52) or
# disguise a line when it is printed on the performer's terminal.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROLS_AND_NEWLINES = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str, keep_newlines: bool = True) -> str:
    """``text`` safe to print on a terminal: control characters written as escapes."""
    pattern = _CONTROLS if keep_newlines else _CONTROLS_AND_NEWLINES

    def escape(m: re.Match) -> str:
        c = ord(m.group())
        return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"

    return pattern.sub(escape, text)


# What a fault barrier says became of a block that failed before it reached the engine.
NOT_APPLIED = "nothing of the block was applied"


def edit_distance(a: str, b: str) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) that turn ``a`` into ``b``."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def suggest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``word``, or None when nothing is close.

    Closest = fewest edits (a swap of two letters is one), then the longest shared
    start: ``rat`` gives ``rate``, not ``dur``. A candidate counts as close within one
    edit in three letters (at least one), or when one name starts with the other.
    """
    low = word.lower()
    best: tuple[int, int, int] | None = None
    found = None
    for order, cand in enumerate(dict.fromkeys(candidates)):
        c = cand.lower()
        if c == low:
            return cand
        dist = edit_distance(low, c)
        prefix = _common_prefix(low, c)
        starts = len(low) >= 2 and (c.startswith(low) or low.startswith(c))
        if dist > max(1, len(low) // 3) and not starts:
            continue
        key = (min(dist, 1) if starts else dist, -prefix, order)
        if best is None or key < best:
            best, found = key, cand
    return found


class LivecodeError(Exception):
    """Root of the package's errors: a message, where it happened, and maybe a fix.

    Attributes: ``message`` (the rule and the bad value), ``filename``, ``line`` and
    ``col`` (1-based; 0 when unknown), ``source_line`` (the text of that line) and
    ``suggestion`` (a name to try instead, or None).
    """

    def __init__(
        self,
        message: str,
        *,
        filename: str = "<repl>",
        line: int = 0,
        col: int = 0,
        source_line: str = "",
        suggestion: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.filename = filename
        self.line = line
        self.col = col
        self.source_line = source_line
        self.suggestion = suggestion

    def located(self) -> bool:
        return self.line > 0

    def at(self, filename: str, line: int, col: int, source_line: str) -> LivecodeError:
        """Fill in the position unless one is set already; returns self for ``raise``."""
        if not self.located():
            self.filename, self.line, self.col, self.source_line = filename, line, col, source_line
        return self

    def headline(self) -> str:
        text = self.message
        if self.suggestion and "did you mean" not in text:
            text += f"; did you mean `{self.suggestion}`?"
        if self.line:
            return f"{self.filename}:{self.line}:{self.col}: {text}"
        return f"{self.filename}: {text}"

    def render(self) -> str:
        """The message with its position, the source line and a caret under the column."""
        out = self.headline()
        if self.line and self.source_line:
            src = self.source_line.rstrip("\r\n").expandtabs(1)
            cut = len(printable(src[: max(0, self.col - 1)]))  # the caret under the same char
            src = printable(src)
            caret = " " * max(0, min(cut, len(src))) + "^"
            out += f"\n  {src}\n  {caret}"
        return printable(out, keep_newlines=True)

    def __str__(self) -> str:
        return self.render()

    def __reduce__(self):  # keep the positional fields when pickled (engine pipe, tests)
        state = {
            k: getattr(self, k) for k in ("filename", "line", "col", "source_line", "suggestion")
        }
        return (_rebuild, (type(self), self.message, state))


def _rebuild(cls: type, message: str, state: dict) -> LivecodeError:
    return cls(message, **state)


class LanguageSyntaxError(LivecodeError, SyntaxError):  # type: ignore[misc]
    """The text is not valid Python syntax (reported at the parser's position)."""


class Refused(LivecodeError, SyntaxError):  # type: ignore[misc]
    """Valid Python, but a construct the language does not allow (import, def, ``_x``...)."""


class UndefinedName(LivecodeError, NameError):
    """A name that is not bound to anything."""


class UnknownFunction(UndefinedName):
    """A call to something that is not one of the language's functions."""


class UnknownAttribute(LivecodeError, AttributeError):
    """An attribute that is not a neuron parameter."""


class BadValue(LivecodeError, ValueError):
    """A value outside its rule: a parameter out of range, a bad note name, a bad tempo."""


class BadType(LivecodeError, TypeError):
    """A value of the wrong kind for an operation or a function."""


class BadIndex(LivecodeError, IndexError):
    """A subscript that is out of range or not in the dict."""


class DivisionByZero(LivecodeError, ZeroDivisionError):
    """Division or modulo by zero."""


class LimitExceeded(LivecodeError, OverflowError):
    """A block would run too long or build too large a value; it is refused whole."""


class Interrupted(LivecodeError):
    """The performer pressed Ctrl-C while a block ran; the block changed nothing."""


class HostError(LivecodeError, OSError):
    """A request to the host (``load``) that it could not serve."""


class InternalError(LivecodeError, RuntimeError):
    """A bug inside livecode, not in the performer's text, caught at a fault barrier.

    Built by :meth:`caught`; the message says it is internal, where it happened, the
    exception's type and text, and what became of the work (``outcome``). The exception
    itself is kept as ``original`` for a debugger; no traceback is shown (the project
    keeps no log to put one in).
    """

    original: BaseException | None = None

    @classmethod
    def caught(cls, where: str, exc: BaseException, outcome: str = NOT_APPLIED) -> InternalError:
        err = cls(internal_message(where, exc, outcome))
        err.original = exc
        return err


def internal_message(where: str, exc: BaseException, outcome: str = NOT_APPLIED) -> str:
    """``internal error WHERE: Type: text (a bug in livecode, ...); OUTCOME``.

    ``where`` starts with its preposition: ``"in fire()"``, ``"while saving"``.
    """
    lines = str(exc).strip().splitlines()
    detail = type(exc).__name__ + (f": {lines[0][:200]}" if lines else "")
    return f"internal error {where}: {detail} (a bug in livecode, not in your code); {outcome}"
