"""``path:line:col: TL### message``, one finding per line, as ruff's concise format.

Notebook findings read ``path:cell N:line:col: ...``. The summary line is the CLI's.
"""

from __future__ import annotations

from typing import Any

from trainlint.model import Finding, Report
from trainlint.reporters.common import BOLD, CYAN, SEVERITY_COLOR, one_line, project_root, shown_location, styler


def render(report: Report, **opts: Any) -> str:
    root = project_root(opts)
    style = styler(bool(opts.get("color")))
    return "".join(line(finding, root, style) + "\n" for finding in report.findings)


def line(finding: Finding, root: str, style) -> str:
    where = shown_location(finding.location, root)
    code = style(finding.code, BOLD, SEVERITY_COLOR[finding.severity.value])
    return f"{style(where, BOLD)}{style(':', CYAN)} {code} {one_line(finding.message)}"
