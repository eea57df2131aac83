"""Writing the network out as language text (``save``) and as a listing (``ls``).

:func:`session_text` is the inverse of running a session: its text, run in a fresh
interpreter, rebuilds a mirror equal to the one it was made from, in the same creation
order and with the same names. Neurons named ``hats_0, hats_1, ...`` that were created
one after another come back as one group, ``hats = [neuron(...), neuron(...)]``; any
other neuron is written as ``name = neuron(...)``.
"""

from __future__ import annotations

import keyword
import math
import re

from engine import protocol as P
from livecode.language.mirror import Mirror
from livecode.language.values import (
    LangFunction,
    MidiSource,
    NeuronRef,
    OscSource,
    listen_call,
    midi_call,
    osc_call,
)

__all__ = ["session_text", "listing", "neuron_call", "connect_call"]

_MEMBER = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)_(\d+)$")
_RESERVED = frozenset(
    {
        "neuron",
        "connect",
        "disconnect",
        "tempo",
        "mute",
        "unmute",
        "solo",
        "unsolo",
        "fire",
        "reset",
        "stop",
        "start",
        "panic",
        "clear",
        "save",
        "load",
        "ls",
        "help",
        "quit",
        "range",
        "len",
        "min",
        "max",
        "abs",
        "round",
        "int",
        "float",
        "str",
        "bool",
        "list",
        "tuple",
        "sum",
        "sorted",
        "reversed",
        "enumerate",
        "zip",
        "any",
        "all",
        "print",
        "midi",
        "osc",
        "unmap",
        "record",
        "cc",
        "noteon",
        "listen",
        "follow",
        "clock",
        "walk",
        "choose",
        "markov",
        "link",
        "clock_in",
    }
)


def _literal(value: object) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return repr(value)


def neuron_call(params: dict) -> str:
    """``neuron(note, k=v, ...)`` with the note and every parameter that is not its default."""
    parts = [_literal(params.get("note", P.PARAMS["note"].default))]
    for name, spec in P.PARAMS.items():
        if name == "note" or name not in params:
            continue
        value = params[name]
        if value != spec.default or type(value) is not type(spec.default):
            parts.append(f"{name}={_literal(value)}")
    return f"neuron({', '.join(parts)})"


def _groups(mirror: Mirror, variables: dict | None) -> dict[str, list[str]]:
    """Runs of consecutive neurons named ``base_0 .. base_k`` that can be written as a list."""
    names = list(mirror.neurons)
    groups: dict[str, list[str]] = {}
    i = 0
    while i < len(names):
        m = _MEMBER.match(names[i])
        if m and m.group(2) == "0":
            base = m.group(1)
            run = [names[i]]
            while i + len(run) < len(names) and names[i + len(run)] == f"{base}_{len(run)}":
                run.append(names[i + len(run)])
            usable = (
                base not in groups
                and base not in mirror.neurons
                and not any(n in mirror.inputs for n in run)
                and base not in _RESERVED
                and not keyword.iskeyword(base)
                and (
                    variables is None
                    or base not in variables
                    or variables[base] == [NeuronRef(n) for n in run]
                )
            )
            if usable:
                groups[base] = run
                i += len(run)
                continue
        i += 1
    return groups


def session_text(mirror: Mirror, variables: dict | None = None) -> str:
    """Language text that rebuilds ``mirror`` exactly (and ``variables`` where it can)."""
    groups = _groups(mirror, variables)
    ref: dict[str, str] = {}
    for base, run in groups.items():
        ref.update({name: f"{base}[{i}]" for i, name in enumerate(run)})
    lines = ["# livecode session", f"tempo({mirror.tempo!r})"]
    lines += [f"program({ch}, {p})  # {P.program_name(ch, p)}" for ch, p in mirror.programs.items()]
    lines += [f"volume({ch}, {v})" for ch, v in mirror.volumes.items()]
    lines += [f"pan({ch}, {v!r})" for ch, v in mirror.pans.items()]
    first = {run[0]: base for base, run in groups.items()}
    for name, params in mirror.neurons.items():
        if name in first:
            base = first[name]
            items = ",\n    ".join(neuron_call(mirror.neurons[n]) for n in groups[base])
            lines.append(f"{base} = [\n    {items},\n]")
        elif name in mirror.inputs:
            lines += input_lines(mirror, name)
        elif name not in ref:
            lines.append(f"{name} = {neuron_call(params)}")
    for (src, dst), (w, delay, kind) in mirror.connections.items():
        lines.append(connect_call(ref.get(src, src), ref.get(dst, dst), w, delay, kind))
    for name in mirror.solo:
        lines.append(f"solo({ref.get(name, name)})")
    lines += [mapping_text(m, ref) for m in mirror.mappings.values()]
    for f in mirror.follows.values():
        by = f", {f.by}" if f.by else ""
        lines.append(f"{ref.get(f.name, f.name)}.{f.param} = follow({ref.get(f.src, f.src)}{by})")
    for (name, param), op in mirror.sources.items():
        lines.append(f"{ref.get(name, name)}.{param} = {drawn_call(op)}")
    if mirror.clock_out:
        lines.append("clock(True)")
    sync = authority_call(mirror)
    if sync:
        lines.append(sync)
    if not mirror.running:
        lines.append("stop()")
    lines += _variables(mirror, variables or {}, groups, ref)
    return "\n".join(lines) + "\n"


