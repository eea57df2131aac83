"""The static whitelist: which Python syntax the language allows, checked before running.

A block is parsed with ``ast.parse`` and this check walks the whole tree before a
single statement runs, so a refused construct is reported even in a branch that would
never execute, and nothing of the block happens. The evaluator has its own dispatch
tables holding only these node types, as a second line of defence.
"""

from __future__ import annotations

import ast

from livecode.language.errors import LanguageSyntaxError, Refused

__all__ = ["check_tree", "REFUSALS", "position"]

ALLOWED = frozenset(
    {
        ast.Module,
        ast.Expr,
        ast.Assign,
        ast.AugAssign,
        ast.For,
        ast.If,
        ast.Delete,
        ast.Pass,
        ast.Break,
        ast.Continue,
        ast.Constant,
        ast.Name,
        ast.Attribute,
        ast.Subscript,
        ast.Slice,
        ast.List,
        ast.Tuple,
        ast.Dict,
        ast.BinOp,
        ast.UnaryOp,
        ast.BoolOp,
        ast.Compare,
        ast.IfExp,
        ast.Call,
        ast.keyword,
        ast.Starred,
        ast.ListComp,
        ast.DictComp,
        ast.GeneratorExp,
        ast.comprehension,
        ast.JoinedStr,
        ast.FormattedValue,
        ast.Load,
        ast.Store,
        ast.Del,
        ast.Add,
        ast.Sub,
        ast.Mult,
        ast.Div,
        ast.FloorDiv,
        ast.Mod,
        ast.Pow,
        ast.RShift,
        ast.MatMult,
        ast.USub,
        ast.UAdd,
        ast.Not,
        ast.And,
        ast.Or,
        ast.Eq,
        ast.NotEq,
        ast.Lt,
        ast.LtE,
        ast.Gt,
        ast.GtE,
        ast.In,
        ast.NotIn,
        ast.Is,
        ast.IsNot,
    }
)

_WHY_NOT_CODE = "livecode runs only its own small language, never Python code"
REFUSALS: dict[str, str] = {
    "Import": f"`import` is not allowed: {_WHY_NOT_CODE}",
    "ImportFrom": f"`from ... import` is not allowed: {_WHY_NOT_CODE}",
    "FunctionDef": "`def` is not allowed: the language has no user-defined functions; "
    "use a `for` loop or a list comprehension",
    "AsyncFunctionDef": "`async def` is not allowed",
    "ClassDef": "`class` is not allowed",
    "Lambda": "`lambda` is not allowed: the language has no user-defined functions",
    "While": "`while` is not allowed: use `for i in range(n):`, which is bounded",
    "With": "`with` is not allowed",
    "AsyncWith": "`async with` is not allowed",
    "Try": "`try` is not allowed: a block with an error changes nothing anyway",
    "TryStar": "`try` is not allowed: a block with an error changes nothing anyway",
    "Raise": "`raise` is not allowed",
    "Global": "`global` is not allowed",
    "Nonlocal": "`nonlocal` is not allowed",
    "Return": "`return` is not allowed",
    "Yield": "`yield` is not allowed",
    "YieldFrom": "`yield from` is not allowed",
    "Await": "`await` is not allowed",
    "AsyncFor": "`async for` is not allowed",
    "Assert": "`assert` is not allowed",
    "NamedExpr": "`:=` is not allowed; assign on its own line",
    "Match": "`match` is not allowed: use `if`/`elif`",
    "AnnAssign": "annotations are not allowed: write `x = value`",
    "Set": "sets are not part of the language: use a list",
    "SetComp": "sets are not part of the language: use a list comprehension",
    "TypeAlias": "`type` aliases are not allowed",
    "LShift": "`<<` is not part of the language",
    "BitOr": "`|` is not part of the language",
    "BitAnd": "`&` is not part of the language",
    "BitXor": "`^` is not part of the language",
    "Invert": "`~` is not part of the language",
}


def position(node: ast.AST, lines: list[str]) -> tuple[int, int]:
    """``node``'s 1-based line and 1-based *character* column (ast gives UTF-8 bytes)."""
    line = getattr(node, "lineno", 0) or 0
    col = getattr(node, "col_offset", 0) or 0
    if 0 < line <= len(lines):
        col = len(lines[line - 1].encode("utf-8")[:col].decode("utf-8", "replace"))
    return line, col + 1


