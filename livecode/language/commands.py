"""The language's own functions: neurons, connections, transport, and requests to the host.

``ls`` and ``help`` return text; the requests to the host (``save``, ``load``, ``record``,
``quit``) and what a session file may ask of it are in :mod:`livecode.language.host`.
"""

from __future__ import annotations

from engine import protocol as P
from livecode.language.builtins import PLAIN, REQUIRED, bind_args, fn, with_arg
from livecode.language.errors import (
    BadType,
    BadValue,
    HostError,
    LivecodeError,
    suggest,
)
from livecode.language.host import HOST_COMMANDS, path_arg
from livecode.language.network import control_range, suggest_param, validate
from livecode.language.processes import PROCESSES
from livecode.language.session_text import listing
from livecode.language.values import (
    FollowSource,
    LangFunction,
    ListenRecipe,
    MidiSource,
    NeuronRef,
    OscSource,
    Recipe,
    Text,
    check_int,
    check_number,
    show,
    type_name,
)

__all__ = ["FUNCTIONS", "COMMANDS"]


@fn(
    "neuron",
    "neuron(note=60, thr=1.0, rate=1.0, ...)",
    "a new neuron; bind it to a name: `n1 = neuron(36, thr=1.2)`",
)
def _neuron(ctx, args, kwargs):
    if len(args) > 1:
        raise with_arg(
            BadType(
                "neuron() takes the note as its only positional argument; give "
                "the others by name: neuron(36, thr=1.2)"
            ),
            1,
        )
    if args and "note" in kwargs:
        raise with_arg(BadType("neuron() got `note` twice"), "note")
    given = {"note": args[0]} if args else {}
    given.update(kwargs)
    params = []
    for name, value in given.items():
        if name not in P.PARAMS:
            raise with_arg(
                BadType(
                    f"neuron() has no parameter `{name}`; parameters are: {', '.join(P.PARAMS)}",
                    suggestion=suggest_param(name),
                ),
                name,
            )
        if isinstance(value, list) and value and all(isinstance(v, NeuronRef) for v in value):
            raise with_arg(BadType(f"{name} must be a number, got a list of neurons"), name)
        try:
            params.append((name, validate(name, value)))
        except LivecodeError as e:
            raise with_arg(e, 0 if name == "note" and args else name) from None
    return Recipe(tuple(params))


@fn(
    "connect",
    'connect(src, dst, w=0.5, delay=0, kind="pulse")',
    'connect src to dst (neurons or lists); re-run to change; kind is "pulse" or "cont"',
)
def _connect(ctx, args, kwargs):
    src, dst, w, delay, kind = bind_args(
        "connect",
        [
            ("src", REQUIRED),
            ("dst", REQUIRED),
            ("w", P.DEFAULT_WEIGHT),
            ("delay", 0.0),
            ("kind", "pulse"),
        ],
        args,
        kwargs,
    )
    ctx.connect(src, dst, w, delay, kind)
    return None


@fn("disconnect", "disconnect(src, dst)", "remove the connection src -> dst")
def _disconnect(ctx, args, kwargs):
    src, dst = bind_args("disconnect", [("src", REQUIRED), ("dst", REQUIRED)], args, kwargs)
    ctx.disconnect(src, dst)
    return None


@fn("tempo", "tempo(bpm)", "set the tempo in beats per minute (1..999); tempo() reads it")
def _tempo(ctx, args, kwargs):
    (bpm,) = bind_args("tempo", [("bpm", None)], args, kwargs)
    if bpm is None:
        return ctx.mirror.tempo
    if isinstance(bpm, (OscSource, MidiSource)):
        try:
            lo, hi = control_range("tempo", bpm)
        except LivecodeError as e:
            raise with_arg(e, 0) from None
        source = "osc" if isinstance(bpm, OscSource) else bpm.kind
        ctx.emit(P.Map(source, bpm.address, "", "tempo", lo, hi, bpm.curve, bpm.arg))
        return None
    value = check_number(bpm, "tempo")
    lo, hi = P.TEMPO_RANGE
    if not lo <= value <= hi:
        raise with_arg(BadValue(f"tempo must be in range {lo:g}..{hi:g} BPM, got {show(bpm)}"), 0)
    ctx.emit(P.Tempo(value))
    return None


