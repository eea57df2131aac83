"""Syntax highlighting for the language: Python's lexer, with the language's own words marked.

The language is Python syntax, so pygments' ``PythonLexer`` tokenises it; on top of
that the language's functions (``neuron``, ``connect``...) show as builtins and the
neuron parameters (``thr``, ``rate``...) as attributes wherever they appear, and the
Python keywords the language refuses (``import``, ``def``...) as errors, so a performer
sees before pressing Enter that a line will be refused.
"""

from __future__ import annotations

from collections.abc import Iterator

from pygments.lexers.python import PythonLexer
from pygments.token import Error, Keyword, Name, _TokenType

from engine.protocol import PARAMS
from livecode.language.interpreter import FUNCTIONS

__all__ = ["LivecodeLexer", "REFUSED_KEYWORDS"]

REFUSED_KEYWORDS = frozenset(
    {
        "import",
        "from",
        "def",
        "class",
        "lambda",
        "while",
        "with",
        "try",
        "except",
        "finally",
        "raise",
        "global",
        "nonlocal",
        "async",
        "await",
        "yield",
        "return",
        "assert",
    }
)


class LivecodeLexer(PythonLexer):
    """Python tokens, re-labelled for the language (functions, parameters, refused words)."""

    name = "livecode"
    aliases = ["livecode", "neu"]
    filenames = ["*.neu"]

    def get_tokens_unprocessed(
        self, text: str, stack: tuple = ("root",)
    ) -> Iterator[tuple[int, _TokenType, str]]:
        for index, token, value in super().get_tokens_unprocessed(text, stack):
            if token in Name and value in FUNCTIONS:
                yield index, Name.Builtin, value
            elif token in Name and value in PARAMS:
                yield index, Name.Attribute, value
            elif token in Keyword and value in REFUSED_KEYWORDS:
                yield index, Error, value
            else:
                yield index, token, value
