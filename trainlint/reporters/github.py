"""GitHub Actions workflow commands: one annotation per finding, shown on the pull request::

    ::warning file=train.py,line=12,col=1,endLine=12,endColumn=4,title=TL401 unscheduled-learning-rate::message

Severity maps to error / warning / notice. Values are escaped as the runner expects (``%``,
CR and LF everywhere; ``:`` and ``,`` as well inside properties), so a path or message cannot
end the command early or forge another one. Paths are relative to ``root`` (in Actions, the
checkout). Notebook lines count within a cell and do not match the file's lines, so a notebook
annotation names the file only and says the cell and line in its message.
"""

from __future__ import annotations

from typing import Any

from trainlint.model import Finding, Report
from trainlint.reporters.common import project_root, rendered_fixes, shown_path

LEVELS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    return str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: Report, **opts: Any) -> str:
    root = project_root(opts)
    return "".join(annotation(f, root) + "\n" for f in report.findings)


def annotation(finding: Finding, root: str) -> str:
    loc = finding.location
    props = {"file": shown_path(loc.path, root)}
    message = finding.message
    if loc.cell is None:
        props.update(line=loc.line, col=loc.col)
        if loc.end_line is not None:
            props["endLine"] = loc.end_line
        if loc.end_col is not None and loc.end_line in (None, loc.line):
            props["endColumn"] = loc.end_col
    else:
        message = f"cell {loc.cell}, line {loc.line}: {message}"
    props["title"] = f"{finding.code} {finding.name}"
    fixes = rendered_fixes(finding)
    if fixes:
        message += f"\n\nFix: {fixes[0].title} ({fixes[0].technique_id})"
    head = ",".join(f"{key}={escape_property(str(value))}" for key, value in props.items())
    return f"::{LEVELS[finding.severity.value]} {head}::{escape_data(message)}"
