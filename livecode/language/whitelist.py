"""The static whitelist: which Python syntax the language allows, checked before running.

A block is parsed with ``ast.parse`` and this check walks the whole tree before a
single statement runs, so a refused construct is reported even in a branch that would
never execute, and nothing of the block happens. The evaluator has its own dispatch
tables holding only these node types, as a second line of defence.
"""

from __future__ import annotations

import ast

from livecode.language.budget import Budget, Limits
from livecode.language.errors import LanguageSyntaxError, LimitExceeded, Refused

__all__ = ["check_tree", "check_depth", "REFUSALS", "position"]

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
    def __init__(self, refuse, budget: Budget) -> None:
        self.refuse = refuse
        self.budget = budget
        self.limits = budget.limits
        self.loops = 0

    def visit(self, node: ast.AST, parent: ast.AST | None = None) -> None:
        self.budget.visit()  # checking is work the block causes: charged like running
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
        value = node.value
        if not isinstance(value, (int, float, str, bool, type(None))):
            raise self.refuse(f"{type(value).__name__} values are not part of the language", node)
        # a literal is a value like any other: the limits on values hold for it too
        if isinstance(value, int) and value.bit_length() > self.limits.int_bits:
            raise self.refuse(
                f"integers are limited to {self.limits.int_bits} bits, "
                f"this literal has {value.bit_length():,}",
                node,
                limit=True,
            )
        if isinstance(value, str) and len(value) > self.limits.chars:
            raise self.refuse(
                f"a string may hold at most {self.limits.chars:,} characters, "
                f"this literal has {len(value):,}",
                node,
                limit=True,
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


def check_depth(tree: ast.AST, limit: int) -> ast.AST | None:
    """A positioned node nested more than ``limit`` deep in ``tree``, or None.

    Walks with its own stack, never Python's: every later pass (the whitelist, the
    evaluator, error messages) recurses, so a 2 KB line of `1+1+1...` must be turned
    away here, before any of them could exhaust the interpreter's stack.
    """
    stack: list[tuple[ast.AST, int, ast.AST]] = [(tree, 0, tree)]
    while stack:
        node, depth, where = stack.pop()
        if getattr(node, "lineno", None) is not None:
            where = node  # operators and contexts have no position: name their owner
        if depth > limit:
            return where
        stack.extend((child, depth + 1, where) for child in ast.iter_child_nodes(node))
    return None


def check_tree(tree: ast.AST, make_error, budget: Budget | None = None) -> None:
    """Raise the first refusal in ``tree``. ``make_error(cls, message, node, attr)`` positions it.

    A tree nested deeper than ``limits.nesting`` is refused first, at its deepest point;
    literals are held to the limits on values; every node checked is charged to ``budget``.
    """
    budget = budget or Budget(Limits())
    limits = budget.limits
    depth = limits.nesting
    deep = check_depth(tree, depth)
    if deep is not None:
        raise make_error(
            LimitExceeded,
            f"the block is nested too deeply: at most {depth} levels of expressions "
            "inside expressions (split it into several lines)",
            deep,
            False,
        )

    def refuse(
        message: str, node: ast.AST, *, attr: bool = False, syntax: bool = False, limit=False
    ):
        cls = LimitExceeded if limit else LanguageSyntaxError if syntax else Refused
        return make_error(cls, message, node, attr)

    try:
        _Checker(refuse, budget).visit(tree)
    except LimitExceeded as e:
        if e.located():
            raise
        body = getattr(tree, "body", None) or [tree]
        raise make_error(LimitExceeded, e.message, body[0], False) from None
