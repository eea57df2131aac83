"""Fixtures for the engine's tests."""

from __future__ import annotations

import pytest

from tests.engine.osc_rig import OscRig


@pytest.fixture
def rig(tmp_path):
    """A running engine (no MIDI) with OSC on a free UDP port; stopped afterwards."""
    r = OscRig(tmp_path)
    try:
        yield r
    finally:
        r.close()
