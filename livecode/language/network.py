"""What the language does to the network: define, set, connect, remove, all as protocol ops.

Mixed into the evaluator. Every change goes through :meth:`NetworkOps.emit`, which
applies the op to the block's working mirror and appends it to the block's ops, so
later statements in the block see earlier ones (``n1 = neuron(36); n1.rate *= 2``).

Naming rule: a neuron takes the name of the variable it is bound to. A list (or
tuple) bound to ``hats`` names its new neurons ``hats_0``, ``hats_1``...; nested lists
add further indices (``grid_1_2``) and a dict adds its key (``kit_kick``).
"""

from __future__ import annotations

import re

from engine import protocol as P
from livecode.language.errors import BadType, BadValue, LimitExceeded, UnknownAttribute, suggest
from livecode.language.mirror import Mirror, default_params
from livecode.language.values import (
    Budget,
    DrawnSource,
    FollowSource,
    ListenRecipe,
    MidiSource,
    NeuronRef,
    OscSource,
    Recipe,
    Target,
    check_number,
    flatten_neurons,
    show,
    type_name,
)

__all__ = ["NetworkOps", "NAME_RE", "validate", "suggest_param", "USUAL_RANGES", "control_range"]

NAME_RE = P.NAME_RE  # the engine's rule: recordings and exports check names with it
_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]*$")
READ_ONLY = ("name",)
UNBOUND_HINT = (
    "a new neuron must be bound to a name before it is used: write `x = neuron(...)`, then use `x`"
)


# What a control moves a target across when osc() is given no lo/hi: each parameter's
# usual range (engine.model.params), and for the other targets:
USUAL_RANGES: dict[str, tuple[float, float]] = {
    **{name: spec.usual for name, spec in P.PARAMS.items()},
    "fire": (0.0, 1.0),
    "tempo": (60.0, 180.0),
}


def control_range(target: str, src: OscSource | MidiSource) -> tuple[float, float]:
    """``src``'s lo..hi, the target's usual range filling what it leaves out."""
    usual = USUAL_RANGES[target]
    lo = usual[0] if src.lo is None else float(src.lo)
    hi = usual[1] if src.hi is None else float(src.hi)
    if src.curve == "exp" and (lo <= 0 or hi <= 0):
        raise BadValue(
            f'curve="exp" needs lo and hi above 0, got {lo:g}..{hi:g} for '
            f'{target}; give them: osc({src.address!r}, 0.25, 8, curve="exp")'
        )
    return lo, hi


_ALIASES = {
    "threshold": "thr",
    "velocity": "vel",
    "duration": "dur",
    "channel": "ch",
    "probability": "prob",
    "refractory": "refr",
    "pitch": "note",
    "speed": "rate",
}


def suggest_param(name: str, extra: tuple = ()) -> str | None:
    """The parameter ``name`` probably meant: the closest spelling of a parameter or of
    a full word with a short name (``treshold`` gives ``thr``)."""
    found = suggest(name, [*P.PARAMS, *extra, *_ALIASES])
    return _ALIASES.get(found, found) if found else None


def validate(param: str, value: object) -> object:
    """``protocol.validate_param`` with the language's errors and a suggestion."""
    if param not in P.PARAMS:
        raise UnknownAttribute(
            f"neurons have no parameter `{param}`; parameters are: {', '.join(P.PARAMS)}",
            suggestion=suggest_param(param),
        )
    if isinstance(value, (Recipe, NeuronRef, Target)):
        raise BadType(f"{param} must be a number, got {type_name(value)}")
    try:
        return P.validate_param(param, value)
    except P.ProtocolError as e:
        raise BadValue(str(e)) from None
    except (TypeError, ValueError, OverflowError):
        raise BadValue(f"{param} cannot be {show(value, 80)}") from None


