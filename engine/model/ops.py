"""Patch operations: each one is a class that carries its own check and its own effect.

An op is plain data (a frozen dataclass of builtins: it pickles across the engine's pipe
and is written to recordings as JSON). Three methods make it part of the model:

- ``check(names)`` validates and normalises it against the neuron names as they will be
  when it runs (it adds or removes names when it creates or removes neurons);
- ``apply(state)`` is its effect on the network's structure, :class:`engine.model.state.NetState`:
  written once here, used by the engine, the performer's picture of the network, replay
  and export;
- ``act(net, t, out)`` is its effect on the running simulation
  (:class:`engine.model.network.Network`), called right after ``apply``.

A new op is a new class here (registered in :data:`OPS` by subclassing :class:`Op`) plus
its language function. :func:`check_ops` checks a whole batch before anything changes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Protocol

from engine.errors import ModelError, ProtocolError, UnknownNeuron
from engine.model.events import Event
from engine.model.gm import program_number
from engine.model.params import (
    CONN_KINDS,
    DEFAULT_WEIGHT,
    PARAMS,
    full_params,
    number,
    validate_param,
    validate_tempo,
)


class Names(Protocol):
    """The neuron names a batch is checked against (a set, or a live view of a network's)."""

    def __contains__(self, name: object) -> bool: ...
    def add(self, name: str) -> None: ...
    def discard(self, name: str) -> None: ...
    def clear(self) -> None: ...


if TYPE_CHECKING:
    from typing_extensions import Self

    from engine.model.network import Network
    from engine.model.state import NetState

__all__ = [
    "Op",
    "Batch",
    "OPS",
    "check_ops",
    "op_fields",
    "parse_address",
    "MAP_SOURCES",
    "MAP_CURVES",
    "FOLLOW_PARAMS",
    "DefineNeuron",
    "SetParam",
    "Connect",
    "conn_taps",
    "MAX_TAPS",
    "Disconnect",
    "Remove",
    "Tempo",
    "Mute",
    "Solo",
    "Fire",
    "Reset",
    "Stop",
    "Start",
    "Panic",
    "Clear",
    "Map",
    "Unmap",
    "Listen",
    "Follow",
    "NoteIn",
    "MidiClock",
    "Link",
    "ClockIn",
    "Program",
    "Mix",
    "VARY_PARAMS",
    "Vary",
    "Walk",
    "Choose",
    "Markov",
]

MAP_SOURCES = ("osc", "cc", "note")
MAP_CURVES = ("lin", "exp")
FOLLOW_PARAMS = ("note", "vel")
_OSC_FORBIDDEN = frozenset(" #*,?[]{}")

#: every op class by name: the recorder, replay and tests read the op types from here
OPS: dict[str, type[Op]] = {}


class Op:
    """Base of every patch operation (subclasses are frozen dataclasses)."""

    #: the batch rebuilds the pulse wiring after it (connections or neurons came or went)
    rewires: ClassVar[bool] = False
    #: the batch dissolves and rebuilds cont groups around it when there are any
    regroups: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("abstract", False):  # a family's base is no op of its own
            OPS[cls.__name__] = cls

    def check(self, names: Names) -> Self:
        """This op validated and normalised; ``names`` are the neurons as they will be."""
        return self

    def apply(self, state: NetState) -> None:
        """The op's effect on the network's structure (none by default)."""

    def act(self, net: Network, t: float, out: list[Event]) -> None:
        """The op's effect on the running simulation at beat ``t`` (none by default)."""


def op_fields(op: Op) -> dict:
    """The op's fields as a plain dict (JSON, snapshots)."""
    return {f.name: getattr(op, f.name) for f in dataclasses.fields(op)}  # type: ignore[arg-type]


def check_ops(ops: tuple | list, names: Names) -> list[Op]:
    """Every op checked against the names as they will be, or ModelError naming the op."""
    done: list[Op] = []
    for i, op in enumerate(ops):
        if not isinstance(op, Op):
            raise ModelError(f"op {i + 1}: not a patch operation: {op!r}")
        try:
            done.append(op.check(names))
        except UnknownNeuron as exc:
            raise UnknownNeuron(f"op {i + 1}: {exc}") from None
        except (ProtocolError, ModelError, ValueError, TypeError) as exc:
            raise ModelError(f"op {i + 1} ({type(op).__name__}): {exc}") from None
    return done


def _need(names: Names, name: object) -> str:
    if not isinstance(name, str) or name not in names:
        raise UnknownNeuron(f"no neuron named {name!r}")
    return name


def _flag(what: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ModelError(f"{what} must be True or False, got {value!r}")
    return value


def _whole(what: str, value: object, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ModelError(f"{what} must be a whole number {lo}..{hi}, got {value!r}")
    return value


def parse_address(source: str, address: str) -> tuple[int, int | None]:
    """``(ch, number)`` of a cc (``"CH/CC"``) or note (``"CH"``, ``"CH/NOTE"``) address; ValueError."""
    parts = address.split("/")
    if len(parts) not in ((2,) if source == "cc" else (1, 2)) or not all(
        p.isdigit() and len(p) <= 3 for p in parts
    ):
        form = "CH/CC" if source == "cc" else "CH or CH/NOTE"
        raise ValueError(f"a {source} address is {form} (CH 0..16, 0 for any), got {address!r}")
    ch = int(parts[0])
    num = int(parts[1]) if len(parts) == 2 else None
    if not 0 <= ch <= 16 or (num is not None and not 0 <= num <= 127):
        raise ValueError(f"a {source} address has CH 0..16 and a number 0..127, got {address!r}")
    return ch, num


# --- neurons -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DefineNeuron(Op):
    """Create ``name`` with ``params`` (every parameter), or update it keeping phase and connections."""

    rewires: ClassVar[bool] = True
    regroups: ClassVar[bool] = True

    name: str
    params: dict = field(default_factory=dict)

    def check(self, names: Names) -> DefineNeuron:
        if not isinstance(self.name, str) or not self.name:
            raise ModelError(f"a neuron name must be a non-empty string, got {self.name!r}")
        if not isinstance(self.params, dict):
            raise ModelError(f"params must be a dict, got {self.params!r}")
        for k in self.params:
            if k not in PARAMS:
                validate_param(k, None)  # raises the unknown-parameter message
        names.add(self.name)
        return DefineNeuron(self.name, full_params(self.params))

    def apply(self, state: NetState) -> None:
        state.unfollow(self.name)  # redefining a neuron ends its follow links
        state.unvary(self.name)  # and the processes that drew its parameters
        if self.name not in state.neurons:
            state.shape += 1
        state.neurons[self.name] = dict(self.params)

    def act(self, net: Network, t: float, out: list[Event]) -> None:
        net.place(self.name, t)


@dataclass(frozen=True)
class SetParam(Op):
    regroups: ClassVar[bool] = True

    name: str
    param: str
    value: object

    def check(self, names: Names) -> SetParam:
        _need(names, self.name)
        return SetParam(self.name, self.param, validate_param(self.param, self.value))

    def apply(self, state: NetState) -> None:
        if self.param in FOLLOW_PARAMS:
            state.unfollow(self.name, self.param)  # setting a followed parameter ends the link
        state.unvary(self.name, self.param)  # and a process that drew it
        state.neurons[self.name] = {**state.neurons[self.name], self.param: self.value}

    def act(self, net: Network, t: float, out: list[Event]) -> None:
        net.place(self.name, t)


@dataclass(frozen=True)
class Mute(Op):
    """Set the ``mute`` parameter: the neuron fires and resets but sends nothing."""

    regroups: ClassVar[bool] = True

    name: str
    on: bool = True

    def check(self, names: Names) -> Mute:
        _need(names, self.name)
        return Mute(self.name, bool(validate_param("mute", self.on)))

    def apply(self, state: NetState) -> None:
        state.neurons[self.name] = {**state.neurons[self.name], "mute": self.on}

    def act(self, net: Network, t: float, out: list[Event]) -> None:
        net.place(self.name, t)


@dataclass(frozen=True)
class Solo(Op):
    """Solo ``name`` (``on``), or take it out of the solo set; an empty set means all sound."""

    name: str
    on: bool = True

    def check(self, names: Names) -> Solo:
        _need(names, self.name)
        return Solo(self.name, bool(validate_param("mute", self.on)))

    def apply(self, state: NetState) -> None:
        if self.on:
            state.solo[self.name] = None
        else:
            state.solo.pop(self.name, None)


@dataclass(frozen=True)
class Remove(Op):
    """Remove a neuron and its connections; its sounding notes stop at once."""

    rewires: ClassVar[bool] = True
    regroups: ClassVar[bool] = True

    name: str

    def check(self, names: Names) -> Remove:
        _need(names, self.name)
        names.discard(self.name)
        return self

    def apply(self, state: NetState) -> None:
        state.forget(self.name)

    def act(self, net: Network, t: float, out: list[Event]) -> None:
        net.kill(self.name, out)


@dataclass(frozen=True)
class Fire(Op):
    name: str

    def check(self, names: Names) -> Fire:
        _need(names, self.name)
        return self

    def act(self, net: Network, t: float, out: list[Event]) -> None:
        net.fire_at(self.name, t)


@dataclass(frozen=True)
class Reset(Op):
    """Set the neuron's activation back to its starting phase."""

    regroups: ClassVar[bool] = True

    name: str

    def check(self, names: Names) -> Reset:
        _need(names, self.name)
        return self

    def act(self, net: Network, t: float, out: list[Event]) -> None:
        net.reset_neuron(self.name, t)


# --- connections ---------------------------------------------------------------------------


#: taps one connection may carry (a fitted bar of 16ths needs 16)
MAX_TAPS = 64


def _numbers(what: str, value: object) -> float | tuple[float, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(number(what, v) for v in value)
    return number(what, value)


def conn_taps(
    w: object, delay: object, kind: str = "pulse"
) -> tuple[float | tuple[float, ...], float | tuple[float, ...]]:
    """A connection's ``(w, delay)`` normalised, or ProtocolError/ModelError saying why not.

    One tap: two numbers. Several taps (a pulse connection that sends one pulse per tap):
    ``delay`` a list of distinct delays >= 0, ``w`` a list of as many weights or one weight
    for every tap; returned as tuples in ascending delay. A one-tap list is a plain number.
    """
    ws, ds = _numbers("w", w), _numbers("delay", delay)
    if not isinstance(ds, tuple):
        if isinstance(ws, tuple):
            raise ModelError(
                f"a list of weights needs a list of delays, one per tap, got delay={delay!r}"
            )
        if ds < 0:
            raise ModelError(f"delay must be >= 0 beats, got {delay!r}")
        return ws, ds
    if not 1 <= len(ds) <= MAX_TAPS:
        raise ModelError(f"a connection has 1..{MAX_TAPS} taps, got {len(ds)} delays")
    if not isinstance(ws, tuple):
        ws = (ws,) * len(ds)
    if len(ws) != len(ds):
        raise ModelError(f"one weight per tap: {len(ws)} weights for {len(ds)} delays")
    if min(ds) < 0:
        raise ModelError(f"delays must be >= 0 beats, got {min(ds)!r}")
    if len(set(ds)) != len(ds):
        raise ModelError(f"a connection's taps need distinct delays, got {list(ds)!r}")
    if len(ds) == 1:
        return ws[0], ds[0]
    if kind != "pulse":
        raise ModelError(f'only "pulse" connections have several taps, got kind {kind!r}')
    taps = sorted(zip(ds, ws, strict=True))
    return tuple(w for _d, w in taps), tuple(d for d, _w in taps)


@dataclass(frozen=True)
class Connect(Op):
    """Create or replace the connection ``src -> dst``.

    ``w`` and ``delay`` are numbers, or (a pulse connection with several taps) tuples of
    the same length: see :func:`conn_taps`.
    """

    rewires: ClassVar[bool] = True
    regroups: ClassVar[bool] = True

    src: str
    dst: str
    w: float | tuple[float, ...] = DEFAULT_WEIGHT
    delay: float | tuple[float, ...] = 0.0
    kind: str = "pulse"

    def check(self, names: Names) -> Connect:
        _need(names, self.src)
        _need(names, self.dst)
        if self.kind not in CONN_KINDS:
            raise ModelError(f"kind must be one of {', '.join(CONN_KINDS)}, got {self.kind!r}")
        w, delay = conn_taps(self.w, self.delay, self.kind)
        return Connect(self.src, self.dst, w, delay, self.kind)

    def apply(self, state: NetState) -> None:
        state.connect(self.src, self.dst, self.w, self.delay, self.kind)


@dataclass(frozen=True)
class Disconnect(Op):
    rewires: ClassVar[bool] = True
    regroups: ClassVar[bool] = True

    src: str
    dst: str

    def check(self, names: Names) -> Disconnect:
        _need(names, self.src)
        _need(names, self.dst)
        return self

    def apply(self, state: NetState) -> None:
        state.connections.pop((self.src, self.dst), None)
        state.shape += 1


# --- the whole network ---------------------------------------------------------------------


@dataclass(frozen=True)
class Tempo(Op):
    bpm: float

    def check(self, names: Names) -> Tempo:
        return Tempo(validate_tempo(self.bpm))

    def apply(self, state: NetState) -> None:
        state.tempo = self.bpm

    def act(self, net: Network, t: float, out: list[Event]) -> None:
        net.retempo()


@dataclass(frozen=True)
class Stop(Op):
    """Freeze the network: no firings, sounding notes released; ``Start`` resumes."""

    def apply(self, state: NetState) -> None:
        state.running = False

    def act(self, net: Network, t: float, out: list[Event]) -> None:
        net.halt(out)


@dataclass(frozen=True)
class Start(Op):
    def apply(self, state: NetState) -> None:
        state.running = True

    def act(self, net: Network, t: float, out: list[Event]) -> None:
        net.resume()


@dataclass(frozen=True)
class Panic(Op):
    """All notes off now; the network keeps running."""

    def act(self, net: Network, t: float, out: list[Event]) -> None:
        out.extend(net.release_all())


@dataclass(frozen=True)
class Clear(Op):
    """Remove every neuron and connection; tempo (and tempo mappings) stay."""

    rewires: ClassVar[bool] = True
    regroups: ClassVar[bool] = True

    def check(self, names: Names) -> Clear:
        names.clear()
        return self

    def apply(self, state: NetState) -> None:
        state.clear()

    def act(self, net: Network, t: float, out: list[Event]) -> None:
        net.wipe(out)


# --- controllers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Map(Op):
    """Route a controller onto the network; part of the network (saved, restored).

    ``source`` is "osc" (``address`` an OSC address such as "/1/fader1"), "cc"
    (``address`` "CH/CC", e.g. "1/74") or "note" (``address`` "CH" or "CH/NOTE").
    ``param`` is a neuron parameter set from the value mapped onto ``lo..hi`` along
    ``curve``, or "fire" (fires ``name`` when the value is above half), or "tempo"
    (``name`` empty). ``arg`` picks the OSC argument (``/1/xy1`` sends two floats).
    One controller per target and source: a new one replaces the old.
    """

    source: str
    address: str
    name: str
    param: str
    lo: float = 0.0
    hi: float = 1.0
    curve: str = "lin"
    arg: int = 0

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.source, self.name, self.param)

    def check(self, names: Names) -> Map:
        if self.source not in MAP_SOURCES:
            raise ModelError(f"source must be one of {', '.join(MAP_SOURCES)}, got {self.source!r}")
        addr = self.address
        if not isinstance(addr, str) or not addr or len(addr) > 256:
            raise ModelError(f"a mapping needs an address of 1..256 characters, got {addr!r}")
        if self.source == "osc" and (
            not addr.startswith("/") or _OSC_FORBIDDEN & set(addr) or not addr.isprintable()
        ):
            raise ModelError(
                f"an OSC address starts with / and has no spaces or # * , ? [ ] {{ }}, got {addr!r}"
            )
        if self.source in ("cc", "note"):
            parse_address(self.source, addr)
        if self.param == "tempo":
            if self.name:
                raise ModelError(f"a tempo mapping names no neuron, got {self.name!r}")
        elif self.param == "fire" or self.param in PARAMS:
            _need(names, self.name)
        else:
            raise ModelError(
                f'a mapping drives a parameter ({", ".join(PARAMS)}), "fire" '
                f'or "tempo", got {self.param!r}'
            )
        lo, hi = number("lo", self.lo), number("hi", self.hi)
        if self.curve not in MAP_CURVES:
            raise ModelError(f"curve must be one of {', '.join(MAP_CURVES)}, got {self.curve!r}")
        if self.curve == "exp" and (lo <= 0 or hi <= 0):
            raise ModelError(f'curve "exp" needs lo and hi above 0, got {lo:g}..{hi:g}')
        _whole("arg", self.arg, 0, 255)
        return dataclasses.replace(self, lo=lo, hi=hi)

    def apply(self, state: NetState) -> None:
        state.mappings[self.key] = self
        state.shape += 1


@dataclass(frozen=True)
class Unmap(Op):
    """Remove mappings of ``address`` (only those driving ``name``/``param`` when given)."""

    source: str
    address: str
    name: str = ""
    param: str = ""

    def check(self, names: Names) -> Unmap:
        if self.source not in MAP_SOURCES or not isinstance(self.address, str):
            raise ModelError(f"source must be one of {', '.join(MAP_SOURCES)}, got {self.source!r}")
        return Unmap(self.source, self.address, str(self.name), str(self.param))

    def apply(self, state: NetState) -> None:
        for key, m in list(state.mappings.items()):
            if (
                m.source == self.source
                and m.address == self.address
                and (not self.name or m.name == self.name)
                and (not self.param or m.param == self.param)
            ):
                del state.mappings[key]
                state.shape += 1


# --- MIDI input and clock ------------------------------------------------------------------


@dataclass(frozen=True)
class Listen(Op):
    """Make ``name`` an input neuron (``on``), or an ordinary one again (``on=False``).

    An input neuron fires whenever a note-on arrives on MIDI channel ``ch`` (0: any)
    with a note in ``lo..hi``, at the moment it is processed, and plays (unless muted)
    the note and velocity it heard. Part of the network (saved, restored).
    """

    name: str
    ch: int = 0
    lo: int = 0
    hi: int = 127
    on: bool = True

    def check(self, names: Names) -> Listen:
        _need(names, self.name)
        _flag("on", self.on)
        _whole("ch", self.ch, 0, 16)
        lo, hi = _whole("lo", self.lo, 0, 127), _whole("hi", self.hi, 0, 127)
        if lo > hi:
            raise ModelError(f"the note range lo..hi is empty, got {lo}..{hi}")
        return self

    def apply(self, state: NetState) -> None:
        state.shape += 1
        if self.on:
            state.inputs[self.name] = self
        else:
            state.inputs.pop(self.name, None)
            state.follows = {k: f for k, f in state.follows.items() if f.src != self.name}

    def act(self, net: Network, t: float, out: list[Event]) -> None:
        if not self.on:
            net.heard.pop(self.name, None)
        net.refresh_all()


@dataclass(frozen=True)
class Follow(Op):
    """``name``'s ``param`` ("note" or "vel") becomes the last one ``src`` heard, plus ``by``.

    ``src`` empty stops following. Setting ``param`` (SetParam, or redefining the
    neuron) stops it too. Part of the network (saved, restored).
    """

    name: str
    param: str
    src: str = ""
    by: int = 0

    def check(self, names: Names) -> Follow:
        _need(names, self.name)
        if self.param not in FOLLOW_PARAMS:
            raise ModelError(f"follow drives {' or '.join(FOLLOW_PARAMS)}, got {self.param!r}")
        if self.src:
            _need(names, self.src)
        _whole("by", self.by, -127, 127)
        return self

    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.param)

    def apply(self, state: NetState) -> None:
        state.unvary(self.name, self.param)  # one source per parameter: the link replaces it
        if self.src:
            state.follows[self.key] = self
        else:
            state.follows.pop(self.key, None)

    def act(self, net: Network, t: float, out: list[Event]) -> None:
        net.refresh(self.name)


@dataclass(frozen=True)
class NoteIn(Op):
    """A note-on from a MIDI input (``ch`` 1..16): fires every input neuron that listens to it."""

    ch: int
    note: int
    vel: int

    def check(self, names: Names) -> NoteIn:
        _whole("ch", self.ch, 1, 16)
        _whole("note", self.note, 0, 127)
        _whole("vel", self.vel, 1, 127)
        return self

    def act(self, net: Network, t: float, out: list[Event]) -> None:
        net.hear(self.ch, self.note, self.vel, t)


@dataclass(frozen=True)
class MidiClock(Op):
    """Send MIDI clock (24 pulses per beat, start/stop) on the output port, or stop sending it."""

    on: bool = True

    def check(self, names: Names) -> MidiClock:
        _flag("on", self.on)
        return self

    def apply(self, state: NetState) -> None:
        state.clock_out = self.on


# --- the tempo authority ------------------------------------------------------------------


def _quantum(value: object) -> float:
    q = number("quantum", value)
    if not 1.0 <= q <= 64.0:
        raise ModelError(f"quantum must be in range 1..64 beats, got {value!r}")
    return q


@dataclass(frozen=True)
class Link(Op):
    """Follow an Ableton Link session (``on``), or the network's own tempo again.

    While linked the session leads tempo and beat: the network's beats line up with the
    session's modulo ``quantum`` (beats per bar); ``startstop`` also shares start and stop
    with the peers that enable it. One tempo authority at a time: this ends clock in.
    Part of the network (saved, restored).
    """

    on: bool = True
    quantum: float = 4.0
    startstop: bool = False

    def check(self, names: Names) -> Link:
        return Link(
            _flag("on", self.on), _quantum(self.quantum), _flag("startstop", self.startstop)
        )

    def apply(self, state: NetState) -> None:
        state.link = self if self.on else None
        if self.on:
            state.clock_in = None


@dataclass(frozen=True)
class ClockIn(Op):
    """Follow MIDI clock (24 per beat, start/stop/continue, song position) arriving on the
    input port matching ``port`` (substring); ``port`` empty: the network's own tempo again.

    The beat lines up with the clock's song position modulo ``quantum`` beats. One tempo
    authority at a time: this ends Link. Part of the network (saved, restored).
    """

    port: str = ""
    quantum: float = 4.0

    def check(self, names: Names) -> ClockIn:
        if not isinstance(self.port, str) or len(self.port) > 256 or not self.port.isprintable():
            raise ModelError(
                f"a clock-in port is a name of up to 256 characters, got {self.port!r}"
            )
        return ClockIn(self.port, _quantum(self.quantum))

    def apply(self, state: NetState) -> None:
        state.clock_in = self if self.port else None
        if self.port:
            state.link = None

    @property
    def on(self) -> bool:
        return bool(self.port)


# --- sound --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Program(Op):
    """Channel ``ch`` (1..16) plays GM program ``program`` (1..128, or a GM name; on channel
    10 a drum kit). Part of the network (saved, restored); sent as a program change."""

    ch: int
    program: int | str = 1

    def check(self, names: Names) -> Program:
        ch = _whole("ch", self.ch, 1, 16)
        return Program(ch, program_number(ch, self.program))

    def apply(self, state: NetState) -> None:
        state.programs[self.ch] = int(self.program)

    def act(self, net: Network, t: float, out: list[Event]) -> None:
        out += self.events(net.now, net.beat)

    def events(self, t: float, beat: float) -> list[Event]:
        """The MIDI messages that say it (the program change's data byte is one less)."""
        return [Event(t, beat, "program_change", "", self.ch, int(self.program) - 1, 0)]


CC_VOLUME, CC_PAN = 7, 10


@dataclass(frozen=True)
class Mix(Op):
    """Channel ``ch``'s volume (0..127, MIDI CC 7) and pan (-1 left .. 1 right, CC 10); None
    leaves one as it is. Part of the network (saved, restored); sent as control changes."""

    ch: int
    volume: int | None = None
    pan: float | None = None

    def check(self, names: Names) -> Mix:
        ch = _whole("ch", self.ch, 1, 16)
        volume = None if self.volume is None else _whole("volume", self.volume, 0, 127)
        pan = None if self.pan is None else number("pan", self.pan)
        if pan is not None and not -1.0 <= pan <= 1.0:
            raise ModelError(f"pan must be in range -1..1 (left..right), got {self.pan!r}")
        return Mix(ch, volume, pan)

    def apply(self, state: NetState) -> None:
        if self.volume is not None:
            state.volumes[self.ch] = self.volume
        if self.pan is not None:
            state.pans[self.ch] = self.pan

    def act(self, net: Network, t: float, out: list[Event]) -> None:
        out += self.events(net.now, net.beat)

    def events(self, t: float, beat: float) -> list[Event]:
        """The control changes that say it."""
        out = []
        if self.volume is not None:
            out.append(Event(t, beat, "control_change", "", self.ch, CC_VOLUME, self.volume))
        if self.pan is not None:
            value = min(127, max(0, round(64 + 63.5 * self.pan)))
            out.append(Event(t, beat, "control_change", "", self.ch, CC_PAN, value))
        return out


from engine.model.vary import VARY_PARAMS, Choose, Markov, Vary, Walk  # noqa: E402


@dataclass(frozen=True)
class Batch:
    """Operations applied whole at one instant, or refused whole.

    ``refused`` carries the error of a block the interpreter refused before it was sent
    (no ops): the engine applies nothing and a recording keeps the block and the reason.
    """

    ops: tuple = ()
    source: str = "repl"  # "repl", "file", "osc", "midi", "restore", "replay"
    text: str = ""
    id: int = 0
    refused: str = ""
