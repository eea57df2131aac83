"""livecode.language."""
