"""Statements of the language: assignment, augmented assignment, for, if, del, expressions.

Mixed into the evaluator, which supplies ``evaluate``, ``lookup``, ``locate`` and the
network operations.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from livecode.language import operators as ops
from livecode.language.errors import BadType, BadValue, LivecodeError, Refused
from livecode.language.network import UNBOUND_HINT
from livecode.language.values import (
    NeuronRef,
    Recipe,
    Target,
    Text,
    flatten_neurons,
    show,
    type_name,
)

if TYPE_CHECKING:
    from livecode.language.errors import LivecodeError as _Error
    from livecode.language.mirror import Mirror
    from livecode.language.values import Budget

__all__ = ["Statements"]

_PYTHON_ERRORS = (ArithmeticError, TypeError, ValueError, RecursionError, MemoryError)


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class Statements:
    if TYPE_CHECKING:  # supplied by the evaluator and NetworkOps
        variables: dict
        mirror: Mirror
        budget: Budget
        scopes: list[dict]
        functions: dict
        output: list[str]
        _stmt: dict

        def evaluate(self, node: ast.expr) -> object: ...
        def lookup(self, name: str, node: ast.AST) -> object: ...
        def locate(self, err: _Error, node: ast.AST, attr: bool = False) -> _Error: ...
        def make_error(
            self,
            cls: type,
            message: str,
            node: ast.AST,
            attr: bool = False,
            suggestion: str | None = None,
        ) -> _Error: ...
        def convert(self, exc: BaseException, node: ast.AST) -> _Error: ...
        def operate(self, op: type, a: object, b: object, node: ast.AST) -> object: ...
        def materialize(self, value: object, name: str, depth: int = 0) -> object: ...
        def release(self, old: object, new: object, name: str) -> None: ...
        def remove(self, names: list[str]) -> None: ...
        def neuron_names(self, value: object, what: str = "this") -> list[str]: ...
        def get_param(self, value: object, param: str) -> object: ...
        def set_param(self, value: object, param: str, new: object) -> None: ...

    # --- statements ----------------------------------------------------------------------

    def exec_body(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            self.exec_stmt(stmt)

    def exec_stmt(self, node: ast.stmt) -> None:
        self.budget.visit()
        handler = self._stmt.get(type(node))
        if handler is None:
            raise self.make_error(
                Refused, f"`{type(node).__name__}` is not part of the language", node
            )
        try:
            handler(node)
        except LivecodeError as e:
            raise self.locate(e, node) from None
        except _PYTHON_ERRORS as e:
            raise self.convert(e, node) from None

    def s_expr(self, node: ast.Expr) -> None:
        value = self.evaluate(node.value)
        if isinstance(value, Recipe):
            raise self.make_error(
                BadValue,
                "a new neuron must be bound to a name, or it "
                "would have none: write `x = neuron(...)`",
                node.value,
            )
        if value is None or isinstance(value, Target):
            return
        if isinstance(node.value, ast.BinOp) and isinstance(node.value.op, ast.RShift):
            return  # `a >> b` returns b for chaining; echoing it would be noise
        self.output.append(str(value) if isinstance(value, Text) else show(value))

    def s_assign(self, node: ast.Assign) -> None:
        value = self.evaluate(node.value)
        for target in node.targets:
            self.assign(target, value, owner=True)

    def assign(self, target: ast.expr, value: object, owner: bool = False) -> None:
        try:
            if isinstance(target, ast.Name):
                self.bind(target.id, value, owner)
            elif isinstance(target, (ast.Tuple, ast.List)):
                if not isinstance(value, (list, tuple, range, str)):
                    raise BadType(f"cannot unpack {type_name(value)} into {len(target.elts)} names")
                if len(value) != len(target.elts):
                    raise BadValue(
                        f"cannot unpack {len(value)} values into {len(target.elts)} names"
                    )
                for t, v in zip(target.elts, value, strict=True):
                    self.assign(t, v, owner)
            elif isinstance(target, ast.Attribute):
                if isinstance(value, Recipe):
                    raise BadType(UNBOUND_HINT)
                self.set_param(self.evaluate(target.value), target.attr, value)
            else:
                raise Refused("you can assign to a name, a neuron's parameter or a tuple of names")
        except LivecodeError as e:
            raise self.locate(e, target, attr=isinstance(target, ast.Attribute)) from None

    def bind(self, name: str, value: object, owner: bool = False) -> None:
        if name in self.functions:
            raise Refused(f"`{name}` is one of the language's functions; choose another name")
        if self.scopes:  # a comprehension's own variable
            self.scopes[-1][name] = value
            return
        value = self.materialize(value, name)
        old = self.variables.get(name)
        if owner and old is not None:
            self.release(old, value, name)
        self.variables[name] = value

    def s_augassign(self, node: ast.AugAssign) -> None:
        op = type(node.op)
        if isinstance(node.target, ast.Name):
            old = self.lookup(node.target.id, node.target)
            self.assign(node.target, self.operate(op, old, self.evaluate(node.value), node))
            return
        if not isinstance(node.target, ast.Attribute):
            raise Refused("`op=` works on a name or a neuron's parameter")
        owner = self.evaluate(node.target.value)
        operand = self.evaluate(node.value)
        try:
            names = self.neuron_names(owner, f"`.{node.target.attr} {ops.SYMBOLS[op]}=`")
            for name in names:
                old = self.get_param(NeuronRef(name), node.target.attr)
                self.set_param(
                    NeuronRef(name), node.target.attr, self.operate(op, old, operand, node)
                )
        except LivecodeError as e:
            raise self.locate(e, node.target, attr=True) from None

    def s_for(self, node: ast.For) -> None:
        # The loop's variables belong to the loop, as in a comprehension: afterwards they
        # are what they were before, so save() never writes a leftover `i = 3`.
        names = [n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)]
        scope = self.scopes[-1] if self.scopes else self.variables
        saved = {name: scope[name] for name in names if name in scope}
        try:
            for item in self.iterate(self.evaluate(node.iter), node.iter):
                self.assign(node.target, item)
                try:
                    self.exec_body(node.body)
                except _Break:
                    break
                except _Continue:
                    continue
            else:
                self.exec_body(node.orelse)
        finally:
            for name in names:
                scope.pop(name, None)
            scope.update(saved)

    def s_break(self, node: ast.Break) -> None:
        raise _Break

    def s_continue(self, node: ast.Continue) -> None:
        raise _Continue

    def s_if(self, node: ast.If) -> None:
        self.exec_body(node.body if ops.truth(self.evaluate(node.test)) else node.orelse)

    def s_delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            assert isinstance(target, ast.Name)  # the whitelist refused the rest
            value = self.lookup(target.id, target)
            if target.id not in self.variables and isinstance(value, NeuronRef):
                self.remove([value.name])  # a list member by its own name: `del hats_0`
                continue
            if target.id not in self.variables:
                raise self.make_error(
                    Refused,
                    f"`{target.id}` is a function of the language and cannot be deleted",
                    target,
                )
            items = list(value.values()) if isinstance(value, dict) else value
            names = [
                v.name
                for v in flatten_neurons(items)
                if isinstance(v, NeuronRef) and v.name in self.mirror.neurons
            ]
            del self.variables[target.id]
            self.remove(list(dict.fromkeys(names)))

    def iterate(self, value: object, node: ast.AST):
        """Items of a loop's iterable, one iteration of the block's budget each."""
        if isinstance(value, dict):
            value = list(value)
        if not isinstance(value, (list, tuple, range, str)):
            raise self.make_error(
                BadType,
                f"a `for` loop needs a list, tuple, range, str or dict, got {type_name(value)}",
                node,
            )
        for item in value:
            try:
                self.budget.iterate()
            except LivecodeError as e:
                raise self.locate(e, node) from None
            yield item
