"""The network model: pure (no I/O, no clock, no threads).

- :mod:`~engine.model.params`: the parameter table and its checks;
- :mod:`~engine.model.ops`: patch operations, each with its check and its effects;
- :mod:`~engine.model.state`: the network's structure and its one snapshot/ops translation;
- :mod:`~engine.model.network`: the exact event-driven simulation;
- :mod:`~engine.model.neuron`, :mod:`~engine.model.linear`, :mod:`~engine.model.groups`,
  :mod:`~engine.model.schedule`, :mod:`~engine.model.listening`, :mod:`~engine.model.snapshot`,
  :mod:`~engine.model.mapping`: its parts.
"""

from __future__ import annotations

from engine.errors import ModelError, UnknownNeuron
from engine.model.network import Network
from engine.model.state import NetState, snapshot_ops

__all__ = ["Network", "NetState", "ModelError", "UnknownNeuron", "snapshot_ops"]
