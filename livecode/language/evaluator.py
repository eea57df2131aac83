"""The tree walker: runs one block's statements against a working copy of the state.

Only the node types in the dispatch tables below can run; anything else was already
refused by :mod:`livecode.language.whitelist`. No Python attribute lookup, ``exec`` or ``eval``
is ever done with a name from the source.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

from livecode.language import operators as ops
from livecode.language.errors import (
    BadType,
    BadValue,
    DivisionByZero,
    InternalError,
    LanguageSyntaxError,
    LimitExceeded,
    LivecodeError,
    Refused,
    UndefinedName,
    UnknownAttribute,
    UnknownFunction,
    suggest,
)
from livecode.language.mirror import Mirror
from livecode.language.network import UNBOUND_HINT, NetworkOps
from livecode.language.statements import _PYTHON_ERRORS, Statements
from livecode.language.values import (
    Budget,
    LangFunction,
    Limits,
    NeuronRef,
    Recipe,
    Target,
    show,
    type_name,
)
from livecode.language.whitelist import check_tree, position

__all__ = ["Evaluator", "MAX_SOURCE"]

MAX_SOURCE = Limits().source  # characters in one block, with the files it loads
MAX_NESTING = 120  # evaluations inside evaluations, across load(): a second line of defence
_BOM = "\ufeff"  # editors on some systems start a UTF-8 file with it
_NEWLINES = re.compile(r"\r\n|\r|\n")


class Evaluator(Statements, NetworkOps):
    """One block's run: working variables and mirror, and what the block produced."""

    def __init__(
        self,
        variables: dict,
        mirror: Mirror,
        functions: dict[str, LangFunction],
        read_file: Callable[[str], str] | None = None,
        activations: Callable[[], dict] | None = None,
        limits: Limits | None = None,
        drawn: Callable[[], dict] | None = None,
        typed: bool = True,
    ) -> None:
        self.variables = variables
        self.typed = typed  # the block was typed at the prompt (not a file's text)
        self.mirror = mirror
        self.functions = functions
        self.read_file = read_file
        self.activations = activations
        self.drawn = drawn
        self.budget = Budget(limits or Limits())
        self.ops: list = []
        self.output: list[str] = []
        self.actions: list[tuple] = []
        self.scopes: list[dict] = []
        self.filename = "<repl>"
        self.lines: list[str] = []
        self.load_depth = 0
        self.nesting = 0
        self._stmt = {
            ast.Expr: self.s_expr,
            ast.Assign: self.s_assign,
            ast.AugAssign: self.s_augassign,
            ast.For: self.s_for,
            ast.If: self.s_if,
            ast.Delete: self.s_delete,
            ast.Pass: lambda node: None,
            ast.Break: self.s_break,
            ast.Continue: self.s_continue,
        }
        self._expr = {
            ast.Constant: lambda node: node.value,
            ast.Name: self.e_name,
            ast.List: self.e_list,
            ast.Tuple: self.e_tuple,
            ast.Dict: self.e_dict,
            ast.BinOp: self.e_binop,
            ast.UnaryOp: self.e_unary,
            ast.BoolOp: self.e_boolop,
            ast.Compare: self.e_compare,
            ast.IfExp: self.e_ifexp,
            ast.Attribute: self.e_attribute,
            ast.Subscript: self.e_subscript,
            ast.Call: self.e_call,
            ast.ListComp: self.e_listcomp,
            ast.GeneratorExp: self.e_listcomp,
            ast.DictComp: self.e_dictcomp,
            ast.JoinedStr: self.e_fstring,
        }

    # --- source, positions ---------------------------------------------------------------

    def run_source(self, source: str, filename: str = "<repl>") -> None:
        """Parse, check and run ``source`` as part of this block (``load`` nests here)."""
        if source.startswith(_BOM):
            source = source[1:]
        limit = self.budget.limits.source
        if len(source) > limit:
            raise LimitExceeded(
                f"a block may hold at most {limit:,} characters, got {len(source):,}",
                filename=filename,
            )
        try:
            self.budget.parse(len(source), filename)
        except LimitExceeded as e:
            e.filename = filename
            raise
        lines = _NEWLINES.split(source)
        tree = _parse(source, filename, lines)
        saved = self.filename, self.lines
        self.filename, self.lines = filename, lines
        try:
            check_tree(tree, self.make_error, self.budget)
            self.exec_body(tree.body)
        finally:
            self.filename, self.lines = saved

    def in_file(self) -> str | None:
        """The session file running now (a loaded, watched or started one), or None at the
        prompt: what only the performer may ask for is refused when this is set."""
        if self.typed and self.load_depth == 0:
            return None
        return self.filename

    def make_error(
        self,
        cls: type,
        message: str,
        node: ast.AST,
        attr: bool = False,
        suggestion: str | None = None,
    ) -> LivecodeError:
        err = cls(message, suggestion=suggestion)
        return self.locate(err, node, attr)

    def locate(self, err: LivecodeError, node: ast.AST, attr: bool = False) -> LivecodeError:
        line, col = position(node, self.lines)
        if attr and isinstance(node, ast.Attribute) and node.end_lineno == line:
            end_line, end_col = position(_End(node), self.lines)
            col = max(col, end_col - len(node.attr))
        source_line = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return err.at(self.filename, line, col, source_line)

    def convert(self, exc: BaseException, node: ast.AST) -> LivecodeError:
        """A Python error inside an allowed operation, as a positioned language error."""
        if isinstance(exc, ZeroDivisionError):
            err: LivecodeError = DivisionByZero("division by zero")
        elif isinstance(exc, RecursionError):
            err = LimitExceeded("values or expressions are nested too deeply")
        elif isinstance(exc, (MemoryError, OverflowError)):
            err = LimitExceeded("the result is too large")
        elif isinstance(exc, TypeError):
            err = BadType(str(exc))
        else:
            err = BadValue(str(exc))
        return self.locate(err, node)

    # --- expressions ---------------------------------------------------------------------

    def evaluate(self, node: ast.expr) -> object:
        self.budget.visit()
        handler = self._expr.get(type(node))
        if handler is None:
            raise self.make_error(Refused, f"`{type(node).__name__}` is not allowed here", node)
        self.nesting += 1
        try:
            if self.nesting > MAX_NESTING:
                raise LimitExceeded(f"expressions may be nested at most {MAX_NESTING} deep")
            value = handler(node)
            if isinstance(value, (list, tuple, dict)):
                self.budget.track(value)
            return value
        except LivecodeError as e:
            raise self.locate(e, node) from None
        except _PYTHON_ERRORS as e:
            raise self.convert(e, node) from None
        finally:
            self.nesting -= 1

    def lookup(self, name: str, node: ast.AST) -> object:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        if name in self.variables:
            return self.variables[name]
        if name in self.functions:
            return self.functions[name]
        if name in self.mirror.neurons:  # a member's own name (`hats_0`): as in ls() and OSC
            return NeuronRef(name)
        known = [n for s in self.scopes for n in s] + list(self.variables) + list(self.functions)
        known += list(self.mirror.neurons)
        raise self.make_error(
            UndefinedName, f"`{name}` is not defined", node, suggestion=suggest(name, known)
        )

    def e_name(self, node: ast.Name) -> object:
        return self.lookup(node.id, node)

    def elements(self, nodes: list[ast.expr]) -> list:
        out: list = []
        for elt in nodes:
            if isinstance(elt, ast.Starred):
                value = self.evaluate(elt.value)
                if isinstance(value, dict):
                    value = list(value)
                if not isinstance(value, (list, tuple, range, str)):
                    raise self.make_error(
                        BadType, f"`*` needs a list, tuple or range, got {type_name(value)}", elt
                    )
                self.budget.build(len(out) + len(value), "list")
                out.extend(value)
            else:
                out.append(self.evaluate(elt))
        self.budget.build(len(out), "list")
        return out

    def e_list(self, node: ast.List) -> list:
        return self.elements(node.elts)

    def e_tuple(self, node: ast.Tuple) -> tuple:
        return tuple(self.elements(node.elts))

    def e_dict(self, node: ast.Dict) -> dict:
        out: dict = {}
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:
                merged = self.evaluate(value)
                if not isinstance(merged, dict):
                    raise self.make_error(
                        BadType, f"`**` needs a dict, got {type_name(merged)}", value
                    )
                out.update(merged)
            else:
                k = self.evaluate(key)
                self.check_key(k, key)
                out[k] = self.evaluate(value)
        self.budget.build(len(out), "dict")
        return out

    def check_key(self, key: object, node: ast.AST) -> None:
        self.budget.work(self.budget.cost(key))  # hashing walks a tuple key
        if not _hashable(key):
            raise self.make_error(
                BadType,
                f"{type_name(key)} cannot be a dict key; use a number, a str or a tuple of them",
                node,
            )

    def operate(self, op: type, a: object, b: object, node: ast.AST) -> object:
        if op is ast.RShift:
            return self.wire(a, b)
        if op is ast.MatMult:
            return self.weighted(a, b)
        if isinstance(a, Recipe) or isinstance(b, Recipe):
            raise BadType(UNBOUND_HINT)
        return ops.binop(op, a, b, self.budget)

    def e_binop(self, node: ast.BinOp) -> object:
        left = self.evaluate(node.left)
        right = self.evaluate(node.right)
        if isinstance(node.op, ast.RShift) and not isinstance(
            left, (NeuronRef, Recipe, Target, list, tuple)
        ):
            raise BadType(
                f"`>>` connects neurons: the left side is {type_name(left)} {show(left, 60)}"
            )
        return self.operate(type(node.op), left, right, node)

    def e_unary(self, node: ast.UnaryOp) -> object:
        return ops.unary(type(node.op), self.evaluate(node.operand))

    def e_boolop(self, node: ast.BoolOp) -> object:
        value: object = None
        for part in node.values:
            value = self.evaluate(part)
            if ops.truth(value) == isinstance(node.op, ast.Or):
                return value
        return value

    def e_compare(self, node: ast.Compare) -> bool:
        left = self.evaluate(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.evaluate(right_node)
            self.budget.work(self.compare_cost(op, left, right))
            if not ops.compare(type(op), left, right):
                return False
            left = right
        return True

    def compare_cost(self, op: ast.cmpop, left: object, right: object) -> int:
        """What comparing walks in C: both trees, except a dict lookup (hash the key)."""
        if isinstance(op, (ast.In, ast.NotIn)):
            if isinstance(right, dict):
                return self.budget.cost(left)
            if isinstance(right, range):
                return 1 if isinstance(left, int) else len(right)
        return self.budget.cost(left) + self.budget.cost(right)

    def e_ifexp(self, node: ast.IfExp) -> object:
        return self.evaluate(node.body if ops.truth(self.evaluate(node.test)) else node.orelse)

    def e_attribute(self, node: ast.Attribute) -> object:
        owner = self.evaluate(node.value)
        if isinstance(owner, (NeuronRef, list, tuple)) and owner:
            return self.get_param(owner, node.attr)
        if isinstance(owner, Recipe):
            raise BadType(UNBOUND_HINT)
        raise self.make_error(
            UnknownAttribute,
            f"{type_name(owner)} has no attribute "
            f"`{node.attr}`; only neurons have attributes (their "
            f"parameters)",
            node,
            attr=True,
        )

    def e_subscript(self, node: ast.Subscript) -> object:
        container = self.evaluate(node.value)
        if isinstance(node.slice, ast.Slice):
            parts = [
                None if p is None else self.evaluate(p)
                for p in (node.slice.lower, node.slice.upper, node.slice.step)
            ]
            index: object = slice(*parts)
        else:
            index = self.evaluate(node.slice)
            self.budget.work(self.budget.cost(index))
        return ops.subscript(container, index, self.budget)

    def e_call(self, node: ast.Call) -> object:
        if isinstance(node.func, ast.Name) and not self.bound(node.func.id):
            known = list(self.functions)
            raise self.make_error(
                UnknownFunction,
                f"`{node.func.id}` is not a function of the language",
                node.func,
                suggestion=suggest(node.func.id, known),
            )
        fn = self.evaluate(node.func)
        if not isinstance(fn, LangFunction):
            raise self.make_error(
                BadType, f"{type_name(fn)} {show(fn, 40)} cannot be called", node.func
            )
        args = self.elements(node.args)
        kwargs: dict = {}
        for kw in node.keywords:
            value = self.evaluate(kw.value)
            if kw.arg is not None:
                kwargs[kw.arg] = value
                continue
            if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
                raise self.make_error(
                    BadType, "`**` in a call needs a dict with str keys", kw.value
                )
            kwargs.update(value)
        try:
            return fn.impl(self, args, kwargs)
        except LivecodeError as e:
            raise self.locate(e, _argument_node(node, e)) from None
        except _PYTHON_ERRORS:
            raise  # evaluate() turns these into language errors, as for any expression
        except Exception as e:  # noqa: BLE001 - the fault barrier of the language's functions
            raise self.locate(InternalError.caught(f"in {fn.name}()", e), node) from None

    def bound(self, name: str) -> bool:
        return (
            any(name in s for s in self.scopes) or name in self.variables or name in self.functions
        )

    def comprehend(self, generators: list[ast.comprehension], produce) -> None:
        self.scopes.append({})
        try:
            self._generate(generators, 0, produce)
        finally:
            self.scopes.pop()

    def _generate(self, generators: list[ast.comprehension], i: int, produce) -> None:
        gen = generators[i]
        # the first iterable is evaluated outside the comprehension's scope, as in Python
        for item in self.iterate(self.evaluate(gen.iter), gen.iter):
            self.assign(gen.target, item)
            if all(ops.truth(self.evaluate(cond)) for cond in gen.ifs):
                if i + 1 < len(generators):
                    self._generate(generators, i + 1, produce)
                else:
                    produce()

    def e_listcomp(self, node: ast.ListComp | ast.GeneratorExp) -> list:
        out: list = []
        self.comprehend(node.generators, lambda: out.append(self.evaluate(node.elt)))
        self.budget.build(len(out), "list")
        return out

    def e_dictcomp(self, node: ast.DictComp) -> dict:
        out: dict = {}

        def produce() -> None:
            key = self.evaluate(node.key)
            self.check_key(key, node.key)
            out[key] = self.evaluate(node.value)

        self.comprehend(node.generators, produce)
        self.budget.build(len(out), "dict")
        return out

    def e_fstring(self, node: ast.JoinedStr) -> str:
        parts: list[str] = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                parts.append(str(part.value))
                continue
            assert isinstance(part, ast.FormattedValue)
            value = self.evaluate(part.value)
            text = (
                str(value)
                if isinstance(value, str) and part.conversion != ord("r")
                else show(value)
            )
            parts.append(text)
            self.budget.build(sum(map(len, parts)), "string")
        return "".join(parts)


class _End(ast.AST):
    """A stand-in node at ``node``'s end, for :func:`position`."""

    def __init__(self, node: ast.Attribute) -> None:
        super().__init__()
        self.lineno = node.end_lineno or 0
        self.col_offset = node.end_col_offset or 0


def _argument_node(call: ast.Call, err: LivecodeError) -> ast.AST:
    """The argument an error from a function is about (``err.arg``), else the call."""
    arg = getattr(err, "arg", None)
    if (
        isinstance(arg, int)
        and 0 <= arg < len(call.args)
        and not any(isinstance(a, ast.Starred) for a in call.args)
    ):
        return call.args[arg]
    if isinstance(arg, str):
        for kw in call.keywords:
            if kw.arg == arg:
                return kw
    return call


def _hashable(key: object) -> bool:
    if isinstance(key, tuple):
        return all(_hashable(k) for k in key)
    return isinstance(key, (int, float, str, bool, NeuronRef)) or key is None


def _parse(source: str, filename: str, lines: list[str]) -> ast.Module:
    try:
        return ast.parse(source, filename=filename, mode="exec")
    except SyntaxError as e:
        line = e.lineno or 0
        text = lines[line - 1] if 0 < line <= len(lines) else (e.text or "")
        msg = e.msg or "invalid syntax"
        raise LanguageSyntaxError(
            msg, filename=filename, line=line, col=e.offset or 1, source_line=text
        ) from None
    except (ValueError, RecursionError, MemoryError) as e:
        what = "too deeply nested" if isinstance(e, (RecursionError, MemoryError)) else str(e)
        raise LanguageSyntaxError(
            f"cannot parse the block: {what}",
            filename=filename,
            line=1,
            col=1,
            source_line=lines[0] if lines else "",
        ) from None