def _per_neuron(name: str, make, doc: str) -> LangFunction:
    def impl(ctx, args, kwargs):
        if kwargs:
            raise BadType(f"{name}() takes neurons only, no keyword arguments")
        if not args:
            raise BadType(f"{name}() needs a neuron or a list of neurons: {name}(n1)")
        for i, arg in enumerate(args):
            try:
                names = ctx.neuron_names(arg, f"{name}()")
            except LivecodeError as e:
                raise with_arg(e, i) from None
            for n in names:
                ctx.emit(make(n))
        return None

    return LangFunction(name, impl, f"{name}(n, ...)", doc)


def _no_args(name: str, op: object, doc: str) -> LangFunction:
    def impl(ctx, args, kwargs):
        bind_args(name, [], args, kwargs)
        ctx.emit(op)
        if isinstance(op, P.Clear):
            ctx.forget()  # the variables that named neurons now name nothing
        return None

    return LangFunction(name, impl, f"{name}()", doc)


_OSC_FORBIDDEN = frozenset(" #*,?[]{}")


@fn(
    "osc",
    'osc(address, lo=None, hi=None, curve="lin", arg=0)',
    'an OSC control (sending 0..1) to assign: n1.thr = osc("/1/fader1", 0.5, 2.0); '
    'n1.fire = osc("/1/push1"); tempo(osc("/1/rotary1", 60, 180, curve="exp"))',
)
def _osc(ctx, args, kwargs):
    address, lo, hi, curve, arg = bind_args(
        "osc",
        [("address", REQUIRED), ("lo", None), ("hi", None), ("curve", "lin"), ("arg", 0)],
        args,
        kwargs,
    )
    if not isinstance(address, str):
        raise with_arg(
            BadType(f'osc() needs an address as a str, like "/1/fader1", got {type_name(address)}'),
            0,
        )
    if (
        not address.startswith("/")
        or len(address) > 256
        or not address.isprintable()
        or _OSC_FORBIDDEN & set(address)
    ):
        raise with_arg(
            BadValue(
                f"an OSC address starts with / and has no spaces or "
                f"# * , ? [ ] {{ }} (at most 256 characters), got "
                f"{show(address, 80)}"
            ),
            0,
        )
    bounds = []
    for i, (what, v) in enumerate((("lo", lo), ("hi", hi))):
        try:
            bounds.append(None if v is None else check_number(v, f"osc()'s {what}"))
        except LivecodeError as e:
            raise with_arg(e, what if what in kwargs else i + 1) from None
    if curve not in P.MAP_CURVES:
        hint = suggest(curve, P.MAP_CURVES) if isinstance(curve, str) else None
        raise with_arg(
            BadValue(
                f'osc()\'s curve must be "lin" or "exp", got {show(curve, 40)}', suggestion=hint
            ),
            "curve",
        )
    try:
        check_int(arg, "osc()'s arg")
        if not 0 <= arg <= 255:
            raise BadValue(f"osc()'s arg picks an argument 0..255, got {arg}")
    except LivecodeError as e:
        raise with_arg(e, "arg") from None
    src = OscSource(address, bounds[0], bounds[1], curve, arg)
    if curve == "exp" and any(b is not None and b <= 0 for b in bounds):
        raise with_arg(
            BadValue(f'curve="exp" needs lo and hi above 0, got {show(lo)}..{show(hi)}'), "curve"
        )
    return src


@fn(
    "unmap",
    "unmap(what=None, param=None)",
    'remove mappings: unmap("/1/fader1"), unmap(n1), unmap(n1, "thr"), unmap(tempo), '
    "unmap() for all",
)
def _unmap(ctx, args, kwargs):
    what, param = bind_args("unmap", [("what", None), ("param", None)], args, kwargs)
    maps = list(ctx.mirror.mappings.values())
    if what is None:
        found = maps
    elif isinstance(what, (str, OscSource, MidiSource)):
        address = what if isinstance(what, str) else what.address
        source = what.kind if isinstance(what, MidiSource) else "osc"
        found = [m for m in maps if m.address == address and m.source == source]
        if isinstance(what, MidiSource):
            address = show(what)
        if not found:
            known = sorted({m.address for m in maps})
            raise with_arg(
                BadValue(
                    f"nothing is mapped to {address!r}"
                    + (f"; mapped: {', '.join(known)}" if known else ""),
                    suggestion=suggest(address, known),
                ),
                0,
            )
    elif isinstance(what, LangFunction) and what.name == "tempo":
        found = [m for m in maps if m.param == "tempo"]
        if not found:
            raise with_arg(BadValue("no control is mapped to the tempo"), 0)
    else:
        try:
            names = ctx.neuron_names(what, "unmap()")
        except LivecodeError as e:
            raise with_arg(e, 0) from None
        if param is not None and param != "fire" and param not in P.PARAMS:
            raise with_arg(
                BadValue(
                    f'unmap()\'s param is a parameter or "fire", got {show(param, 40)}',
                    suggestion=suggest_param(str(param), ("fire",)),
                ),
                1,
            )
        found = [m for m in maps if m.name in names and (param is None or m.param == param)]
        if not found:
            raise with_arg(
                BadValue(
                    f"{', '.join(names)} {'has' if len(names) == 1 else 'have'}"
                    f" no {param + ' ' if param else ''}mapping to unmap"
                ),
                0,
            )
    for m in found:
        ctx.emit(P.Unmap(m.source, m.address, m.name, m.param))
    return None


