"""Controller mappings shared by every source (OSC, MIDI CC, MIDI notes): scaling and ops.

A mapping (:class:`protocol.Map`, kept by the network as a plain dict) turns a control's
position ``x`` in 0..1 into a value on ``lo..hi`` along its curve, and that value into the
patch operation it stands for. No sockets, no ports: :mod:`engine.io.osc_routes` and
:mod:`engine.io.midi_routes` both call these.
"""

from __future__ import annotations

import math

from engine.model.ops import Fire, SetParam, Tempo
from engine.model.params import TEMPO_RANGE, clamp_param

__all__ = ["map_value", "unmap_value", "control_op"]


def map_value(m: dict, x: float) -> float:
    """A control's 0..1 ``x`` (clamped) onto the mapping's ``lo..hi`` along its curve."""
    x = 0.0 if x < 0.0 else 1.0 if x > 1.0 else x
    lo, hi = m["lo"], m["hi"]
    if m["curve"] == "exp":
        return float(lo * (hi / lo) ** x)
    return lo + x * (hi - lo)


def unmap_value(m: dict, v: float) -> float:
    """The 0..1 control position that shows value ``v`` (the inverse of :func:`map_value`)."""
    lo, hi = m["lo"], m["hi"]
    if m["curve"] == "exp":
        x = math.log(v / lo) / math.log(hi / lo) if v > 0 and hi != lo else 0.0
    else:
        x = (v - lo) / (hi - lo) if hi != lo else 0.0
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


def control_op(m: dict, x: float) -> object:
    """The op of mapping ``m`` for control position ``x`` (0..1); None for a trigger's release.

    ``fire`` fires above half (a press); ``tempo`` is clamped to its range; ``mute`` is on
    above half; any other parameter is clamped to its range.
    """
    param = m["param"]
    if param == "fire":
        return Fire(m["name"]) if x > 0.5 else None
    value = map_value(m, x)
    if param == "tempo":
        lo, hi = TEMPO_RANGE
        return Tempo(min(hi, max(lo, value)))
    if param == "mute":
        return SetParam(m["name"], param, value >= 0.5)
    return SetParam(m["name"], param, clamp_param(param, value))
