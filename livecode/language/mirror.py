"""The performer-side picture of the network is the model's own structure, kept in step by
the same ops and the same rules as the engine's (:class:`engine.model.state.NetState`).

The interpreter reads parameters from it (``n1.rate *= 2``), ``ls()`` lists it,
``session_text`` writes it out, and the REPL rebuilds an engine from it.
"""

from __future__ import annotations

from engine.model.state import NetState as Mirror
from engine.protocol import default_params

__all__ = ["Mirror", "default_params"]