def _channel(value: object, what: str) -> int:
    if value is None:
        return 0
    try:
        check_int(value, what)
    except LivecodeError as e:
        raise with_arg(e, "ch") from None
    if not 1 <= value <= 16:  # type: ignore[operator]
        raise with_arg(BadValue(f"{what} must be in range 1..16 (None for any), got {value}"), "ch")
    return value  # type: ignore[return-value]


def _scale(
    name: str, lo: object, hi: object, curve: object, kwargs: dict, first: int
) -> tuple[float | None, float | None]:
    bounds: list[float | None] = []
    for i, (what, v) in enumerate((("lo", lo), ("hi", hi))):
        try:
            bounds.append(None if v is None else check_number(v, f"{name}()'s {what}"))
        except LivecodeError as e:
            raise with_arg(e, what if what in kwargs else first + i) from None
    if curve not in P.MAP_CURVES:
        hint = suggest(curve, P.MAP_CURVES) if isinstance(curve, str) else None
        raise with_arg(
            BadValue(
                f'{name}()\'s curve must be "lin" or "exp", got {show(curve, 40)}', suggestion=hint
            ),
            "curve",
        )
    if curve == "exp" and any(b is not None and b <= 0 for b in bounds):
        raise with_arg(
            BadValue(f'curve="exp" needs lo and hi above 0, got {show(lo)}..{show(hi)}'), "curve"
        )
    return bounds[0], bounds[1]


@fn(
    "cc",
    'cc(number, lo=None, hi=None, curve="lin", ch=None)',
    'a MIDI controller (0..127) to assign: n1.rate = cc(74, 0.25, 8, curve="exp", ch=1); '
    "n1.fire = cc(64) fires on the press; tempo(cc(20, 60, 180)); ch None: any channel",
)
def _cc(ctx, args, kwargs):
    number, lo, hi, curve, ch = bind_args(
        "cc",
        [("number", REQUIRED), ("lo", None), ("hi", None), ("curve", "lin"), ("ch", None)],
        args,
        kwargs,
    )
    try:
        check_int(number, "cc()'s number")
        if not 0 <= number <= 127:
            raise BadValue(f"a controller number must be in range 0..127, got {number}")
    except LivecodeError as e:
        raise with_arg(e, 0) from None
    lo, hi = _scale("cc", lo, hi, curve, kwargs, 1)
    return MidiSource("cc", number, _channel(ch, "cc()'s ch"), lo, hi, curve)


@fn(
    "noteon",
    'noteon(note=None, ch=None, lo=None, hi=None, curve="lin")',
    "a MIDI note-on to assign: pad.fire = noteon(36, ch=10) fires on it; n1.vel = noteon(ch=1) "
    "follows the velocity; note None: any note, ch None: any channel",
)
def _noteon(ctx, args, kwargs):
    note, ch, lo, hi, curve = bind_args(
        "noteon",
        [("note", None), ("ch", None), ("lo", None), ("hi", None), ("curve", "lin")],
        args,
        kwargs,
    )
    number = None
    if note is not None:
        try:
            number = P.note_number(note)
        except P.ProtocolError as e:
            raise with_arg(BadValue(str(e)), 0) from None
    lo, hi = _scale("noteon", lo, hi, curve, kwargs, 2)
    return MidiSource("note", number, _channel(ch, "noteon()'s ch"), lo, hi, curve)


