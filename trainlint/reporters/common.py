"""What the text reporters share: paths relative to the project root, fixes rendered without
failing the report, JSON-safe values, source lines for excerpts, and ANSI styling.

Nothing here imports torch, jinja2 or the user's code: these reporters run on the static path.
"""

from __future__ import annotations

import math
import os
from typing import Any, Callable

from trainlint.catalog import RenderedFix, render
from trainlint.model import Finding, FixRef, Location


def project_root(opts: dict[str, Any]) -> str:
    return os.path.abspath(opts.get("root") or os.getcwd())


def relative_path(path: str, root: str) -> str | None:
    """``path`` relative to ``root`` with forward slashes; None when it lies outside root."""
    full = os.path.abspath(path)
    try:
        rel = os.path.relpath(full, root)
    except ValueError:  # another drive on Windows
        return None
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        return None
    return rel.replace(os.sep, "/")


def shown_path(path: str, root: str) -> str:
    """The path as the user should read it: absolute paths inside the root become relative,
    everything else stays as the engine reported it."""
    if os.path.isabs(path):
        rel = relative_path(path, root)
        if rel is not None:
            return rel
    return path


def shown_location(loc: Location, root: str) -> str:
    return Location(shown_path(loc.path, root), loc.line, loc.col, cell=loc.cell).display()


def one_line(text: str) -> str:
    """A message on a single line, for formats that are one finding per line."""
    return " ".join(str(text).split())


def render_fix(ref: FixRef) -> RenderedFix | None:
    """The rendered fix, or None when the finding points at a technique the catalog lacks
    (a rule's bug that must not cost the user the rest of the report)."""
    try:
        return render(ref)
    except KeyError:
        return None


def rendered_fixes(finding: Finding) -> list[RenderedFix]:
    return [fix for fix in (render_fix(ref) for ref in finding.fixes) if fix is not None]


def json_safe(value: Any) -> Any:
    """JSON has no NaN or infinity: they become "nan", "inf", "-inf" as in the trace format;
    keys become strings and tuples lists, so json.dumps(..., allow_nan=False) cannot fail."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


class SourceLines:
    """The text of the line a Location points at, read from disk once per file.

    Relative paths are read from ``root``; a notebook location reads its cell. Returns None
    when the file is not on disk or cannot be read, so the excerpt is left out.
    """

    def __init__(self, root: str):
        self.root = root
        self.cache: dict[tuple[str, int | None], list[str] | None] = {}

    def __call__(self, loc: Location) -> str | None:
        key = (loc.path, loc.cell)
        if key not in self.cache:
            self.cache[key] = self._load(loc.path, loc.cell)
        lines = self.cache[key]
        if lines is None or not 1 <= loc.line <= len(lines):
            return None
        return lines[loc.line - 1]

    def _load(self, path: str, cell: int | None) -> list[str] | None:
        from trainlint.static.source import SourceError, read_source

        full = path if os.path.isabs(path) else os.path.join(self.root, path)
        if not os.path.isfile(full):
            return None
        try:
            source = read_source(full)
        except SourceError:
            return None
        if cell is None:
            return source.text.splitlines()
        if not 1 <= cell <= len(source.cells):
            return None
        return source.cells[cell - 1].splitlines()


LineReader = Callable[[Location], "str | None"]


def line_reader(opts: dict[str, Any]) -> LineReader:
    """The caller's ``source_lines`` callable, else lines read from disk under the root."""
    given = opts.get("source_lines")
    return given if callable(given) else SourceLines(project_root(opts))


# ANSI styles, as ruff colours its output; only used when the caller passes color=True.
BOLD, RED, YELLOW, BLUE, CYAN, DIM = "1", "31", "33", "34", "36", "2"
SEVERITY_COLOR = {"error": RED, "warning": YELLOW, "info": BLUE}


def styler(enabled: bool) -> Callable[..., str]:
    def style(text: str, *codes: str) -> str:
        if not enabled or not codes:
            return text
        return f"\x1b[{';'.join(codes)}m{text}\x1b[0m"

    return style
