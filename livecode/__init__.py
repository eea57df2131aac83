"""The performer's side of livecode: language interpreter, REPL, command line, sessions."""

__version__ = "0.1.0"
