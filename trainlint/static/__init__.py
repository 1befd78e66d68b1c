"""Static analysis: one ast pass per file into FileFacts. Never imports torch or user code."""

from __future__ import annotations

import ast
import os
import warnings

from trainlint.static.facts import MISSING, ClassInfo, Event, FileFacts, LoopCtx, Obj, ParseError
from trainlint.static.source import SourceError, read_source
from trainlint.static.walker import Walker

__all__ = [
    "MISSING", "ClassInfo", "Event", "FileFacts", "LoopCtx", "Obj", "ParseError",
    "analyze_path", "analyze_source",
]


def analyze_path(path: str, display_path: str | None = None) -> FileFacts:
    """Facts of the file at ``path``; a file that cannot be read or parsed yields facts whose
    ``parse_error`` says why (the rule TL901 reports it)."""
    shown = display_path or path
    if not os.path.exists(path):
        return FileFacts(path=shown, parse_error=ParseError("file does not exist"))
    if os.path.isdir(path):
        return FileFacts(path=shown, parse_error=ParseError("is a directory, not a file"))
    try:
        source = read_source(path)
    except SourceError as exc:
        return FileFacts(path=shown, parse_error=ParseError(str(exc), exc.line))
    facts = analyze_source(source.text, shown)
    facts.line_map = source.line_map
    if facts.parse_error is not None and source.line_map:
        # Point the syntax error at its cell.
        n = min(max(facts.parse_error.line, 1), len(source.line_map))
        facts.parse_error.line = n
    return facts


def analyze_source(text: str, path: str = "<string>") -> FileFacts:
    facts = FileFacts(path=path, text=text)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning for invalid escapes is not ours to show
            tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        msg = exc.msg or "invalid syntax"
        facts.parse_error = ParseError(f"syntax error: {msg}", exc.lineno or 1, exc.offset or 1)
        return facts
    except (RecursionError, MemoryError):
        facts.parse_error = ParseError("expressions nested too deeply for the parser")
        return facts
    except ValueError as exc:  # e.g. source contains NUL bytes
        facts.parse_error = ParseError(f"cannot parse: {exc}")
        return facts
    facts.tree = tree
    try:
        Walker(facts).run(tree)
    except RecursionError:
        # Pathologically deep code: keep what the walk gathered, say what it could not.
        facts.parse_error = ParseError("code nested too deeply to analyse")
    return facts
