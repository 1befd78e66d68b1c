"""Reporters turn a Report into text; they only render, never judge.

``render(report, fmt, **opts) -> str`` looks the format up in ``FORMATS`` and imports its module
only then, so ``trainlint check`` with the default format never loads jinja2 or json schemas.
Each format module has ``render(report, **opts) -> str``.

Options (a format ignores the ones it has no use for):

- ``root``: the project root; SARIF and GitHub paths are relative to it, and absolute paths
  under it are shown relative in the other formats (default: the current directory).
- ``color``: ANSI colours in ``concise`` and ``full`` (default False).
- ``show_fixes``: include the rendered fixes (``full``, ``json``, ``sarif``; default True).
- ``source_lines``: ``callable(Location) -> str | None`` giving the text of a line, for the
  excerpts of ``full``; by default files are read from disk under ``root``.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

from trainlint.model import Report

# name -> module path (imported on first use) or a callable ``render(report, **opts)``.
FORMATS: dict[str, str | Callable[..., str]] = {
    "concise": "trainlint.reporters.concise",
    "full": "trainlint.reporters.full",
    "json": "trainlint.reporters.json_",
    "github": "trainlint.reporters.github",
    "sarif": "trainlint.reporters.sarif",
    "html": "trainlint.reporters.html",
}


def render(report: Report, fmt: str, **opts: Any) -> str:
    try:
        entry = FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown output format {fmt!r}; choose one of: {', '.join(FORMATS)}") from None
    if callable(entry):
        return entry(report, **opts)
    return importlib.import_module(entry).render(report, **opts)
