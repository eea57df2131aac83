"""The livecode language: Python syntax, interpreted by a whitelist, producing patch ops.

    >>> interp = Interpreter()
    >>> result = interp.run("n1 = neuron(36, thr=1.2); n2 = neuron('D3'); n1 >> n2 @ -0.4")
    >>> [type(op).__name__ for op in result.ops]
    ['DefineNeuron', 'DefineNeuron', 'Connect']

A block is atomic: it runs against copies of the variables and the mirror, and they
replace the originals only when the whole block succeeded. A block with any error raises
a :class:`~livecode.language.errors.LivecodeError` and changes nothing.

Neuron names: a neuron takes the name of the variable it is bound to (``n1``). New
neurons inside a list bound to ``hats`` are named ``hats_0``, ``hats_1``, ...; nested
lists add indices (``grid_0_1``) and dicts add their key (``kit_kick``). Binding a
shorter list to ``hats`` later removes the members it no longer holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from livecode.language.commands import FUNCTIONS
from livecode.language.errors import InternalError, Interrupted, LivecodeError, printable
from livecode.language.evaluator import Evaluator
from livecode.language.hints import block_notes
from livecode.language.mirror import Mirror
from livecode.language.values import Limits, NeuronRef

__all__ = ["Interpreter", "Result", "FUNCTIONS"]


@dataclass
class Result:
    """What one block produced: ops for one ``protocol.Batch``, text to show, host requests."""

    ops: tuple = ()
    output: list[str] = field(default_factory=list)
    actions: list[tuple] = field(default_factory=list)


class Interpreter:
    """Runs blocks of the language; keeps the variables and the :class:`Mirror` between them.

    ``read_file(path) -> str`` serves ``load(path)`` (without it ``load`` is refused);
    ``activations() -> {name: float}`` adds live activations to ``ls()``, and
    ``drawn() -> {"name.param": text}`` what the engine's processes learned.
    """

    def __init__(
        self,
        read_file: Callable[[str], str] | None = None,
        activations: Callable[[], dict] | None = None,
        limits: Limits | None = None,
        drawn: Callable[[], dict] | None = None,
    ) -> None:
        self.read_file = read_file
        self.activations = activations
        self.drawn = drawn
        self.limits = limits or Limits()
        self.mirror = Mirror()
        self._variables: dict = {}

    def run(self, source: str, filename: str = "<repl>", typed: bool | None = None) -> Result:
        """Run ``source`` as one block; raises ``LivecodeError`` and changes nothing on error.

        ``typed``: the performer typed it at the prompt (default: ``filename`` is
        ``"<repl>"``). Text from a file may not write files or quit (see ``commands``).
        Ctrl-C during a block is a refusal like any other: the block changes nothing.
        """
        ev = Evaluator(
            dict(self._variables),
            self.mirror.copy(),
            FUNCTIONS,
            read_file=self.read_file,
            activations=self.activations,
            limits=self.limits,
            drawn=self.drawn,
            typed=filename == "<repl>" if typed is None else typed,
        )
        try:
            ev.run_source(source, filename)
        except KeyboardInterrupt:
            raise Interrupted(
                "interrupted (Ctrl-C): the block changed nothing", filename=filename
            ) from None
        except LivecodeError:
            raise
        except Exception as exc:  # noqa: BLE001 - the evaluator's fault barrier
            # the block ran on copies: dropping them leaves variables and mirror as they were
            err = InternalError.caught(f"in the evaluator, running {_which(source, filename)}", exc)
            err.filename = filename
            raise err from None
        self._variables, self.mirror = ev.variables, ev.mirror
        notes = block_notes(ev.ops, ev.mirror)
        return Result(tuple(ev.ops), [printable(line) for line in ev.output + notes], ev.actions)

    @property
    def variables(self) -> dict:
        """A copy of the variables bound now (values are the language's values)."""
        return dict(self._variables)

    def names(self) -> list[str]:
        """Variable names bound now, in binding order (for completion)."""
        return list(self._variables)

    @staticmethod
    def function_names() -> list[str]:
        """The language's functions (for completion and highlighting)."""
        return list(FUNCTIONS)

    def neuron_names(self) -> list[str]:
        """The neurons in the network, in creation order."""
        return list(self.mirror.neurons)

    def reset(self) -> None:
        """Forget every variable and the network picture (a fresh session)."""
        self.mirror = Mirror()
        self._variables = {}

    def state(self) -> tuple[Mirror, dict]:
        """The network picture and variables now; :meth:`adopt` it to undo later blocks.

        ``run`` replaces both rather than changing them, so the pair stays valid.
        """
        return self.mirror, self._variables

    def adopt(self, mirror: Mirror, variables: dict) -> None:
        """Take ``mirror`` and ``variables`` as this interpreter's own (undo, or a host
        that re-applied a session file and knows the network is now ``mirror``)."""
        self.mirror, self._variables = mirror, dict(variables)

    def bound_neurons(self) -> dict[str, str]:
        """Variables that name a neuron directly: ``{variable: neuron name}``."""
        return {k: v.name for k, v in self._variables.items() if isinstance(v, NeuronRef)}


def _which(source: str, filename: str) -> str:
    """The block, named by its file or (typed at the REPL) by its first line."""
    if filename != "<repl>":
        return filename
    first = next((line.strip() for line in source.splitlines() if line.strip()), "")
    return f"the block `{first[:40]}{'...' if len(first) > 40 else ''}`"
