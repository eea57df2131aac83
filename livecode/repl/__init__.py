"""livecode.repl.prompt."""
