"""The per-block budget: the :class:`Limits` every block is held to, and the
:class:`Budget` that charges what a block causes against them.

One budget, charged everywhere: the whitelist charges each node it checks, the evaluator
each step and each parse (loaded files included, each time), the operators and the
builtins the items they walk in C (comparisons walk whole trees), and a thread-CPU clock
bounds the sum of the many small steps. A block over any limit is refused whole.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from livecode.language.errors import LimitExceeded

__all__ = ["Limits", "Budget", "Neuronish", "STR_UNIT"]


class Neuronish:
    """A value that stands for a neuron (made or to be made); binding looks for these."""

    __slots__ = ()


@dataclass(frozen=True)
class Limits:
    """Per-block bounds; every block is refused whole when it would pass one."""

    iterations: int = 10_000  # loop and comprehension steps, ranges, builtin scans
    nodes: int = 300_000  # syntax-tree nodes visited
    work: int = 20_000_000  # items touched by builtins (sorted, sum, in, ==...)
    cells: int = 2_000_000  # list/tuple/dict items and string characters built
    items: int = 100_000  # largest single list/tuple/dict
    chars: int = 100_000  # longest single string
    int_bits: int = 4096  # largest integer magnitude, in bits
    tree: int = 1_000_000  # items reachable from one value, counting shared ones each time
    depth: int = 100  # deepest nesting of containers shown or named
    load_depth: int = 8  # load() inside load()
    nesting: int = 100  # syntax nested inside syntax (checked before anything runs)
    source: int = 200_000  # characters parsed: the block and every file it loads
    seconds: float = 0.5  # CPU time the interpreter may spend on one block


# Characters of a string that cost as much as one item when C code compares them.
STR_UNIT = 256


@dataclass
class Budget:
    """What one block has used so far of its :class:`Limits`."""

    limits: Limits = field(default_factory=Limits)
    iterations: int = 0
    nodes: int = 0
    cells: int = 0
    worked: int = 0
    parsed: int = 0
    started: float = field(default_factory=time.thread_time)
    _sizes: dict = field(default_factory=dict, repr=False)

    def parse(self, n: int, filename: str) -> None:
        """Account for ``n`` characters of source about to be parsed and checked.

        Charged for the block and for every file it loads, each time: `load()` in a loop
        or a file that loads itself pays for every parse.
        """
        self.parsed += n
        if self.parsed > self.limits.source:
            raise LimitExceeded(
                f"a block may parse at most {self.limits.source:,} characters, counting "
                f"the files it loads (each time); {filename} brings it to {self.parsed:,}"
            )

    def cost(self, value: object) -> int:
        """The work of walking ``value`` in C (``==``, ``in``, hashing): its tree size."""
        if isinstance(value, str):
            return 1 + len(value) // STR_UNIT
        return self.track(value)

    def track(self, value: object) -> int:
        """The tree size of ``value``, refused over ``limits.tree``.

        A list holding the same list 21 times, 20 levels deep, is small in memory but
        exponential for anything that walks it (``==`` in C cannot be interrupted), so
        every container a block makes is measured as a tree; the memo keeps it linear.
        """
        return self._measure(value)[0]

    def holds_neurons(self, value: object) -> bool:
        """Whether ``value`` holds a neuron (made or to be made) anywhere inside.

        Binding a value looks for neurons in it, in Python; with this (memoised with the
        tree size) a big list of numbers is looked through once per block, not once per
        assignment.
        """
        return self._measure(value)[1]

    def _measure(self, value: object) -> tuple[int, bool]:
        if isinstance(value, str):
            return 1 + len(value) // STR_UNIT, False
        if not isinstance(value, (list, tuple, dict)):
            return 1, isinstance(value, Neuronish)
        hit = self._sizes.get(id(value))
        if hit is not None and hit[0] is value:
            return hit[1], hit[2]
        total, holds = 1, False
        items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
        for item in items:
            size, has = self._measure(item)
            total += size
            holds = holds or has
            if total > self.limits.tree:
                raise LimitExceeded(
                    f"a value may hold at most {self.limits.tree:,} items "
                    f"counting nested ones (shared lists count each time)"
                )
        self._sizes[id(value)] = (value, total, holds)  # holding value keeps its id unique
        return total, holds

    def iterate(self, n: int = 1) -> None:
        self.iterations += n
        if self.iterations > self.limits.iterations:
            raise LimitExceeded(
                f"a block may loop at most {self.limits.iterations:,} times in total "
                f"(loops, comprehensions and ranges together)"
            )

    def visit(self) -> None:
        """One step of checking or evaluating; now and then, the CPU time spent so far.

        The counters bound what C code does in one go (it cannot be stopped); the
        clock bounds the sum of the many small steps, whatever mix of them a block uses.
        Thread CPU time: a busy machine does not make a block look costlier.
        """
        self.nodes += 1
        if self.nodes > self.limits.nodes:
            raise LimitExceeded(f"a block may evaluate at most {self.limits.nodes:,} steps")
        if not self.nodes & 1023 and time.thread_time() - self.started > self.limits.seconds:
            raise LimitExceeded(
                f"a block may compute for at most {self.limits.seconds:g} s; "
                f"this one was stopped after {self.nodes:,} steps"
            )

    def work(self, n: int) -> None:
        """Account for ``n`` item-steps done at C speed inside a builtin or operator."""
        self.worked += n
        if self.worked > self.limits.work:
            raise LimitExceeded(
                f"a block may touch at most {self.limits.work:,} items in builtins and comparisons"
            )

    def build(self, n: int, what: str = "value") -> None:
        """Account for a new container of ``n`` items (or a string of ``n`` characters)."""
        limit = self.limits.chars if what == "string" else self.limits.items
        if n > limit:
            raise LimitExceeded(
                f"a {what} may hold at most {limit:,} "
                f"{'characters' if what == 'string' else 'items'}, got {n:,}"
            )
        self.cells += n
        if self.cells > self.limits.cells:
            raise LimitExceeded(f"a block may build at most {self.limits.cells:,} items in total")

    def check_int(self, value: object) -> object:
        if isinstance(value, int) and value.bit_length() > self.limits.int_bits:
            raise LimitExceeded(f"integers are limited to {self.limits.int_bits} bits")
        return value