def _variables(mirror: Mirror, variables: dict, groups: dict, ref: dict) -> list[str]:
    """Assignments for the performer's other variables whose values can be written out."""
    out: list[tuple[bool, str]] = []
    for var, value in variables.items():
        if var in groups or (isinstance(value, NeuronRef) and value.name == var):
            continue
        if var.startswith("_") or var in _RESERVED or not var.isidentifier():
            continue
        text = _value_text(value, mirror, ref, 0)
        if text is not None:
            # a name the neurons use is rebound last, after every reference to it
            out.append((var in mirror.neurons, f"{var} = {text}"))
    return [line for _, line in sorted(out, key=lambda item: item[0])]


def _value_text(value: object, mirror: Mirror, ref: dict, depth: int) -> str | None:
    if depth > 20:
        return None
    if isinstance(value, NeuronRef):
        return ref.get(value.name, value.name) if value.name in mirror.neurons else None
    if isinstance(value, LangFunction):
        return value.name
    if isinstance(value, (list, tuple)):
        parts = [_value_text(v, mirror, ref, depth + 1) for v in value]
        if any(p is None for p in parts):
            return None
        if isinstance(value, tuple):
            return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"  # type: ignore[arg-type]
        return "[" + ", ".join(parts) + "]"  # type: ignore[arg-type]
    if isinstance(value, dict):
        keys = [_value_text(k, mirror, ref, depth + 1) for k in value]
        vals = [_value_text(v, mirror, ref, depth + 1) for v in value.values()]
        if any(p is None for p in keys + vals):
            return None
        return "{" + ", ".join(f"{k}: {v}" for k, v in zip(keys, vals, strict=True)) + "}"
    if isinstance(value, range):
        return repr(value)
    if isinstance(value, (bool, int, str)) or value is None:
        return repr(str(value)) if isinstance(value, str) else repr(value)
    if isinstance(value, float):
        return _literal(value)
    return None


def mapping_text(m: P.Map, ref: dict | None = None) -> str:
    """The statement that makes mapping ``m``: ``n1.thr = osc("/1/fader1", 0.5, 2.0)``."""
    call = source_call(m)
    if m.param == "tempo":
        return f"tempo({call})"
    name = (ref or {}).get(m.name, m.name)
    return f"{name}.{m.param} = {call}"


def source_call(m: P.Map) -> str:
    """The control of mapping ``m`` as language text: ``osc("/1/fader1", 0.5, 2.0)``, ``cc(74)``."""
    plain = m.param == "fire" and (m.lo, m.hi) == (0.0, 1.0)
    lo, hi = (None, None) if plain else (m.lo, m.hi)
    if m.source == "osc":
        return osc_call(OscSource(m.address, lo, hi, m.curve, m.arg))
    parts = m.address.split("/")
    number = int(parts[1]) if len(parts) == 2 else None
    return midi_call(MidiSource(m.source, number, int(parts[0]), lo, hi, m.curve))


def input_lines(mirror: Mirror, name: str) -> list[str]:
    """``keys = listen(ch=1)`` and the parameters the performer changed since."""
    src = mirror.inputs[name]
    given = {"rate": 0.0, "mute": True, "ch": src.ch or 1}
    lines = [f"{name} = {listen_call(src.ch, src.lo, src.hi)}"]
    for param, spec in P.PARAMS.items():
        value = mirror.neurons[name][param]
        expected = given.get(param, spec.default)
        if value != expected or type(value) is not type(expected):
            lines.append(f"{name}.{param} = {_literal(value)}")
    return lines


def connect_call(
    src: str, dst: str, w: float | tuple, delay: float | tuple = 0.0, kind: str = "pulse"
) -> str:
    """``connect(src, dst, w, delay=..., kind=...)``; a connection's taps as lists."""
    extra = (f", delay={_text(delay)}" if delay else "") + (
        f", kind={kind!r}" if kind != "pulse" else ""
    )
    return f"connect({src}, {dst}, {_text(w)}{extra})"


def _text(x: float | tuple) -> str:
    """A number exactly (repr), or a tap tuple as a list of them."""
    return repr(list(x)) if isinstance(x, tuple) else repr(x)


def _g(x: float | tuple) -> str:
    """A number or a tap tuple, short (for ``ls()``)."""
    return "[" + ", ".join(f"{v:g}" for v in x) + "]" if isinstance(x, tuple) else f"{x:g}"


