"""engine.record."""
