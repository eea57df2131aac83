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
    "suggest",
    "edit_distance",
]


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
            caret = " " * max(0, min(self.col - 1, len(src))) + "^"
            out += f"\n  {src}\n  {caret}"
        return out

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


class HostError(LivecodeError, OSError):
    """A request to the host (``load``) that it could not serve."""