def listing(mirror: Mirror, activations: dict | None = None, drawn: dict | None = None) -> str:
    """The text of ``ls()``: tempo, neurons with their non-default parameters and processes
    (``drawn``: what the engine says they are at or learned), connections."""
    activations = activations or {}
    drawn = drawn or {}
    state = "running" if mirror.running else "stopped"
    lines = [f"tempo {mirror.tempo:g} bpm, {state}, {len(mirror.neurons)} neurons"]
    width = max((len(n) for n in mirror.neurons), default=0)
    for name, params in mirror.neurons.items():
        call = neuron_call(params)[len("neuron(") : -1]
        flags = " [solo]" if name in mirror.solo else ""
        if name in mirror.inputs:
            flags += f" [{listen_call(mirror.inputs[name].ch, mirror.inputs[name].lo, mirror.inputs[name].hi)}]"
        for param in P.FOLLOW_PARAMS:
            f = mirror.follows.get((name, param))
            if f is not None:
                flags += f" [{param} = follow({f.src}{f', {f.by}' if f.by else ''})]"
        for (who, param), op in mirror.sources.items():
            if who == name:
                state = drawn.get(f"{name}.{param}", "")
                flags += f" [{param} = {drawn_call(op)}{f': {state}' if state else ''}]"
        act = activations.get(name)
        live = f"  a={act:.3f}" if isinstance(act, (int, float)) else ""
        lines.append(f"  {name:<{width}}  {call}{flags}{live}")
    if mirror.connections:
        lines.append("connections:")
        for (src, dst), (w, delay, kind) in mirror.connections.items():
            extra = (f" delay={_g(delay)}" if delay else "") + (
                f" {kind}" if kind != "pulse" else ""
            )
            lines.append(f"  {src} >> {dst} @ {_g(w)}{extra}")
    maps = [m for m in mirror.mappings.values() if m.source == "osc"]
    if maps:
        lines.append("osc mappings:")
        lines += [f"  {m.address}{f' arg {m.arg}' if m.arg else ''} -> {_drives(m)}" for m in maps]
    midi = [m for m in mirror.mappings.values() if m.source != "osc"]
    if midi:
        lines.append("midi mappings:")
        lines += [f"  {source_call(m)} -> {_drives(m)}" for m in midi]
    if mirror.clock_out:
        lines.append("midi clock out: on")
    lines.append(f"tempo authority: {authority_text(mirror)}")
    channels = sorted({*mirror.programs, *mirror.volumes, *mirror.pans})
    if channels:
        lines.append("channels:")
        for ch in channels:
            p = mirror.programs.get(ch, 1)
            lines.append(
                f"  ch{ch}: {p} {P.program_name(ch, p)}, volume {mirror.volumes.get(ch, 100)}, "
                f"pan {mirror.pans.get(ch, 0.0):g}"
            )
    return "\n".join(lines)


def drawn_call(op: P.Vary) -> str:
    """The language text of a parameter process: the call that made it, or one rebuilt from
    its fields (ops made outside the language carry none)."""
    if op.call:
        return op.call
    if isinstance(op, P.Walk):
        start = f", start={op.start!r}" if op.start is not None else ""
        return f"walk({op.lo!r}, {op.hi!r}, step={op.step!r}{start})"
    if isinstance(op, P.Choose):
        return f"choose({_literal(list(op.values))}, {_literal(list(op.weights))})"
    assert isinstance(op, P.Markov)
    if op.src:
        return f"markov({op.src}, order={op.order}, memory={op.memory})"
    seq = [ctx[-1] for ctx, row in op.table for _next, _count in row]  # not the table: a sketch
    return f"markov({_literal(seq or list(op.start))}, order={op.order})"


def authority_call(mirror: Mirror) -> str:
    """The call that makes the tempo authority what it is ("" for the network's own)."""
    if mirror.link is not None:
        lk = mirror.link
        extra = (f", quantum={lk.quantum:g}" if lk.quantum != 4 else "") + (
            ", startstop=True" if lk.startstop else ""
        )
        return f"link(True{extra})"
    if mirror.clock_in is not None:
        ci = mirror.clock_in
        extra = f", quantum={ci.quantum:g}" if ci.quantum != 4 else ""
        return f"clock_in({ci.port!r}{extra})"
    return ""


def authority_text(mirror: Mirror) -> str:
    """Who leads the tempo, for ls()."""
    if mirror.link is not None:
        shared = ", start/stop shared" if mirror.link.startstop else ""
        return f"Ableton Link (quantum {mirror.link.quantum:g}{shared})"
    if mirror.clock_in is not None:
        return f"MIDI clock in from {mirror.clock_in.port!r} (quantum {mirror.clock_in.quantum:g})"
    return "the network's own"


def _drives(m: P.Map) -> str:
    """What a mapping moves, for ls(): "n1.rate 0.25..8 exp", "tempo 60..180", "pad.fire"."""
    target = "tempo" if m.param == "tempo" else f"{m.name}.{m.param}"
    if m.param == "fire":
        return target
    return f"{target} {m.lo:g}..{m.hi:g}" + (" exp" if m.curve == "exp" else "")
