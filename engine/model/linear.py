"""Exact solution of linear ODE systems for ``cont``-coupled neurons.

A group of neurons joined by ``cont`` connections obeys ``dx/dt = M x + b``. We solve it
exactly with the matrix exponential of the augmented matrix ``[[M, b], [0, 0]]`` (which
also copes with a singular ``M``, e.g. no leak), and find the next event -- a threshold
crossing, a fall onto the floor, the end of a hold at the floor -- by sampling that exact
solution at modest steps and bisecting the first step where something happened. Only
numpy; pulse-only neurons never come here.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["expm", "Group", "NORMAL", "REFRACTORY", "HELD"]

NORMAL, REFRACTORY, HELD = 0, 1, 2

# Higham (2005) Padé 13 coefficients; accurate for any norm after scaling.
_B = (
    64764752532480000.0,
    32382376266240000.0,
    7771770303897600.0,
    1187353796428800.0,
    129060195264000.0,
    10559470521600.0,
    670442572800.0,
    33522128640.0,
    1323241920.0,
    40840800.0,
    960960.0,
    16380.0,
    182.0,
    1.0,
)
_THETA13 = 5.371920351148152

HORIZON = 16.0  # beats searched ahead before a checkpoint event re-bases the group
MAX_STEP = 1 / 32  # beats between samples of the exact solution
TOL = 1e-10  # bisection stops below this width (beats)


def expm(a: np.ndarray) -> np.ndarray:
    """``e^a`` by scaling and squaring with a Padé 13 approximant (Higham 2005)."""
    n = a.shape[0]
    norm = float(np.abs(a).sum(axis=0).max()) if n else 0.0
    s = 0
    if norm > _THETA13:
        s = max(0, int(math.ceil(math.log2(norm / _THETA13))))
        a = a / (2.0**s)
    b = _B
    ident = np.eye(n)
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (
        a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2)
        + b[7] * a6
        + b[5] * a4
        + b[3] * a2
        + b[1] * ident
    )
    v = (
        a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2)
        + b[6] * a6
        + b[4] * a4
        + b[2] * a2
        + b[0] * ident
    )
    r = np.linalg.solve(v - u, v + u)
    for _ in range(s):
        r = r @ r
    return r


class Group:
    """State of one ``cont`` component: members, exact state at ``t0``, member modes.

    ``members`` are neuron objects (with ``thr``, ``rate``, ``leak``, ``floor``,
    ``refr_end``); ``coupling`` maps (dst_index, src_index) to the summed weight.
    """

    __slots__ = (
        "members",
        "index",
        "t0",
        "z",
        "mode",
        "ver",
        "alive",
        "_full",
        "_aug",
        "thr",
        "floor",
    )

    def __init__(
        self, members: list, coupling: dict, t0: float, x: list[float], mode: list[int]
    ) -> None:
        self.members = members
        self.index = {id(n): i for i, n in enumerate(members)}
        k = len(members)
        full = np.zeros((k + 1, k + 1))
        for i, n in enumerate(members):
            full[i, i] = -n.leak
            full[i, k] = n.rate
        for (i, j), w in coupling.items():
            full[i, j] += w
        self._full = full
        self.thr = np.array([n.thr for n in members])
        self.floor = np.array([n.floor for n in members])
        self.t0 = t0
        self.z = np.array(list(x) + [1.0])
        self.mode = list(mode)
        self.ver = 0
        self.alive = True
        self._aug: np.ndarray | None = None

    # -- exact state -----------------------------------------------------------------
    def matrix(self) -> np.ndarray:
        """The augmented matrix with refractory and held rows zeroed (they do not move)."""
        if self._aug is None:
            aug = self._full.copy()
            for i, m in enumerate(self.mode):
                if m != NORMAL:
                    aug[i, :] = 0.0
            self._aug = aug
        return self._aug

    def state_at(self, t: float) -> np.ndarray:
        dt = t - self.t0
        if dt <= 0.0:
            return self.z
        return expm(self.matrix() * dt) @ self.z

    def rebase(self, t: float) -> None:
        """Move the stored state to time ``t`` (no-op if already there or earlier)."""
        if t > self.t0:
            self.z = self.state_at(t)
            self.t0 = t

    def value(self, i: int, t: float) -> float:
        return float(self.state_at(t)[i])

    def set_value(self, i: int, a: float) -> None:
        self.z = self.z.copy()
        self.z[i] = a

    def set_mode(self, i: int, m: int) -> None:
        if self.mode[i] != m:
            self.mode[i] = m
            self._aug = None

    def derivative(self, z: np.ndarray) -> np.ndarray:
        """Unconstrained da/dt of every member (what a held member would do if let go)."""
        return self._full[:-1] @ z

    # -- events ----------------------------------------------------------------------
    def _pred(self, z: np.ndarray) -> bool:
        k = len(self.mode)
        x = z[:k]
        deriv = None
        for i, m in enumerate(self.mode):
            if m == NORMAL:
                if x[i] >= self.thr[i] or x[i] < self.floor[i]:
                    return True
            elif m == HELD:
                if deriv is None:
                    deriv = self.derivative(z)
                if deriv[i] > 0.0:
                    return True
        return False

    def update_modes(self, t: float, tol: float = 1e-9) -> list[int]:
        """At the group's own time: end refractory periods, hold/release at the floor.

        Returns the indices of normal members at or above threshold (they fire now).
        """
        k = len(self.mode)
        for i, n in enumerate(self.members):
            if self.mode[i] == REFRACTORY and n.refr_end <= t + tol:
                self.set_mode(i, NORMAL)
        deriv = self.derivative(self.z)
        for i in range(k):
            m = self.mode[i]
            if m == NORMAL and self.z[i] < self.floor[i] + tol and deriv[i] <= 0.0:
                self.set_value(i, float(self.floor[i]))
                self.set_mode(i, HELD)
            elif m == HELD and deriv[i] > 0.0:
                self.set_mode(i, NORMAL)
        return [
            i
            for i in range(k)
            if self.mode[i] == NORMAL and self.z[i] >= self.thr[i] - tol * max(1.0, self.thr[i])
        ]

    def next_event(self, include_now: bool = False) -> float:
        """Beat of the next event after ``t0`` (or at ``t0`` if ``include_now``)."""
        t0 = self.t0
        if include_now and self._pred(self.z):
            return t0
        t_refr = math.inf
        for i, n in enumerate(self.members):
            if self.mode[i] == REFRACTORY and n.refr_end < t_refr:
                t_refr = n.refr_end
        limit = min(t_refr, t0 + HORIZON)
        a = self.matrix()
        norm = float(np.abs(a[:-1, :-1]).sum(axis=1).max()) if len(self.mode) else 0.0
        h = MAX_STEP if norm <= 0.0 else min(MAX_STEP, 0.25 / norm)
        step = expm(a * h)
        z = self.z
        j = 0
        t_prev = t0
        while t_prev < limit:
            j += 1
            t = t0 + j * h
            if t >= limit:
                t = limit
                z = self.state_at(t)
            else:
                z = step @ z
            if self._pred(z):
                return self._bisect(t_prev, t)
            t_prev = t
        return limit

    def _bisect(self, lo: float, hi: float) -> float:
        z0, t0, a = self.z, self.t0, self.matrix()
        while hi - lo > TOL:
            mid = 0.5 * (lo + hi)
            if mid <= lo or mid >= hi:
                break
            if self._pred(expm(a * (mid - t0)) @ z0):
                hi = mid
            else:
                lo = mid
        return hi
