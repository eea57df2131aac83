"""The fit: for each voice, a mixed-integer linear program over its rate, phase and taps.

Every neuron is linear rise (``thr`` 1, no leak, no refractory time) with excitatory pulse
taps. Given the target spike times of every neuron, a neuron's activation just before and
just after any instant is linear in its rate, its phase and its tap weights, so "fires at
exactly its onsets and never between" is a set of linear inequalities, one neuron at a
time. The margin rule makes the result survive rounding: every spike is triggered by
pulses arriving at that instant (activation at most ``1 - MARGIN`` before them, at least
``1 + MARGIN`` after), and between spikes the activation stays at most ``1 - MARGIN``.
Binary variables choose which taps exist (delays from a finite candidate set: those that
land on one of the neuron's own onsets) and which connections; the objective is the fewest
connections, then the fewest taps.

Locking: the only free-running neuron is ``bar`` (fires once per pattern, ``thr`` = the
pattern's length in beats, ``rate`` 1: exact). Zero-delay taps and taps whose delay is not
exact at 3 decimals come only from the bar or from voices earlier in the order (densest
first), so no loop of them exists; loops use exact delays only, and rounding the session
to 3 decimals moves no spike by more than half a thousandth of a beat per hop.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from livecode.learn.groove import Groove, Voice

__all__ = ["FitVoice", "Fit", "fit_groove", "MARGIN", "CLOCK"]

MARGIN = 0.05  # of the threshold (1): covers 3-decimal rounding of rates, phases and weights
W_MAX = 2.0
R_MAX = 64.0
CLOCK = "bar"
_CONN_COST, _TAP_COST, _WEIGHT_COST = 3.0, 1.0, 1e-3  # small weights among equals


@dataclass(frozen=True)
class FitVoice:
    voice: Voice
    rate: float
    phase: float
    taps: dict[str, tuple[tuple[float, int], ...]]  # source -> ((w, delay in ticks), ...)
    optimal: bool


@dataclass
class Fit:
    groove: Groove
    voices: list[FitVoice] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def connections(self) -> int:
        return sum(len(v.taps) for v in self.voices)

    @property
    def taps(self) -> int:
        return sum(len(t) for v in self.voices for t in v.taps.values())


def fit_groove(groove: Groove, time_limit: float = 30.0) -> Fit:
    """Fit every voice of ``groove`` (ImportError without scipy: ``livecode[learn]``)."""
    from scipy.optimize import milp  # noqa: F401  (fail early, with the extra's name)

    t0 = time.perf_counter()
    order = sorted(groove.voices, key=lambda v: (-len(v.onsets), v.note, -v.vel))
    rank = {v.name: k for k, v in enumerate(order)}
    spikes = {CLOCK: (0,), **{v.name: v.onsets for v in order}}
    fit = Fit(groove)
    for v in order:
        fit.voices.append(_fit_voice(groove, v, spikes, rank, time_limit))
    fit.seconds = time.perf_counter() - t0
    return fit


def _candidates(
    groove: Groove, v: Voice, spikes: dict[str, tuple[int, ...]], rank: dict[str, int]
) -> list[tuple[str, int]]:
    period, tpb = groove.period, groove.tpb
    cands = []
    for src, times in spikes.items():
        upstream = src == CLOCK or rank[src] < rank[v.name]
        delays = sorted({(t - s) % period for t in v.onsets for s in times})
        for d in delays:
            exact = (d * 1000) % tpb == 0
            if upstream or (d > 0 and exact):
                cands.append((src, d))
    return cands


def _fit_voice(
    groove: Groove,
    v: Voice,
    spikes: dict[str, tuple[int, ...]],
    rank: dict[str, int],
    time_limit: float,
) -> FitVoice:
    from scipy.optimize import Bounds, LinearConstraint, milp

    period, tpb = groove.period, groove.tpb
    cands = _candidates(groove, v, spikes, rank)
    sources = sorted({s for s, _d in cands}, key=lambda s: (s != CLOCK, rank.get(s, -1)))
    src_ix = {s: k for k, s in enumerate(sources)}
    nc, ns = len(cands), len(sources)
    end = 3 * period
    arrivals = [
        np.array(
            sorted(
                s + k * period + d
                for s in spikes[src]
                for k in range(3)
                if s + k * period + d < end
            )
        )
        for src, d in cands
    ]
    own = [t + k * period for k in range(3) for t in v.onsets]
    nvar = 2 + 2 * nc + ns  # r, phase, w..., z..., y...
    rows: list[np.ndarray] = []
    lo: list[float] = []
    hi: list[float] = []

    def row(a: int | None, tau: int, closed: bool) -> np.ndarray:
        """Activation at ``tau`` since the spike at ``a`` (None: since 0, from the phase)."""
        x = np.zeros(nvar)
        x[0] = (tau - (a or 0)) / tpb
        if a is None:
            x[1] = 1.0
        for c, arr in enumerate(arrivals):
            left = 0 if a is None else np.searchsorted(arr, a, side="right")
            right = np.searchsorted(arr, tau, side="right" if closed else "left")
            x[2 + c] = max(0, right - left)
        return x

    prev: int | None = None
    for b in own:
        if prev is not None and prev >= 2 * period:
            break
        lo_t = 0 if prev is None else prev
        times = {b}
        for arr in arrivals:
            sel = arr[(arr > lo_t) & (arr <= b)] if prev is not None else arr[arr <= b]
            times.update(int(t) for t in sel)
        for tau in sorted(times):
            rows.append(row(prev, tau, False))
            lo.append(-np.inf)
            hi.append(1.0 - MARGIN)
        rows.append(row(prev, b, True))
        lo.append(1.0 + MARGIN)
        hi.append(np.inf)
        prev = b
    for c, (src, _d) in enumerate(cands):
        link = np.zeros(nvar)
        link[2 + c], link[2 + nc + c] = 1.0, -W_MAX  # w <= W_MAX * z
        rows.append(link)
        lo.append(-np.inf)
        hi.append(0.0)
        use = np.zeros(nvar)
        use[2 + nc + c], use[2 + 2 * nc + src_ix[src]] = 1.0, -1.0  # z <= y
        rows.append(use)
        lo.append(-np.inf)
        hi.append(0.0)
    cost = np.zeros(nvar)
    cost[2 : 2 + nc] = _WEIGHT_COST
    cost[2 + nc : 2 + 2 * nc] = _TAP_COST
    cost[2 + 2 * nc :] = _CONN_COST
    integrality = np.zeros(nvar)
    integrality[2 + nc :] = 1
    upper = np.concatenate([[R_MAX, 1.0 - MARGIN], np.full(nc, W_MAX), np.ones(nc + ns)])
    res = milp(
        cost,
        integrality=integrality,
        bounds=Bounds(np.zeros(nvar), upper),
        constraints=LinearConstraint(np.array(rows), np.array(lo), np.array(hi)),
        # no presolve: these programs are small and it was slower with it (and HiGHS's
        # presolve made most of its stray debug lines, ERGO-Code/HiGHS#2783)
        options={"time_limit": time_limit, "presolve": False},
    )
    if res.x is None:
        raise RuntimeError(f"no fit for {v.name}: {res.message}")  # the bar taps always fit
    x = res.x
    taps: dict[str, list[tuple[float, int]]] = {}
    for c, (src, d) in enumerate(cands):
        if x[2 + nc + c] > 0.5 and x[2 + c] > 1e-9:
            taps.setdefault(src, []).append((_mid(x[2 + c]), d))
    return FitVoice(
        v,
        rate=_mid(x[0]),
        phase=_mid(x[1]),
        taps={s: tuple(t) for s, t in taps.items()},
        optimal=res.status == 0,
    )


def _mid(x: float) -> float:
    """A solver value at 3 decimals (the margins cover the rounding)."""
    return round(float(x), 3) + 0.0