@fn(
    "listen",
    "listen(ch=None, lo=0, hi=127)",
    "a new input neuron: keys = listen(ch=1) fires on every note-on heard (ch None: any "
    "channel; lo..hi: a note range); silent (muted) unless you unmute(keys)",
)
def _listen(ctx, args, kwargs):
    ch, lo, hi = bind_args("listen", [("ch", None), ("lo", 0), ("hi", 127)], args, kwargs)
    channel = _channel(ch, "listen()'s ch")
    bounds = []
    for i, (what, v) in enumerate((("lo", lo), ("hi", hi))):
        try:
            bounds.append(P.note_number(v))
        except P.ProtocolError as e:
            raise with_arg(
                BadValue(f"listen()'s {what}: {e}"), what if what in kwargs else i + 1
            ) from None
    if bounds[0] > bounds[1]:
        raise with_arg(
            BadValue(f"listen()'s note range is empty: lo {bounds[0]} > hi {bounds[1]}"),
            "hi" if "hi" in kwargs else 2,
        )
    params = (("rate", 0.0), ("mute", True), ("ch", channel or 1))
    return ListenRecipe(params, channel, bounds[0], bounds[1])


@fn(
    "follow",
    "follow(keys, by=0)",
    "assign to .note or .vel: n1.note = follow(keys, 7) plays the last note keys heard, "
    "a fifth up; setting n1.note again stops following",
)
def _follow(ctx, args, kwargs):
    src, by = bind_args("follow", [("src", REQUIRED), ("by", 0)], args, kwargs)
    if not isinstance(src, NeuronRef):
        raise with_arg(
            BadType(
                f"follow() takes an input neuron made by listen(), got "
                f"{type_name(src)} {show(src, 40)}"
            ),
            0,
        )
    if src.name not in ctx.mirror.inputs:
        raise with_arg(
            BadValue(
                f"`{src.name}` does not listen to MIDI: follow() takes an input "
                f"neuron, e.g. keys = listen(ch=1)"
            ),
            0,
        )
    try:
        check_int(by, "follow()'s by")
        if not -127 <= by <= 127:
            raise BadValue(f"follow()'s by must be in range -127..127, got {by}")
    except LivecodeError as e:
        raise with_arg(e, "by" if "by" in kwargs else 1) from None
    return FollowSource(src.name, by)


@fn(
    "clock",
    "clock(on=None)",
    "send MIDI clock (24 per beat, start/stop) on the output port: clock(True); clock() reads it",
)
def _clock(ctx, args, kwargs):
    (on,) = bind_args("clock", [("on", None)], args, kwargs)
    if on is None:
        return ctx.mirror.clock_out
    if not isinstance(on, bool):
        raise with_arg(BadType(f"clock() takes True or False, got {type_name(on)}"), 0)
    ctx.emit(P.MidiClock(on))
    return None


def _quantum_arg(name: str, quantum: object, kwargs: dict, index: int) -> float:
    try:
        q = check_number(quantum, f"{name}()'s quantum")
        if not 1 <= q <= 64:
            raise BadValue(f"{name}()'s quantum must be in range 1..64 beats, got {show(quantum)}")
    except LivecodeError as e:
        raise with_arg(e, "quantum" if "quantum" in kwargs else index) from None
    return float(q)


@fn(
    "link",
    "link(on=True, quantum=4, startstop=False)",
    "join an Ableton Link session: its tempo and beat lead, tempo() changes it for everyone, "
    "start() comes in on the session's bar (quantum beats); startstop=True shares start/stop; "
    "link(False) leaves",
)
def _link(ctx, args, kwargs):
    on, quantum, startstop = bind_args(
        "link", [("on", True), ("quantum", 4), ("startstop", False)], args, kwargs
    )
    if not isinstance(on, bool):
        raise with_arg(BadType(f"link() takes True or False, got {type_name(on)}"), 0)
    q = _quantum_arg("link", quantum, kwargs, 1)
    if not isinstance(startstop, bool):
        raise with_arg(
            BadType(f"link()'s startstop is True or False, got {type_name(startstop)}"),
            "startstop" if "startstop" in kwargs else 2,
        )
    ctx.emit(P.Link(on, q, startstop))
    return None


@fn(
    "clock_in",
    "clock_in(port=None, quantum=4)",
    'follow the MIDI clock (tempo, start/stop, song position) from an input port: clock_in("TR-8"); '
    "clock_in(False) stops following; clock_in() reads the port",
)
def _clock_in(ctx, args, kwargs):
    port, quantum = bind_args("clock_in", [("port", None), ("quantum", 4)], args, kwargs)
    if port is None:
        return ctx.mirror.clock_in.port if ctx.mirror.clock_in is not None else None
    if port is False:
        ctx.emit(P.ClockIn(""))
        return None
    if not isinstance(port, str) or not port.strip():
        raise with_arg(
            BadType(f"clock_in() needs a port name (a str) or False, got {type_name(port)}"), 0
        )
    ctx.emit(P.ClockIn(port.strip(), _quantum_arg("clock_in", quantum, kwargs, 1)))
    return None


