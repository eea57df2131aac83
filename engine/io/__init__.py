"""engine.io."""
