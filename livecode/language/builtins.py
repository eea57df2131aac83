"""The plain builtins (range, len, min, ...) and the argument binder all functions share.

Each function is ``impl(ctx, args, kwargs)`` where ``ctx`` is the running evaluator.
They take only the language's values, never call back into user code (there is none)
and charge what they touch to the block's budget.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable

from engine import protocol as P
from livecode.language.errors import BadType, BadValue, LivecodeError, suggest
from livecode.language.operators import compare, truth
from livecode.language.values import LangFunction, check_int, make_range, show, type_name

__all__ = ["bind_args", "REQUIRED", "PLAIN", "fn", "with_arg"]

REQUIRED = object()


def with_arg(err: LivecodeError, arg: int | str) -> LivecodeError:
    """Mark which argument ``err`` is about, so the caret lands under it."""
    err.arg = arg  # type: ignore[attr-defined]
    return err


def bind_args(name: str, params: list[tuple[str, object]], args: list, kwargs: dict) -> list:
    """Match ``args``/``kwargs`` to ``params`` ``[(name, default or REQUIRED)]``, as Python."""
    names = [p for p, _ in params]
    if len(args) > len(params):
        raise BadType(
            f"{name}() takes at most {len(params)} argument"
            f"{'' if len(params) == 1 else 's'} ({', '.join(names)}), got {len(args)}"
        )
    values = list(args) + [REQUIRED] * (len(params) - len(args))
    for key, value in kwargs.items():
        if key not in names:
            raise with_arg(
                BadType(
                    f"{name}() has no parameter `{key}`"
                    + (
                        f"; its parameters are: {', '.join(names)}"
                        if names
                        else "; it takes no arguments"
                    ),
                    suggestion=suggest(key, names),
                ),
                key,
            )
        i = names.index(key)
        if i < len(args):
            raise with_arg(BadType(f"{name}() got `{key}` twice"), key)
        values[i] = value
    for i, (pname, default) in enumerate(params):
        if values[i] is REQUIRED:
            if default is REQUIRED:
                raise BadType(f"{name}() needs `{pname}`")
            values[i] = default
    return values


def fn(name: str, signature: str, doc: str) -> Callable[[Callable], LangFunction]:
    def wrap(impl: Callable) -> LangFunction:
        return LangFunction(name, impl, signature, doc)

    return wrap


def _items(ctx, value: object, what: str) -> list:
    if isinstance(value, dict):
        value = list(value)
    if not isinstance(value, (list, tuple, range, str)):
        raise BadType(f"{what} needs a list, tuple, range, str or dict, got {type_name(value)}")
    # the whole tree: min(), sorted() and the like compare nested items in C
    ctx.budget.work(len(value) if isinstance(value, range) else ctx.budget.cost(value))
    return list(value)


def _numbers(ctx, value: object, what: str) -> list:
    items = _items(ctx, value, what)
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            raise BadType(f"{what} needs numbers, got {type_name(item)} {show(item, 40)}")
    return items


@fn("range", "range(stop) / range(start, stop[, step])", "whole numbers, at most 10,000 a block")
def _range(ctx, args, kwargs):
    if kwargs:
        raise BadType("range() takes no keyword arguments")
    return make_range(args, ctx.budget)


@fn("len", "len(x)", "number of items in a list, tuple, dict, range or str")
def _len(ctx, args, kwargs):
    (x,) = bind_args("len", [("x", REQUIRED)], args, kwargs)
    if not isinstance(x, (list, tuple, dict, range, str)):
        raise BadType(f"len() needs a list, tuple, dict, range or str, got {type_name(x)}")
    return len(x)


def _extreme(name: str, pick: Callable):
    def impl(ctx, args, kwargs):
        if kwargs:
            raise BadType(f"{name}() takes no keyword arguments")
        items = _items(ctx, args[0], f"{name}()") if len(args) == 1 else list(args)
        if not items:
            raise BadValue(f"{name}() of nothing: give at least one value")
        best = items[0]
        for item in items[1:]:
            if pick(item, best):
                best = item
        return best

    return impl


_min = LangFunction(
    "min",
    _extreme("min", lambda a, b: compare(ast.Lt, a, b)),
    "min(a, b, ...) / min(list)",
    "the smallest value",
)
_max = LangFunction(
    "max",
    _extreme("max", lambda a, b: compare(ast.Gt, a, b)),
    "max(a, b, ...) / max(list)",
    "the largest value",
)


@fn("abs", "abs(x)", "the absolute value of a number")
def _abs(ctx, args, kwargs):
    (x,) = bind_args("abs", [("x", REQUIRED)], args, kwargs)
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise BadType(f"abs() needs a number, got {type_name(x)}")
    return abs(x)


@fn("round", "round(x, digits=None)", "a number rounded to a whole number, or to digits places")
def _round(ctx, args, kwargs):
    x, digits = bind_args("round", [("x", REQUIRED), ("digits", None)], args, kwargs)
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise BadType(f"round() needs a number, got {type_name(x)}")
    if digits is None:
        if isinstance(x, float) and not math.isfinite(x):
            raise BadValue(f"cannot round {x!r} to a whole number")
        return round(x)
    check_int(digits, "round()'s digits")
    if not -100 <= digits <= 100:
        raise BadValue(f"round()'s digits must be in range -100..100, got {digits}")
    return round(x, digits)


@fn("int", "int(x)", "a whole number from a number (towards zero) or a str of digits")
def _int(ctx, args, kwargs):
    (x,) = bind_args("int", [("x", 0)], args, kwargs)
    if isinstance(x, float) and not math.isfinite(x):
        raise BadValue(f"cannot turn {x!r} into a whole number")
    if isinstance(x, str):
        if len(x) > 1000:
            raise BadValue("int() reads at most 1000 characters")
        try:
            return int(x.strip())
        except ValueError:
            raise BadValue(f"int() needs digits, got {show(x, 60)}") from None
    if not isinstance(x, (int, float)):
        raise BadType(f"int() needs a number or a str, got {type_name(x)}")
    return ctx.budget.check_int(int(x))


@fn("float", "float(x)", "a number with a fraction, from a number or a str")
def _float(ctx, args, kwargs):
    (x,) = bind_args("float", [("x", 0.0)], args, kwargs)
    if isinstance(x, str):
        if len(x) > 1000:
            raise BadValue("float() reads at most 1000 characters")
        try:
            return float(x.strip())
        except ValueError:
            raise BadValue(f"float() needs a number, got {show(x, 60)}") from None
    if not isinstance(x, (int, float)):
        raise BadType(f"float() needs a number or a str, got {type_name(x)}")
    try:
        return float(x)
    except OverflowError:
        raise BadValue("the number is too large for a float") from None


@fn("str", "str(x)", "the text of a value")
def _str(ctx, args, kwargs):
    (x,) = bind_args("str", [("x", "")], args, kwargs)
    return str(x) if isinstance(x, str) else show(x)


@fn("bool", "bool(x)", "True or False, as Python decides")
def _bool(ctx, args, kwargs):
    (x,) = bind_args("bool", [("x", False)], args, kwargs)
    return truth(x)


def _sequence(name: str, make: Callable):
    def impl(ctx, args, kwargs):
        (x,) = bind_args(name, [("x", ())], args, kwargs)
        items = _items(ctx, x, f"{name}()")
        ctx.budget.build(len(items), name)
        return make(items)

    return impl


_list = LangFunction("list", _sequence("list", list), "list(x)", "a list of the items of x")
_tuple = LangFunction("tuple", _sequence("tuple", tuple), "tuple(x)", "a tuple of the items of x")


@fn("sum", "sum(numbers, start=0)", "the total of a list of numbers")
def _sum(ctx, args, kwargs):
    xs, start = bind_args("sum", [("numbers", REQUIRED), ("start", 0)], args, kwargs)
    items = _numbers(ctx, [start, *_items(ctx, xs, "sum()")], "sum()")
    if any(isinstance(v, float) for v in items):
        return math.fsum(items)
    return ctx.budget.check_int(sum(items))


@fn("sorted", "sorted(x, reverse=False)", "a new list of the items of x in order")
def _sorted(ctx, args, kwargs):
    xs, reverse = bind_args("sorted", [("x", REQUIRED), ("reverse", False)], args, kwargs)
    items = _items(ctx, xs, "sorted()")
    ctx.budget.work(ctx.budget.cost(items) * max(1, len(items).bit_length()))
    kinds = {"number" if isinstance(v, (int, float)) else type(v) for v in items}
    if len(kinds) > 1 or (kinds and not kinds <= {"number", str, tuple, list}):
        raise BadType("sorted() needs items that can be ordered: all numbers or all str")
    return sorted(items, reverse=truth(reverse))


@fn("reversed", "reversed(x)", "a new list of the items of x, last first")
def _reversed(ctx, args, kwargs):
    (xs,) = bind_args("reversed", [("x", REQUIRED)], args, kwargs)
    return _items(ctx, xs, "reversed()")[::-1]


@fn("enumerate", "enumerate(x, start=0)", "a list of (index, item) pairs")
def _enumerate(ctx, args, kwargs):
    xs, start = bind_args("enumerate", [("x", REQUIRED), ("start", 0)], args, kwargs)
    check_int(start, "enumerate()'s start")
    items = _items(ctx, xs, "enumerate()")
    ctx.budget.build(len(items), "list")
    return [(start + i, v) for i, v in enumerate(items)]


@fn("zip", "zip(a, b, ...)", "a list of tuples pairing the items of each list")
def _zip(ctx, args, kwargs):
    if kwargs:
        raise BadType("zip() takes no keyword arguments")
    lists = [_items(ctx, a, "zip()") for a in args]
    out = [tuple(group) for group in zip(*lists, strict=False)]
    ctx.budget.build(len(out), "list")
    return out


@fn("any", "any(x)", "True if any item of x is true")
def _any(ctx, args, kwargs):
    (xs,) = bind_args("any", [("x", REQUIRED)], args, kwargs)
    return any(truth(v) for v in _items(ctx, xs, "any()"))


@fn("all", "all(x)", "True if every item of x is true")
def _all(ctx, args, kwargs):
    (xs,) = bind_args("all", [("x", REQUIRED)], args, kwargs)
    return all(truth(v) for v in _items(ctx, xs, "all()"))


@fn("print", "print(a, b, ...)", "show values, separated by spaces")
def _print(ctx, args, kwargs):
    if kwargs:
        raise BadType("print() takes no keyword arguments")
    ctx.output.append(" ".join(str(a) if isinstance(a, str) else show(a) for a in args))
    return None


@fn("midi", "midi(name)", 'the MIDI note number of a note name: midi("C4") is 60')
def _midi(ctx, args, kwargs):
    (x,) = bind_args("midi", [("name", REQUIRED)], args, kwargs)
    try:
        return P.note_number(x)
    except P.ProtocolError as e:
        raise with_arg(BadValue(str(e)), 0) from None


PLAIN: dict[str, LangFunction] = {
    f.name: f
    for f in (
        _range,
        _len,
        _min,
        _max,
        _abs,
        _round,
        _int,
        _float,
        _str,
        _bool,
        _list,
        _tuple,
        _sum,
        _sorted,
        _reversed,
        _enumerate,
        _zip,
        _any,
        _all,
        _print,
        _midi,
    )
}
