"""engine.model.network."""