class NetworkOps:
    mirror: Mirror
    variables: dict
    ops: list
    budget: Budget

    def emit(self, op: P.Op) -> None:
        try:
            self.mirror.apply(op)
        except P.EngineError as exc:  # the engine would refuse it: say so before anything is sent
            raise BadValue(str(exc)) from None
        self.ops.append(op)

    # --- neurons as values ---------------------------------------------------------------

    def neuron_names(self, value: object, what: str = "this") -> list[str]:
        """The live neurons in ``value`` (a neuron or a list of them), checked, deduplicated."""
        names: list[str] = []
        for item in flatten_neurons(value):
            if isinstance(item, Recipe):
                raise BadType(UNBOUND_HINT)
            if isinstance(item, Target):
                raise BadType(f"{what} takes neurons, not a weighted target (`@`)")
            if not isinstance(item, NeuronRef):
                raise BadType(
                    f"{what} takes a neuron or a list of neurons, "
                    f"got {type_name(item)} {show(item, 60)}"
                )
            if item.name not in self.mirror.neurons:
                raise BadValue(f"neuron `{item.name}` no longer exists (it was deleted)")
            if item.name not in names:
                names.append(item.name)
        if not names:
            raise BadValue(f"{what} needs at least one neuron, got an empty list")
        return names

    def get_param(self, value: object, param: str) -> object:
        if param not in P.PARAMS and param not in READ_ONLY:
            raise UnknownAttribute(
                f"neurons have no parameter `{param}`; parameters are: {', '.join(P.PARAMS)}",
                suggestion=suggest_param(param, READ_ONLY),
            )
        names = self.neuron_names(value, f"`.{param}`")
        if param == "name":
            found: list = names
        else:
            found = [_language_value(self.mirror.neurons[n][param]) for n in names]
        return found[0] if isinstance(value, NeuronRef) else found

    def set_param(self, value: object, param: str, new: object) -> None:
        if param in READ_ONLY:
            raise BadValue(f"a neuron's `{param}` cannot be changed")
        if isinstance(new, (OscSource, MidiSource)) or param == "fire":
            self.map_control(value, param, new)
            return
        if isinstance(new, FollowSource):
            if param not in P.FOLLOW_PARAMS:
                raise BadValue(f"follow() drives .note or .vel, not .{param}")
            for name in self.neuron_names(value, f"`.{param} =`"):
                self.emit(P.Follow(name, param, new.src, new.by))
            return
        if isinstance(new, DrawnSource):
            if param not in P.VARY_PARAMS:
                raise BadValue(
                    f"{new.call.split('(')[0]}() draws {', '.join(P.VARY_PARAMS)}, not .{param}"
                )
            for name in self.neuron_names(value, f"`.{param} =`"):
                self.emit(new.make(name, param, self.mirror.neurons))
            return
        names = self.neuron_names(value, f"`.{param} =`")
        normalised = validate(param, new)
        for name in names:
            self.emit(P.SetParam(name, param, normalised))

    def map_control(self, value: object, param: str, src: object) -> None:
        """``n1.thr = osc(...)``, ``n1.fire = osc(...)``: map a controller onto the neurons."""
        if param == "fire" and not isinstance(src, (OscSource, MidiSource)):
            raise BadType(
                f"`.fire` takes a control to fire on, got {type_name(src)}: write "
                f'n1.fire = osc("/1/push1"), cc(64) or noteon(36), or fire(n1) '
                f"to fire now"
            )
        assert isinstance(src, (OscSource, MidiSource))
        if param != "fire" and param not in P.PARAMS:
            validate(param, 0)  # raises the unknown-parameter error with its suggestion
        names = self.neuron_names(value, f"`.{param} =`")
        lo, hi = control_range(param, src)
        source = "osc" if isinstance(src, OscSource) else src.kind
        for name in names:
            self.emit(P.Map(source, src.address, name, param, lo, hi, src.curve, src.arg))

    # --- binding -------------------------------------------------------------------------

    def materialize(self, value: object, name: str, depth: int = 0) -> object:
        """Define the new neurons in ``value`` under ``name``; returns it with references."""
        if depth > 20:
            raise LimitExceeded("values holding new neurons may be nested at most 20 deep")
        if isinstance(value, Recipe):
            self.define(name, value)
            return NeuronRef(name)
        if not self.budget.holds_neurons(value):
            return value
        if isinstance(value, (list, tuple)) and _has_recipe(value):
            items = [self.materialize(v, f"{name}_{i}", depth + 1) for i, v in enumerate(value)]
            return items if isinstance(value, list) else tuple(items)
        if isinstance(value, dict) and _has_recipe(value):
            out = {}
            for key, v in value.items():
                if _has_recipe(v):
                    if isinstance(key, bool) or not (
                        isinstance(key, int)
                        and key >= 0
                        or isinstance(key, str)
                        and _KEY_RE.match(key)
                    ):
                        raise BadValue(
                            f"a dict holding new neurons needs keys of letters, "
                            f"digits and `_` (they become part of the neuron's "
                            f"name), got {show(key, 60)}"
                        )
                    v = self.materialize(v, f"{name}_{key}", depth + 1)
                out[key] = v
            return out
        if isinstance(value, Target):
            raise BadType("a weighted target (`n @ w`) only makes sense after `>>`")
        return value

    def define(self, name: str, recipe: Recipe) -> None:
        if not P.valid_name(name):
            raise BadValue(
                f"a neuron's name must be ASCII letters, digits and `_` "
                f"(at most 64), starting with a letter, got {name!r}"
            )
        params = default_params()
        params.update(recipe.as_dict())
        self.emit(P.DefineNeuron(name, params))
        if isinstance(recipe, ListenRecipe):
            self.emit(P.Listen(name, recipe.ch, recipe.lo, recipe.hi))
        elif name in self.mirror.inputs:
            self.emit(P.Listen(name, on=False))  # rebound to a plain neuron

    def release(self, old: object, new: object, name: str) -> None:
        """Remove the group members ``name_*`` that ``old`` held and ``new`` no longer does."""
        if not (self.budget.holds_neurons(old) or self.budget.holds_neurons(new)):
            return  # nothing to release: skip the walks (a big list of numbers, say)
        try:
            old_items = flatten_neurons(_values(old))
            new_items = flatten_neurons(_values(new))
        except LimitExceeded:
            return
        keep = {v.name for v in new_items if isinstance(v, NeuronRef)}
        gone = [
            v.name
            for v in old_items
            if isinstance(v, NeuronRef)
            and v.name.startswith(name + "_")
            and v.name not in keep
            and v.name in self.mirror.neurons
        ]
        self.remove(list(dict.fromkeys(gone)))

    def remove(self, names: list[str]) -> None:
        for name in names:
            if name in self.mirror.neurons:
                self.emit(P.Remove(name))
        self.forget(set(names))

    def forget(self, names: set[str] | None = None) -> None:
        """Unbind the variables that are plain references to removed neurons."""
        for var, value in list(self.variables.items()):
            if isinstance(value, NeuronRef) and (
                value.name in names if names is not None else value.name not in self.mirror.neurons
            ):
                del self.variables[var]

    # --- connections ---------------------------------------------------------------------

    def connect(
        self, src: object, dst: object, w: object, delay: object = 0.0, kind: object = "pulse"
    ) -> None:
        srcs = self.neuron_names(src, "a connection's source")
        dsts = self.neuron_names(dst, "a connection's target")
        if not isinstance(w, (list, tuple)):
            _finite(w, "a connection's weight")
        if not isinstance(delay, (list, tuple)):
            if _finite(delay, "a connection's delay") < 0:
                raise BadValue(f"a connection's delay must be >= 0 beats, got {show(delay)}")
        if kind not in P.CONN_KINDS:
            hint = suggest(kind, P.CONN_KINDS) if isinstance(kind, str) else None
            raise BadValue(
                f"a connection's kind must be one of {', '.join(map(repr, P.CONN_KINDS))}"
                f", got {show(kind, 60)}",
                suggestion=hint,
            )
        try:  # several taps: lists of weights and delays (the model's rule)
            weight, wait = P.conn_taps(w, delay, kind)
        except P.EngineError as exc:
            raise BadValue(f"connect(): {exc}") from None
        for s in srcs:
            for d in dsts:
                self.emit(P.Connect(s, d, weight, wait, kind))

    def disconnect(self, src: object, dst: object) -> None:
        srcs = self.neuron_names(src, "disconnect()")
        dsts = self.neuron_names(dst, "disconnect()")
        for s in srcs:
            for d in dsts:
                if (s, d) not in self.mirror.connections:
                    raise BadValue(f"there is no connection {s} -> {d} to disconnect")
                self.emit(P.Disconnect(s, d))

    def wire(self, left: object, right: object) -> object:
        """``left >> right``: connect, and return the right-hand neurons for chaining."""
        if isinstance(left, Target):
            left = left.neurons
        if isinstance(right, Target):
            self.connect(left, right.neurons, right.w)
            return right.neurons
        if not isinstance(right, (NeuronRef, Recipe, list, tuple)):
            raise BadType(
                f"`>>` connects neurons: the right side is {type_name(right)} {show(right, 60)}"
            )
        self.connect(left, right, P.DEFAULT_WEIGHT)
        return right

    def weighted(self, left: object, w: object) -> Target:
        """``neurons @ w``."""
        self.neuron_names(left, "`@`")
        return Target(left, _finite(w, "the weight after `@`"))


def _finite(value: object, what: str) -> float:
    return check_number(value, what)


def _language_value(v: object) -> object:
    return list(v) if isinstance(v, tuple) else v


def _values(v: object) -> object:
    return list(v.values()) if isinstance(v, dict) else v


def _has_recipe(value: object, depth: int = 0) -> bool:
    if isinstance(value, Recipe):
        return True
    if depth > 20:
        return False
    if isinstance(value, (list, tuple)):
        return any(_has_recipe(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return any(_has_recipe(v, depth + 1) for v in value.values())
    return False
