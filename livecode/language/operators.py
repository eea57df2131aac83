"""Arithmetic, comparison and subscripts on plain values, each bounded by the block's budget.

Every operation checks its operand kinds itself, so Python never sees an operand it
would dispatch to user-influenced code, and sizes are checked *before* a value is built
(``"x" * 10**9`` is refused without allocating anything).
"""

from __future__ import annotations

import ast
import math
import operator
from typing import Any

from livecode.language.errors import (
    BadIndex,
    BadType,
    BadValue,
    DivisionByZero,
    LimitExceeded,
    suggest,
)
from livecode.language.values import Budget, NeuronRef, Text, show, type_name

__all__ = ["binop", "unary", "compare", "subscript", "SYMBOLS", "is_number"]

SYMBOLS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.RShift: ">>",
    ast.MatMult: "@",
    ast.USub: "-",
    ast.UAdd: "+",
    ast.Not: "not",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
}

_ARITH = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_SEQ = (str, list, tuple)


def is_number(v: object) -> bool:
    return isinstance(v, (int, float))  # bool is an int, as in Python


def _plain(v: Any) -> Any:
    return str(v) if isinstance(v, Text) else v


def _cannot(op: Any, a: object, b: object) -> BadType:
    return BadType(f"cannot apply `{SYMBOLS[op]}` to {type_name(a)} and {type_name(b)}")


def binop(op: Any, a: Any, b: Any, budget: Budget) -> object:
    """``a <op> b`` for + - * / // % ** on numbers, and + * on str/list/tuple."""
    a, b = _plain(a), _plain(b)
    if is_number(a) and is_number(b):
        if op is ast.Pow:
            return _power(a, b, budget)
        if op in (ast.Div, ast.FloorDiv, ast.Mod) and b == 0:
            raise DivisionByZero(f"`{SYMBOLS[op]}` by zero")
        fn = _ARITH.get(op)
        if fn is None:
            raise _cannot(op, a, b)
        try:
            result = fn(a, b)
        except OverflowError:
            raise BadValue(f"the result of `{SYMBOLS[op]}` is too large for a float") from None
        return budget.check_int(result)
    if op is ast.Add and type(a) is type(b) and isinstance(a, _SEQ):
        budget.build(len(a) + len(b), "string" if isinstance(a, str) else type_name(a))
        return a + b
    if op is ast.Mult:
        seq, n = (a, b) if isinstance(a, _SEQ) else (b, a)
        if isinstance(seq, _SEQ) and isinstance(n, int) and not isinstance(n, bool):
            count = len(seq) * max(n, 0) if len(seq) else 0
            budget.build(count, "string" if isinstance(seq, str) else type_name(seq))
            return seq * n
    raise _cannot(op, a, b)


def _power(a: Any, b: Any, budget: Budget) -> object:
    bits = budget.limits.int_bits
    if isinstance(a, int) and isinstance(b, int):
        if b < 0:
            if a == 0:
                raise DivisionByZero("`0 ** negative` divides by zero")
            if abs(a) > 1 and b * -1 > 10_000:  # 1/a**b underflows to 0.0 anyway
                return 0.0
        elif abs(a) > 1 and b * (abs(a).bit_length() - 1) > bits:
            raise LimitExceeded(
                f"`**` is refused: the result would have more than {bits} bits "
                f"({show(a, 40)} ** {show(b, 40)})"
            )
    if a < 0 and isinstance(b, float) and not b.is_integer():
        raise BadValue(
            f"a negative number to a fractional power is not a real number: {show(a, 40)} ** {b!r}"
        )
    if isinstance(a, float) or isinstance(b, float):
        try:
            fa, fb = float(a), float(b)
        except OverflowError:
            raise BadValue("the operands of `**` are too large") from None
        if fa == 0.0 and fb < 0:
            raise DivisionByZero("`0.0 ** negative` divides by zero")
        try:
            return math.pow(fa, fb)
        except OverflowError:
            raise BadValue(
                f"the result of `**` is too large for a float ({show(a, 40)} ** {show(b, 40)})"
            ) from None
        except ValueError:
            raise BadValue(f"`**` has no real result for {show(a, 40)} ** {show(b, 40)}") from None
    return budget.check_int(a**b)


def unary(op: Any, v: Any) -> object:
    if op is ast.Not:
        return not truth(v)
    if is_number(v):
        return -v if op is ast.USub else +v
    raise BadType(f"cannot apply unary `{SYMBOLS[op]}` to {type_name(v)}")


def truth(v: object) -> bool:
    if isinstance(v, (bool, int, float, str, list, tuple, dict, range)) or v is None:
        return bool(v)
    return True  # neurons and functions are true, as Python objects are


def compare(op: Any, a: Any, b: Any) -> bool:
    a, b = _plain(a), _plain(b)
    if op is ast.Eq:
        return a == b
    if op is ast.NotEq:
        return a != b
    if op is ast.Is:
        return a is b or (a is None and b is None)
    if op is ast.IsNot:
        return a is not b
    if op in (ast.In, ast.NotIn):
        if isinstance(b, str):
            if not isinstance(a, str):
                raise BadType(f"`in` on a str needs a str on the left, got {type_name(a)}")
            found = a in b
        elif isinstance(b, (list, tuple, range)):
            found = a in b
        elif isinstance(b, dict):
            try:
                found = a in b
            except TypeError:
                raise BadType(f"{type_name(a)} cannot be a dict key") from None
        else:
            raise BadType(
                f"`in` needs a str, list, tuple, range or dict on the right, got {type_name(b)}"
            )
        return found if op is ast.In else not found
    ordered = (is_number(a) and is_number(b)) or (type(a) is type(b) and isinstance(a, _SEQ))
    if not ordered:
        raise BadType(f"cannot compare {type_name(a)} and {type_name(b)} with `{SYMBOLS[op]}`")
    fn = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge}[op]
    try:
        return fn(a, b)
    except TypeError:
        raise BadType(
            f"cannot compare the items of these {type_name(a)}s with `{SYMBOLS[op]}`"
        ) from None


def subscript(container: object, index: object, budget: Budget) -> object:
    """``container[index]`` for list/tuple/str/range (int or slice) and dict (key)."""
    container = _plain(container)
    if isinstance(container, dict):
        try:
            return container[index]
        except TypeError:
            raise BadType(f"{type_name(index)} cannot be a dict key") from None
        except KeyError:
            keys = [k for k in container if isinstance(k, str)]
            hint = suggest(index, keys) if isinstance(index, str) else None
            raise BadIndex(f"key {show(index, 80)} is not in the dict", suggestion=hint) from None
    if not isinstance(container, (list, tuple, str, range)):
        what = "a neuron" if isinstance(container, NeuronRef) else type_name(container)
        raise BadType(f"{what} cannot be indexed with `[...]`")
    if isinstance(index, slice):
        for part in (index.start, index.stop, index.step):
            if part is not None and (isinstance(part, bool) or not isinstance(part, int)):
                raise BadType(f"slice bounds must be whole numbers, got {type_name(part)}")
        if index.step == 0:
            raise BadValue("slice step must not be zero")
        result = container[index]
        budget.build(len(result), "string" if isinstance(result, str) else "list")
        return result
    if isinstance(index, bool) or not isinstance(index, int):
        raise BadType(
            f"{type_name(container)} indices must be whole numbers, got {type_name(index)}"
        )
    try:
        return container[index]
    except IndexError:
        raise BadIndex(
            f"index {index} is out of range for a {type_name(container)} of length {len(container)}"
        ) from None