@fn(
    "program",
    "program(ch, program=None)",
    "the sound of MIDI channel ch (1..16): a GM program 1..128 or its name: program(2, "
    '"Fingered Bass"); on channel 10 a drum kit: program(10, "TR 808"); program(2) reads it',
)
def _program(ctx, args, kwargs):
    ch, program = bind_args("program", [("ch", REQUIRED), ("program", None)], args, kwargs)
    try:
        check_int(ch, "program()'s channel")
        if not 1 <= ch <= 16:
            raise BadValue(f"program()'s channel must be in range 1..16, got {ch}")
    except LivecodeError as e:
        raise with_arg(e, "ch" if "ch" in kwargs else 0) from None
    if program is None:
        number = ctx.mirror.programs.get(ch, 1)
        return Text(f"{number} {P.program_name(ch, number)}")
    try:
        number = P.program_number(ch, program)
    except ValueError as e:
        error = (
            BadType
            if isinstance(program, bool) or not isinstance(program, (int, str))
            else BadValue
        )
        raise with_arg(error(str(e)), "program" if "program" in kwargs else 1) from None
    ctx.emit(P.Program(ch, number))
    return None


def _mix_channel(name: str, ch: object, kwargs: dict) -> int:
    try:
        check_int(ch, f"{name}()'s channel")
        if not 1 <= ch <= 16:  # type: ignore[operator]
            raise BadValue(f"{name}()'s channel must be in range 1..16, got {ch}")
    except LivecodeError as e:
        raise with_arg(e, "ch" if "ch" in kwargs else 0) from None
    return ch  # type: ignore[return-value]


@fn(
    "volume",
    "volume(ch, level=None)",
    "the volume of MIDI channel ch (1..16): 0..127, default 100 (MIDI CC 7); volume(ch) reads it",
)
def _volume(ctx, args, kwargs):
    ch, level = bind_args("volume", [("ch", REQUIRED), ("level", None)], args, kwargs)
    ch = _mix_channel("volume", ch, kwargs)
    if level is None:
        return ctx.mirror.volumes.get(ch, 100)
    try:
        check_int(level, "volume")
        if not 0 <= level <= 127:
            raise BadValue(f"volume must be in range 0..127, got {level}")
    except LivecodeError as e:
        raise with_arg(e, "level" if "level" in kwargs else 1) from None
    ctx.emit(P.Mix(ch, volume=level))
    return None


@fn(
    "pan",
    "pan(ch, position=None)",
    "where MIDI channel ch (1..16) sits: -1 left .. 0 centre .. 1 right (MIDI CC 10); "
    "pan(ch) reads it",
)
def _pan(ctx, args, kwargs):
    ch, position = bind_args("pan", [("ch", REQUIRED), ("position", None)], args, kwargs)
    ch = _mix_channel("pan", ch, kwargs)
    if position is None:
        return ctx.mirror.pans.get(ch, 0.0)
    try:
        value = check_number(position, "pan")
        if not -1 <= value <= 1:
            raise BadValue(f"pan must be in range -1..1 (left..right), got {show(position)}")
    except LivecodeError as e:
        raise with_arg(e, "position" if "position" in kwargs else 1) from None
    ctx.emit(P.Mix(ch, pan=float(value)))
    return None


@fn(
    "fit",
    "fit(path, grid=None, channel=None, track=None, bars=None)",
    'teach the network a rhythm from a MIDI file: fit("groove.mid", grid="1/16"); it runs '
    "beside the music and defines the neurons (bar, kick, snare, ...) when done",
)
def _fit(ctx, args, kwargs):
    path, grid, channel, track, bars = bind_args(
        "fit",
        [("path", REQUIRED), ("grid", None), ("channel", None), ("track", None), ("bars", None)],
        args,
        kwargs,
    )
    path = path_arg("fit", [path], {})
    for name, value in (("grid", grid), ("bars", bars)):
        if value is not None and not isinstance(value, str):
            hint = '"1/16"' if name == "grid" else '"1:4"'
            raise with_arg(
                BadType(f"fit()'s {name} is a str like {hint}, got {type_name(value)}"), name
            )
    for name, value, hi in (("channel", channel, 16), ("track", track, 999)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= hi
        ):
            raise with_arg(
                BadValue(f"fit()'s {name} is a whole number 1..{hi}, got {show(value)}"), name
            )
    options = {"grid": grid, "channel": channel, "track": track, "bars": bars}
    ctx.actions.append(("fit", path, options))
    return None