class _Checker:
    def __init__(self, refuse) -> None:
        self.refuse = refuse
        self.loops = 0

    def visit(self, node: ast.AST, parent: ast.AST | None = None) -> None:
        kind = type(node)
        if kind not in ALLOWED:
            name = kind.__name__
            at = parent if isinstance(node, (ast.operator, ast.unaryop)) else node
            raise self.refuse(
                REFUSALS.get(name, f"{_describe(node)} is not part of the language"), at
            )
        check = getattr(self, "check_" + kind.__name__, None)
        if check is not None and kind is not ast.Call:
            check(node)
        if isinstance(node, ast.For):
            self.visit(node.target, node)
            self.visit(node.iter, node)
            self.loops += 1
            for stmt in node.body:
                self.visit(stmt, node)
            self.loops -= 1
            for stmt in node.orelse:
                self.visit(stmt, node)
            return
        for child in ast.iter_child_nodes(node):
            self.visit(child, node)
        if isinstance(node, ast.Call):  # after its parts: `__import__(...).x()` names `__import__`
            self.check_Call(node)

    def check_Name(self, node: ast.Name) -> None:
        if node.id.startswith("_"):
            raise self.refuse(f"names starting with `_` are not allowed, got `{node.id}`", node)

    def check_Attribute(self, node: ast.Attribute) -> None:
        if node.attr.startswith("_"):
            raise self.refuse(
                f"attributes starting with `_` are not allowed, got `.{node.attr}`", node, attr=True
            )

    def check_keyword(self, node: ast.keyword) -> None:
        if node.arg is not None and node.arg.startswith("_"):
            raise self.refuse(f"names starting with `_` are not allowed, got `{node.arg}`", node)

    def check_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Attribute) and not node.func.attr.startswith("_"):
            hint = ""
            if node.func.attr in ("fire", "reset", "mute", "unmute", "solo", "unsolo"):
                hint = f"; write `{node.func.attr}({ast.unparse(node.func.value)})`"
            raise self.refuse(
                f"methods are not part of the language, got `.{node.func.attr}(...)`{hint}",
                node.func,
                attr=True,
            )

    def check_Constant(self, node: ast.Constant) -> None:
        if not isinstance(node.value, (int, float, str, bool, type(None))):
            raise self.refuse(
                f"{type(node.value).__name__} values are not part of the language", node
            )

    def check_FormattedValue(self, node: ast.FormattedValue) -> None:
        if node.format_spec is not None:
            raise self.refuse(
                "format specs in f-strings are not allowed: write `{x}`, or use round()", node
            )

    def check_comprehension(self, node: ast.comprehension) -> None:
        if node.is_async:
            raise self.refuse("`async for` is not allowed", node.target)

    def check_Starred(self, node: ast.Starred) -> None:
        if isinstance(node.ctx, ast.Store):
            raise self.refuse("starred targets (`a, *rest = ...`) are not allowed", node)

    def check_Subscript(self, node: ast.Subscript) -> None:
        if isinstance(node.ctx, ast.Store):
            raise self.refuse(
                "changing an item in place is not allowed: build a new list, "
                "e.g. `xs = xs[:2] + [v] + xs[3:]`",
                node,
            )
        if isinstance(node.ctx, ast.Del):
            raise self.refuse("`del` works on names only: `del n1`", node)

    def check_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            if not isinstance(target, ast.Name):
                raise self.refuse("`del` works on names only: `del n1`", target)

    def check_Break(self, node: ast.Break) -> None:
        if not self.loops:
            raise self.refuse("`break` outside a loop", node, syntax=True)

    def check_Continue(self, node: ast.Continue) -> None:
        if not self.loops:
            raise self.refuse("`continue` outside a loop", node, syntax=True)


def _describe(node: ast.AST) -> str:
    return f"`{type(node).__name__}`"


def check_tree(tree: ast.AST, make_error) -> None:
    """Raise the first refusal in ``tree``. ``make_error(cls, message, node, attr)`` positions it."""

    def refuse(message: str, node: ast.AST, *, attr: bool = False, syntax: bool = False):
        return make_error(LanguageSyntaxError if syntax else Refused, message, node, attr)

    _Checker(refuse).visit(tree)
