"""Gentle notes on a block that is valid but will not do what it looks like it does.

The one a newcomer meets first: inhibition between two neurons that fire at the same
instant. They fire as one volley, and a zero-delay pulse reaches its target after the
target has fired in that volley, so ``a >> b @ -0.5`` does nothing audible. A small
delay makes the pulse land after the volley, while the target is rising again.
"""

from __future__ import annotations

from engine import protocol as P
from engine.model.state import Conn
from livecode.language.mirror import Mirror

__all__ = ["block_notes", "TIMING_PARAMS"]

# Two neurons with the same values of these, made in the same block, cross together.
TIMING_PARAMS = ("thr", "rate", "leak", "phase", "refr")


def _in_step(mirror: Mirror, a: str, b: str) -> bool:
    pa, pb = mirror.neurons.get(a), mirror.neurons.get(b)
    if pa is None or pb is None:
        return False
    return all(pa[k] == pb[k] for k in TIMING_PARAMS)


def block_notes(ops: tuple | list, mirror: Mirror) -> list[str]:
    """Notes for the performer about ``ops`` (one block) on the network ``mirror`` after it."""
    made = {op.name for op in ops if isinstance(op, P.DefineNeuron)}
    notes: list[str] = []
    for op in ops:
        if not isinstance(op, P.Connect) or op.kind != "pulse":
            continue
        taps = Conn(*P.conn_taps(op.w, op.delay, op.kind), op.kind).taps
        if not any(w < 0 and delay == 0 for w, delay in taps):
            continue
        if op.src == op.dst or not {op.src, op.dst} & made:
            continue
        if not _in_step(mirror, op.src, op.dst):
            continue
        notes.append(
            f"note: {op.src} and {op.dst} fire at the same instant, and a pulse without delay "
            f"reaches {op.dst} after it has fired, so this inhibition does nothing; give it "
            f"a small delay: connect({op.src}, {op.dst}, {min(w for w, _ in taps):g}, delay=0.01)"
        )
    return notes
