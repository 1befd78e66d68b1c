"""Each finding with its source excerpt and its first fix, as ruff's full format::

    train.py:12:1: TL401 optimizer `opt` (Adam, lr=0.001) is stepped for 30 epochs at a constant rate
       |
    11 | model = Net()
    12 | opt = optim.Adam(model.parameters(), lr=1e-3)
       | ^^^ TL401
    13 | for epoch in range(30):
       |
       = warning: unscheduled-learning-rate (static)
       = fix: Step decay with StepLR (step-lr)
         from torch.optim.lr_scheduler import StepLR
         ...

The excerpt is left out when the line cannot be read (a file not on disk, a recorded trace).
"""

from __future__ import annotations

from typing import Any

from trainlint.model import Finding, Location, Report
from trainlint.reporters.common import (
    BOLD,
    BLUE,
    CYAN,
    DIM,
    SEVERITY_COLOR,
    LineReader,
    line_reader,
    one_line,
    project_root,
    rendered_fixes,
    shown_location,
    styler,
)

# Lines of context shown above and below the reported line.
CONTEXT = 1
TAB = 4


def render(report: Report, **opts: Any) -> str:
    root = project_root(opts)
    read = line_reader(opts)
    style = styler(bool(opts.get("color")))
    show_fixes = opts.get("show_fixes", True)
    blocks = [block(f, root, read, style, show_fixes) for f in report.findings]
    return "\n".join(blocks)


def block(finding: Finding, root: str, read: LineReader, style, show_fixes: bool) -> str:
    loc = finding.location
    color = SEVERITY_COLOR[finding.severity.value]
    head = (
        f"{style(shown_location(loc, root), BOLD)}{style(':', CYAN)} "
        f"{style(finding.code, BOLD, color)} {one_line(finding.message)}"
    )
    lines = [head]
    numbered = excerpt(loc, read)
    width = max((len(str(n)) for n, _ in numbered), default=1)
    gutter = style(" " * width + " |", BLUE)
    if numbered:
        lines.append(gutter)
        for number, text in numbered:
            lines.append(f"{style(str(number).rjust(width) + ' |', BLUE)} {text.expandtabs(TAB)}")
            if number == loc.line:
                lines.append(f"{gutter} {caret_line(text, loc, style, color)} {style(finding.code, color)}")
        lines.append(gutter)
    pad = " " * (width + 1)
    sources = " + ".join(finding.sources)
    lines.append(f"{pad}{style('=', BLUE)} {style(finding.severity.value, BOLD, color)}: {finding.name} ({sources})")
    fixes = rendered_fixes(finding) if show_fixes else []
    if fixes:
        first = fixes[0]
        lines.append(f"{pad}{style('=', BLUE)} {style('fix', BOLD)}: {first.title} ({first.technique_id})")
        lines += [f"{pad}  {code_line}".rstrip() for code_line in first.code.rstrip("\n").splitlines()]
        for other in fixes[1:]:
            lines.append(f"{pad}{style('=', BLUE)} {style('also', DIM)}: {other.title} ({other.technique_id})")
    return "\n".join(lines) + "\n"


def excerpt(loc: Location, read: LineReader) -> list[tuple[int, str]]:
    """(line number, text) for the reported line and its context; [] when it cannot be read."""
    if read(loc) is None:
        return []
    numbered = []
    for number in range(max(1, loc.line - CONTEXT), loc.line + CONTEXT + 1):
        text = read(Location(loc.path, number, 1, cell=loc.cell))
        if text is None:
            continue
        numbered.append((number, text.rstrip("\r\n")))
    return numbered


def caret_line(text: str, loc: Location, style, color: str) -> str:
    """Spaces up to the column, then ^ under the reported span (to the line's end when the
    span goes on past this line). Columns count characters of the raw line, so the offsets
    are measured on the raw text and then on its tab-expanded form."""
    start = min(max(loc.col, 1), len(text) + 1)
    if loc.end_line == loc.line and loc.end_col and loc.end_col > start:
        end = min(loc.end_col, len(text) + 1)
    elif loc.end_line and loc.end_line > loc.line:
        end = max(len(text.rstrip()) + 1, start + 1)
    else:
        end = start + 1
    left = len(text[: start - 1].expandtabs(TAB))
    right = len(text[: end - 1].expandtabs(TAB))
    return " " * left + style("^" * max(1, right - left), BOLD, color)
