"""The language's parameter processes: ``walk()``, ``choose()`` and ``markov()``.

Each returns a :class:`DrawnSource`; assigning it to a parameter (``n1.rate = walk(1, 4)``)
makes the op that has the engine draw that parameter once per firing with its seeded random
state. ``markov()`` trains its table here, for the parameter it is assigned to, from a list,
a MIDI file the host reads, or learns live from an input neuron. The call text (written
from the checked arguments) is what ``save()`` writes back.
"""

from __future__ import annotations

from engine import protocol as P
from livecode.language.builtins import REQUIRED, bind_args, fn, with_arg
from livecode.language.errors import BadType, BadValue, HostError, LivecodeError
from livecode.language.markov import Melody, melody, train
from livecode.language.values import (
    DrawnSource,
    NeuronRef,
    check_int,
    check_number,
    show,
    type_name,
)

__all__ = ["PROCESSES"]

MAX_MIDI_BYTES = 4 * 1024 * 1024


def _num(v: object) -> str:
    return repr(v) if not isinstance(v, float) or not v.is_integer() else repr(int(v))


def _value(v: object, what: str) -> object:
    """A number or a note name, as the parameter it is assigned to will check it."""
    if isinstance(v, str):
        return v
    check_number(v, what)
    return v


def _op(make):
    """``make`` as the DrawnSource's op builder: the op checked, ModelError as BadValue."""

    def build(name: str, param: str, known) -> P.Op:
        try:
            return make(name, param).check(set(known))  # the engine checks it again
        except LivecodeError:
            raise
        except (P.EngineError, ValueError, TypeError) as e:
            raise BadValue(str(e)) from None

    return build


@fn(
    "walk",
    "walk(lo, hi, step=None, start=None)",
    "a bounded random walk, one step up or down per firing: n1.rate = walk(1, 4, step=0.1) "
    "(step default (hi - lo) / 16; start default halfway)",
)
def _walk(ctx, args, kwargs):
    lo, hi, step, start = bind_args(
        "walk", [("lo", REQUIRED), ("hi", REQUIRED), ("step", None), ("start", None)], args, kwargs
    )
    for i, (what, v) in enumerate((("lo", lo), ("hi", hi))):
        try:
            _value(v, f"walk()'s {what}")
        except LivecodeError as e:
            raise with_arg(e, what if what in kwargs else i) from None
    for what, v in (("step", step), ("start", start)):
        if v is not None:
            try:
                _value(v, f"walk()'s {what}")
            except LivecodeError as e:
                raise with_arg(e, what if what in kwargs else 2 + (what == "start")) from None
    call = f"walk({_lit(lo)}, {_lit(hi)}" + (f", step={_num(step)}" if step is not None else "")
    call += (f", start={_lit(start)}" if start is not None else "") + ")"

    def make(name: str, param: str) -> P.Op:
        a, b = P.validate_param(param, lo), P.validate_param(param, hi)
        s = step if step is not None else (float(b) - float(a)) / 16 or 1.0  # type: ignore[arg-type]
        first = P.validate_param(param, start) if start is not None else None
        return P.Walk(name, param, a, b, s, first, call)  # type: ignore[arg-type]

    return DrawnSource(call, _op(make))


@fn(
    "choose",
    "choose(values, weights=None)",
    "draws one of the values per firing: n1.vel = choose([60, 90, 120], [1, 2, 1])",
)
def _choose(ctx, args, kwargs):
    values, weights = bind_args("choose", [("values", REQUIRED), ("weights", None)], args, kwargs)
    if not isinstance(values, (list, tuple)) or not values:
        raise with_arg(
            BadType(f"choose() takes a non-empty list of values, got {type_name(values)}"), 0
        )
    try:
        for v in values:
            _value(v, "a value of choose()")
    except LivecodeError as e:
        raise with_arg(e, 0) from None
    ws: tuple = ()
    if weights is not None:
        if not isinstance(weights, (list, tuple)):
            raise with_arg(BadType(f"weights must be a list, got {type_name(weights)}"), 1)
        try:
            ws = tuple(check_number(w, "a weight") for w in weights)
        except LivecodeError as e:
            raise with_arg(e, "weights" if "weights" in kwargs else 1) from None
    call = f"choose({_lit(list(values))}" + (f", {_lit(list(weights))}" if ws else "") + ")"

    def make(name: str, param: str) -> P.Op:
        return P.Choose(name, param, tuple(values), ws, call)

    return DrawnSource(call, _op(make))