@fn("ls", "ls()", "list the neurons, their parameters and the connections")
def _ls(ctx, args, kwargs):
    bind_args("ls", [], args, kwargs)
    live: dict = {}
    if ctx.activations is not None:
        try:
            live = dict(ctx.activations() or {})
        except Exception as e:  # a host callback failing must not look like a language bug
            raise HostError(f"the host could not report activations: {e}") from None
    drawn: dict = {}
    if ctx.drawn is not None:
        try:
            drawn = dict(ctx.drawn() or {})
        except Exception as e:  # a host callback failing must not look like a language bug
            raise HostError(f"the host could not report what processes learned: {e}") from None
    return Text(listing(ctx.mirror, live, drawn))


@fn("help", "help(topic)", 'help on a function or parameter: help(neuron), help("rate")')
def _help(ctx, args, kwargs):
    (topic,) = bind_args("help", [("topic", None)], args, kwargs)
    if topic is None:
        width = max(len(f.signature) for f in FUNCTIONS.values())
        lines = ["Functions:"]
        lines += [f"  {f.signature:<{width}}  {f.doc}" for f in FUNCTIONS.values()]
        lines += ["Neuron parameters (n1.rate = 2):"]
        lines += [f"  {spec.describe()}" for spec in P.PARAMS.values()]
        lines += [
            "Connect: `a >> b` (weight 0.5), `a >> b @ -0.4`, `a >> [b, c] @ 0.3`; "
            "chains: `a >> b >> c`."
        ]
        lines += [
            "REPL keys: Enter runs a complete block (a `for`/`if` ends with an empty line), "
            "Alt-Enter runs the whole buffer, Tab completes, F12 or Alt-P is panic (all "
            "notes off), Ctrl-C clears the line, Ctrl-D or quit() leaves."
        ]
        return Text("\n".join(lines))
    if isinstance(topic, LangFunction):
        return Text(f"{topic.signature}\n  {topic.doc}")
    if isinstance(topic, NeuronRef):
        params = ctx.mirror.neurons.get(topic.name, {})
        return Text(
            f"neuron {topic.name}: " + ", ".join(f"{k}={show(v)}" for k, v in params.items())
        )
    if isinstance(topic, str):
        if topic in P.PARAMS:
            return Text(P.PARAMS[topic].describe())
        if topic in FUNCTIONS:
            f = FUNCTIONS[topic]
            return Text(f"{f.signature}\n  {f.doc}")
        raise with_arg(
            BadValue(f"no help on {topic!r}", suggestion=suggest(topic, [*P.PARAMS, *FUNCTIONS])), 0
        )
    raise with_arg(
        BadType(f"help() takes a function, a neuron or a parameter name, got {type_name(topic)}"), 0
    )


COMMANDS: dict[str, LangFunction] = {
    f.name: f
    for f in (
        _neuron,
        _connect,
        _disconnect,
        _tempo,
        _osc,
        _unmap,
        _cc,
        _noteon,
        _listen,
        _follow,
        _clock,
        _link,
        _clock_in,
        _program,
        _volume,
        _pan,
        _per_neuron("mute", lambda n: P.Mute(n, True), "silence a neuron (it keeps firing)"),
        _per_neuron("unmute", lambda n: P.Mute(n, False), "let a muted neuron sound again"),
        _per_neuron("solo", lambda n: P.Solo(n, True), "only soloed neurons sound"),
        _per_neuron("unsolo", lambda n: P.Solo(n, False), "take a neuron out of the solo set"),
        _per_neuron("fire", P.Fire, "fire a neuron now"),
        _per_neuron("reset", P.Reset, "set a neuron's activation back to its phase"),
        _no_args("stop", P.Stop(), "freeze the network and release sounding notes"),
        _no_args("start", P.Start(), "run the network again after stop()"),
        _no_args("panic", P.Panic(), "all notes off now; the network keeps running"),
        _no_args("clear", P.Clear(), "remove every neuron and connection (tempo stays)"),
        _fit,
        *HOST_COMMANDS,
        _ls,
        _help,
    )
}

COMMANDS.update(PROCESSES)

FUNCTIONS: dict[str, LangFunction] = {**COMMANDS, **PLAIN}
