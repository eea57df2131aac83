"""The REPL: a prompt_toolkit prompt that live-codes the running engine.

Keys (also on the toolbar and in ``help()``):

- Enter runs the block when it is complete, and continues it when it is not (an open
  bracket, a ``for``/``if`` waiting for its body, a trailing backslash); a ``for`` or
  ``if`` block ends with an empty line, as in Python. In the middle of a multi-line
  block Enter opens a new line.
- Alt-Enter (Esc then Enter) runs the whole buffer, complete or not.
- F12, or Alt-P (Esc then p), is the panic key: all notes off at once.
- Ctrl-C clears the input; Ctrl-D on an empty line, or ``quit()``, leaves with every
  note off.
- Tab completes functions, neuron names and parameters; a grey suggestion from the
  history is taken with the right arrow (or Ctrl-E).
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
import time
from typing import Any

from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.history import FileHistory, History
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.lexers import PygmentsLexer
from prompt_toolkit.patch_stdout import patch_stdout
from prompt_toolkit.styles import Style

from engine.runtime.process import EngineHandle, EngineOptions
from livecode.language.interpreter import Interpreter
from livecode.language.sessionfile import file_reader
from livecode.repl.completion import LivecodeCompleter
from livecode.repl.faults import Faults
from livecode.repl.lexer import LivecodeLexer
from livecode.repl.live import LiveSession
from livecode.repl.toolbar import Monitor
from livecode.repl.watch import FileWatcher

__all__ = [
    "run_repl",
    "make_prompt",
    "repl_loop",
    "is_complete",
    "history_path",
    "PROMPT",
    "CONTINUATION",
]

PROMPT = "lc> "
CONTINUATION = "... "
HISTORY_ENV = "LIVECODE_HISTORY"
BANNER = (
    "livecode: type the language, Enter runs a block. help() explains it, ls() "
    "lists the network.\n          F12 or Alt-P: panic (all notes off). Ctrl-D or "
    "quit(): leave."
)

STYLE = Style.from_dict(
    {
        "bottom-toolbar": "noreverse bg:#202020 #c0c0c0",
        "toolbar.activity": "#80d080",
        "toolbar.keys": "#808080",
    }
)

# SyntaxError messages that mean "keep typing", not "this is wrong".
_INCOMPLETE = (
    "was never closed",
    "unexpected EOF",
    "expected an indented block",
    "unterminated triple-quoted string",
)


def history_path() -> str:
    """``$LIVECODE_HISTORY``, or ``~/.livecode_history``."""
    return os.path.expanduser(os.environ.get(HISTORY_ENV) or "~/.livecode_history")


def is_complete(text: str) -> bool:
    """Whether Enter at the end of ``text`` should run it (only parses; runs nothing)."""
    if not text.strip():
        return True
    if text.rstrip(" \t").endswith("\\"):
        return False
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        return not any(m in str(exc.msg) for m in _INCOMPLETE)
    except (ValueError, RecursionError, MemoryError):
        return True  # too deep for the parser: run it, and the interpreter says why
    compound = any(isinstance(s, (ast.For, ast.If)) for s in tree.body)
    return not compound or not text.split("\n")[-1].strip()


def _indent_for(text: str) -> str:
    """The indentation a new line continuing ``text`` starts with."""
    last = text.split("\n")[-1]
    indent = last[: len(last) - len(last.lstrip())]
    return indent + "    " if last.rstrip().endswith(":") else indent


def _bindings(live: LiveSession) -> KeyBindings:
    kb = KeyBindings()

    @kb.add("enter")
    def _enter(event: KeyPressEvent) -> None:
        buf = event.current_buffer
        state = buf.complete_state
        if state is not None and state.current_completion is not None:
            buf.apply_completion(state.current_completion)
            return
        at_end = not buf.document.text_after_cursor.strip()
        if at_end and is_complete(buf.text):
            buf.validate_and_handle()
        else:
            buf.insert_text("\n" + _indent_for(buf.document.text_before_cursor))

    @kb.add("escape", "enter")
    def _run_all(event: KeyPressEvent) -> None:
        event.current_buffer.validate_and_handle()

    @kb.add("f12")
    @kb.add("escape", "p")
    def _panic(event: KeyPressEvent) -> None:
        live.panic()

    return kb


def make_prompt(
    live: LiveSession, monitor: Monitor | None = None, history: History | None = None, **kwargs: Any
) -> PromptSession:
    """The prompt session (pass ``input=``/``output=`` in tests)."""
    toolbar = monitor.toolbar if monitor is not None else None
    return PromptSession(
        PROMPT,
        multiline=True,
        prompt_continuation=CONTINUATION,
        key_bindings=_bindings(live),
        lexer=PygmentsLexer(LivecodeLexer),
        completer=LivecodeCompleter(live.interpreter, monitor.faults if monitor else None),
        complete_while_typing=True,
        auto_suggest=AutoSuggestFromHistory(),
        history=history,
        bottom_toolbar=toolbar,
        refresh_interval=0.25 if toolbar else 0,
        style=STYLE,
        enable_history_search=False,
        **kwargs,
    )


def repl_loop(live: LiveSession, session: PromptSession) -> None:
    """Read and run blocks until Ctrl-D or ``quit()``; Ctrl-C clears the line."""
    faults = Faults(live.refused)
    failed = False
    while True:
        try:
            text = session.prompt()
        except KeyboardInterrupt:
            continue
        except EOFError:
            return
        except Exception as exc:  # noqa: BLE001 - the last barrier: leaving would stop the music
            faults("in the prompt", exc, "the typed text is lost; the engine plays on")
            if failed:
                time.sleep(1.0)  # a prompt that fails at once, again: do not spin
            failed = True
            continue
        failed = False
        try:
            if live.submit(text.rstrip()):
                return
        except KeyboardInterrupt:  # Ctrl-C while a block ran: the REPL and the music go on
            live.say("interrupted")


def _say(text: str) -> None:
    print(text, flush=True)


def run_repl(args: argparse.Namespace, options: EngineOptions) -> int:
    """``livecode [SESSION] [--watch]``: start the engine, then read blocks until quit."""
    if args.watch and not args.session:
        print("livecode: --watch needs a SESSION file to watch", file=sys.stderr)
        return 2
    monitor = Monitor(_say, osc_port=options.osc_port)
    interp = Interpreter(
        read_file=file_reader(os.getcwd()), activations=monitor.activations, drawn=monitor.drawn
    )
    live = LiveSession(interp, None, _say, refused=monitor.refused, accepted=monitor.accepted)
    if options.record:
        live.recording_from_start(options.record)
    watcher = None
    if args.watch:  # made before the first read: a save from then on is applied
        watcher = FileWatcher(
            args.session, lambda text: live.apply_file(text, args.session), on_error=monitor.refused
        )
    initial = live.load_initial(args.session) if args.session else None
    handle = EngineHandle(options, monitor.on_message, initial=initial)
    live.engine = monitor.engine = handle
    session = make_prompt(live, monitor, history=FileHistory(history_path()))
    print(BANNER, flush=True)
    with patch_stdout(raw=True):
        handle.start()
        try:
            if watcher is not None:
                watcher.start()
            repl_loop(live, session)
        finally:
            if watcher is not None:
                watcher.stop()
            print("livecode: stopping the engine, all notes off", flush=True)
            handle.stop()
    return 0