@fn(
    "markov",
    "markov(source, order=1, track=None, ch=None, memory=512)",
    'a Markov chain, one step per firing: n1.note = markov("tune.mid", order=2) (a MIDI '
    "file: .note, .vel or .dur; track/ch pick its part), markov([60, 62, 64, 62]), or "
    "markov(keys) learning live from an input neuron (its newest `memory` transitions)",
)
def _markov(ctx, args, kwargs):
    source, order, track, ch, memory = bind_args(
        "markov",
        [("source", REQUIRED), ("order", 1), ("track", None), ("ch", None), ("memory", 512)],
        args,
        kwargs,
    )
    try:
        check_int(order, "markov()'s order")
        if order not in P.MARKOV_ORDERS:
            raise BadValue(
                f"markov()'s order must be in range 1..{P.MARKOV_ORDERS[-1]}, got {order}"
            )
    except LivecodeError as e:
        raise with_arg(e, "order" if "order" in kwargs else 1) from None
    try:
        check_int(memory, "markov()'s memory")
        if not 1 <= memory <= P.MAX_MEMORY:
            raise BadValue(f"markov()'s memory must be in range 1..{P.MAX_MEMORY}, got {memory}")
    except LivecodeError as e:
        raise with_arg(e, "memory") from None
    opts = f", order={order}" if order != 1 else ""
    if isinstance(source, NeuronRef):
        if source.name not in ctx.mirror.inputs:
            raise with_arg(
                BadValue(
                    f"`{source.name}` does not listen to MIDI: markov() learns from an input "
                    "neuron, e.g. keys = listen(ch=1)"
                ),
                0,
            )
        src = source.name
        opts += f", memory={memory}" if memory != 512 else ""
        call = f"markov({src}{opts})"

        def learn(name: str, param: str) -> P.Op:
            return P.Markov(name, param, order, (), (), src, memory, call)

        return DrawnSource(call, _op(learn))
    if isinstance(source, (list, tuple)):
        if not source:
            raise with_arg(BadValue("markov() needs at least one value to learn from"), 0)
        if len(source) > 20_000:
            raise with_arg(BadValue(f"markov() takes at most 20000 values, got {len(source)}"), 0)
        try:
            for v in source:
                _value(v, "a value of markov()")
        except LivecodeError as e:
            raise with_arg(e, 0) from None
        values = list(source)
        call = f"markov({_lit(values)}{opts})"

        def from_list(name: str, param: str) -> P.Op:
            seq = [P.validate_param(param, v) for v in values]
            table, start = train(seq, order)
            return P.Markov(name, param, order, table, start, "", memory, call)

        return DrawnSource(call, _op(from_list))
    if not isinstance(source, str):
        raise with_arg(
            BadType(
                "markov() learns from a MIDI file name, a list of values or an input neuron, "
                f"got {type_name(source)} {show(source, 40)}"
            ),
            0,
        )
    for what, v, lo, hi in (("track", track, 0, 255), ("ch", ch, 1, 16)):
        if v is not None:
            try:
                check_int(v, f"markov()'s {what}")
                if not lo <= v <= hi:
                    raise BadValue(f"markov()'s {what} must be in range {lo}..{hi}, got {v}")
            except LivecodeError as e:
                raise with_arg(e, what) from None
    tune = _read_melody(ctx, source, track, ch)
    opts += (f", track={track}" if track is not None else "") + (
        f", ch={ch}" if ch is not None else ""
    )
    call = f"markov({source!r}{opts})"

    def from_file(name: str, param: str) -> P.Op:
        seq = {"note": tune.notes, "vel": tune.vels, "dur": tune.durs}.get(param)
        if seq is None:
            raise BadValue(f"a chain from a MIDI file draws .note, .vel or .dur, not .{param}")
        table, start = train(seq, order)
        return P.Markov(name, param, order, table, start, "", memory, call)

    return DrawnSource(call, _op(from_file))


def _read_melody(ctx, path: str, track: int | None, ch: int | None) -> Melody:
    if ctx.read_file is None:
        raise with_arg(
            HostError("markov() of a file is not available here: this host reads no files"), 0
        )
    read_bytes = getattr(ctx.read_file, "read_bytes", None)
    if read_bytes is None:
        raise with_arg(HostError("this host reads no MIDI files"), 0)
    try:
        data = read_bytes(path)
    except LivecodeError as e:
        raise with_arg(e, 0) from None
    except OSError as e:
        raise with_arg(HostError(f"cannot read {path!r}: {e.strerror or e}"), 0) from None
    if not isinstance(data, bytes):
        raise with_arg(HostError(f"the host gave {type_name(data)} for {path!r}, not bytes"), 0)
    if len(data) > MAX_MIDI_BYTES:
        raise with_arg(HostError(f"{path}: MIDI files are read up to 4 MiB"), 0)
    try:
        return melody(data, track, ch)
    except ValueError as e:
        raise with_arg(BadValue(f"{path}: {e}"), 0) from None


def _lit(v: object) -> str:
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_lit(x) for x in v) + "]"
    if isinstance(v, float):
        return _num(v)
    return repr(v)


PROCESSES = {f.name: f for f in (_walk, _choose, _markov)}
