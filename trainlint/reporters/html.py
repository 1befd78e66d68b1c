"""The HTML audit report: one self-contained file with inline CSS and inline SVG charts.

As coverage.py does, the report is built in two steps: ``build_view`` turns a Report into plain
view-model objects (every number formatted, every chart drawn, every lookup done), and the
jinja2 templates under ``templates/`` only loop over them. Autoescaping is on, so a path, a
variable name or a message is always shown as text.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import re
from dataclasses import dataclass, field
from typing import Any

import jinja2
from markupsafe import Markup, escape

from trainlint.model import Finding, Location, Report, Severity
from trainlint.reporters import html_trace
from trainlint.reporters.common import (
    LineReader,
    SourceLines,
    json_safe,
    line_reader,
    project_root,
    shown_location,
    shown_path,
)
from trainlint.reporters.html_view import Chart, Table, fmt, humanize, num
from trainlint.reporters.svg import Series, finite, line_chart

# Lines shown above and below the offending line in a finding's code excerpt.
EXCERPT_CONTEXT = 3
# Evidence lists at least this long are drawn as a curve instead of printed.
CURVE_MIN_POINTS = 3
# Table rows shown for one evidence table before the rest is summarised.
MAX_TABLE_ROWS = 40

NO_PROBE = "no probe run — run `trainlint check script.py --probe` to see what really happened"


@dataclass
class ExcerptLine:
    number: int
    text: str
    marked: bool


@dataclass
class Excerpt:
    lines: list[ExcerptLine] = field(default_factory=list)
    # Why there is no excerpt (file not on disk, line past the end...), shown instead.
    missing: str | None = None


@dataclass
class Evidence:
    facts: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.facts or self.tables or self.charts)


@dataclass
class Fix:
    technique: str
    title: str
    when: str = ""
    why: str = ""
    code: str = ""
    # Set when the catalog could not render this technique; shown instead of the template.
    problem: str | None = None


@dataclass
class FindingView:
    anchor: str
    code: str
    name: str
    severity: str
    message: Markup
    where: str
    # The same with break opportunities after each "/", for the narrow index column.
    where_breakable: Markup
    excerpt: Excerpt
    evidence: Evidence
    fixes: list[Fix]
    why: Markup
    sources: list[str]


@dataclass
class FileRow:
    path: str
    # Findings in this file by severity, most severe first, only the non-zero ones.
    counts: list[tuple[str, int]]


@dataclass
class RuleRow:
    code: str
    name: str
    summary: Markup
    evidence: str
    status: str
    detail: str = ""
    traceback: str = ""


@dataclass
class ReportView:
    title: str
    generated: str
    verdict: str
    verdict_class: str
    verdict_detail: str
    counts: dict[str, int]
    files: list[FileRow]
    rules_run: int
    findings: list[FindingView]
    probe: html_trace.ProbeView | None
    no_probe: Markup
    rules: list[RuleRow]
    check_facts: list[tuple[str, str]]
    data_json: Markup


def render(report: Report, **opts: Any) -> str:
    """The report as one HTML page.

    Uses the shared reporter options ``root``, ``source_lines`` and ``show_fixes`` (see
    ``trainlint.reporters``) and ``title``; ignores the others (``color``...).
    """
    view = build_view(
        report,
        root=project_root(opts),
        read_line=line_reader(opts),
        title=opts.get("title"),
        show_fixes=opts.get("show_fixes", True),
    )
    return _environment().get_template("report.html.j2").render(view=view)


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("trainlint.reporters", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


# -- the view model -------------------------------------------------------------------------


def build_view(report: Report, *, root: str | None = None, read_line: LineReader | None = None,
               title: str | None = None, show_fixes: bool = True, now: _dt.datetime | None = None) -> ReportView:
    rules = _rule_classes()
    root = root or os.getcwd()
    read_line = read_line or SourceLines(root)
    findings = sorted(report.findings, key=lambda f: (f.severity.rank, f.sort_key()))
    counts = report.counts()
    verdict, verdict_class, detail = _verdict(report, counts)
    when = (now or _dt.datetime.now()).astimezone()
    return ReportView(
        title=title or _default_title(report),
        generated=when.strftime("%Y-%m-%d %H:%M %Z").strip(),
        verdict=verdict,
        verdict_class=verdict_class,
        verdict_detail=detail,
        counts=counts,
        files=_file_rows(report, root),
        rules_run=len(report.rules_run),
        findings=[_finding_view(f, i, rules, root, read_line, show_fixes) for i, f in enumerate(findings, start=1)],
        probe=html_trace.probe_view(report.trace) if report.trace else None,
        no_probe=inline_markup(NO_PROBE),
        rules=_rule_rows(report, rules),
        check_facts=_check_facts(report.run),
        data_json=embedded_json(report.to_dict()),
    )


def _file_rows(report: Report, root: str) -> list[FileRow]:
    """Every checked file with its findings per severity; files with findings first."""
    tally: dict[str, dict[str, int]] = {}
    for f in report.findings:
        per = tally.setdefault(shown_path(f.location.path, root), {})
        per[f.severity.value] = per.get(f.severity.value, 0) + 1
    rows = [FileRow(p, [(s.value, tally.get(p, {})[s.value]) for s in Severity if s.value in tally.get(p, {})])
            for p in (shown_path(path, root) for path in report.files)]
    return sorted(rows, key=lambda r: (not r.counts, r.path))


def _default_title(report: Report) -> str:
    script = (report.trace or {}).get("script")
    if script:
        return f"trainlint audit of {script}"
    if len(report.files) == 1:
        return f"trainlint audit of {report.files[0]}"
    return f"trainlint audit of {len(report.files)} files"


def _verdict(report: Report, counts: dict[str, int]) -> tuple[str, str, str]:
    total = sum(counts.values())
    parts = [f"{counts[s.value]} {s.value}{'' if counts[s.value] == 1 else 's'}" for s in Severity if counts[s.value]]
    detail = ", ".join(parts) if parts else "no findings"
    if report.crashes:
        detail += f"; {len(report.crashes)} rule crash{'es' if len(report.crashes) != 1 else ''}"
    if counts["error"]:
        return "Training is at risk", "verdict-error", detail
    if counts["warning"]:
        return "Needs attention", "verdict-warning", detail
    if total:
        return "Suggestions only", "verdict-info", detail
    return "No problems found", "verdict-clean", detail


CHECK_FACTS = (
    ("trainlint", "trainlint"),
    ("python", "Python (checker)"),
    ("platform", "Platform"),
    ("config", "Configuration"),
    ("paths", "Paths given"),
    ("missing_paths", "Paths not found"),
)


def _check_facts(run: dict[str, Any]) -> list[tuple[str, str]]:
    """How trainlint itself ran, from ``report.run``: known keys in a fixed order, then the rest."""
    known = dict(CHECK_FACTS)
    facts = [(label, fmt(run[key]) if key != "config" else (run[key] or "defaults (no [tool.trainlint] found)"))
             for key, label in CHECK_FACTS if key in run and (run[key] or key == "config")]
    facts += [(humanize(k), fmt(v)) for k, v in run.items() if k not in known and not isinstance(v, dict)]
    return facts


def _rule_classes() -> dict[str, type]:
    """Rule classes by code, for the "why" panel and the rules table."""
    from trainlint.rule import discover

    try:
        return {cls.code: cls for cls in discover()}
    except (ImportError, RuntimeError):
        # A broken rules package must not cost the user the report of what did run.
        return {}


def _finding_view(finding: Finding, index: int, rules: dict[str, type], root: str, read_line: LineReader,
                  show_fixes: bool) -> FindingView:
    rule = rules.get(finding.code)
    why = rule.sections().get("Why is this bad?", "") if rule else ""
    where = shown_location(finding.location, root)
    return FindingView(
        anchor=f"finding-{index}",
        code=finding.code,
        name=finding.name,
        severity=finding.severity.value,
        message=inline_markup(finding.message),
        where=where,
        where_breakable=Markup(str(escape(where)).replace("/", "/<wbr>")),
        excerpt=excerpt(finding.location, root, read_line),
        evidence=evidence_view(finding.evidence),
        fixes=[_fix_view(ref) for ref in finding.fixes] if show_fixes else [],
        why=prose_markup(why),
        sources=list(finding.sources),
    )


def _fix_view(ref) -> Fix:
    from trainlint import catalog

    try:
        rendered = catalog.render(ref)
    except (KeyError, ValueError, LookupError) as exc:
        return Fix(technique=ref.technique, title=ref.technique, problem=f"the fix catalog cannot render it: {exc}")
    return Fix(
        technique=rendered.technique_id,
        title=rendered.title,
        when=rendered.when,
        why=rendered.why,
        code=rendered.code,
    )


def _rule_rows(report: Report, rules: dict[str, type]) -> list[RuleRow]:
    def row(code: str, status: str, detail: str = "", tb: str = "") -> RuleRow:
        cls = rules.get(code)
        return RuleRow(
            code=code,
            name=cls.name if cls else "",
            summary=inline_markup(cls.summary()) if cls else Markup(""),
            evidence=" + ".join(sorted(cls.evidence())) if cls else "",
            status=status,
            detail=detail,
            traceback=tb,
        )

    rows = [row(c.code, "crashed", c.error + (f" (in {c.path})" if c.path else ""), c.traceback) for c in report.crashes]
    rows += [row(s.code, "skipped", s.reason) for s in report.skipped]
    crashed = {c.code for c in report.crashes}
    rows += [row(code, "ran") for code in report.rules_run if code not in crashed]
    order = {"crashed": 0, "skipped": 1, "ran": 2}
    return sorted(rows, key=lambda r: (order[r.status], r.code))


def excerpt(loc: Location, root: str, read_line: LineReader) -> Excerpt:
    """The reported lines with ``EXCERPT_CONTEXT`` lines around them, or why there are none."""
    if read_line(loc) is None:
        full = loc.path if os.path.isabs(loc.path) else os.path.join(root, loc.path)
        if not os.path.isfile(full):
            return Excerpt(missing=f"{loc.path} is not on disk here, so no excerpt is shown")
        return Excerpt(missing=f"line {loc.line} is not in {loc.path} as it is on disk now")
    last = loc.end_line if loc.end_line and loc.end_line >= loc.line else loc.line
    lines = []
    for n in range(max(1, loc.line - EXCERPT_CONTEXT), last + EXCERPT_CONTEXT + 1):
        text = read_line(Location(loc.path, n, cell=loc.cell))
        if text is None:
            break  # past the end of the file
        lines.append(ExcerptLine(n, text, loc.line <= n <= last))
    return Excerpt(lines=lines)


# -- evidence -------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_curve(value: Any) -> bool:
    """A list of numbers (None, NaN and the trace's "nan"/"inf" strings allowed as gaps)."""
    return (
        isinstance(value, list)
        and len(value) >= CURVE_MIN_POINTS
        and all(v is None or num(v) is not None for v in value)
        and any(_is_number(v) for v in value)
    )


def _curve_points(values: list, xs: list | None = None) -> list[tuple[float, float]]:
    """Points of a curve over ``xs``, or over 1, 2, 3... when it has no axis of its own."""
    xs = xs if xs is not None else range(1, len(values) + 1)
    return [(float(num(x) or 0), math.nan if num(v) is None else num(v)) for x, v in zip(xs, values)]


# Evidence keys that hold the x positions of sibling curves rather than a measurement.
AXIS_KEYS = ("epochs", "epoch", "steps", "step")


def _is_counts(key: str, value: Any) -> bool:
    """Per-class counts given as a list (index = class), e.g. ``class_counts: [1430, 170]``."""
    return (
        "count" in key
        and isinstance(value, list)
        and 1 <= len(value) <= MAX_TABLE_ROWS
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    )


def _is_xy(value: Any) -> bool:
    """A downsampled trace curve ``{"x": [...], "y": [...], "n": total}``."""
    return isinstance(value, dict) and isinstance(value.get("x"), list) and _is_curve(value.get("y"))


def evidence_view(evidence: dict[str, Any]) -> Evidence:
    """Evidence as a reader wants it: scalars as facts, counts as tables with bars, records
    as tables, and curves as charts, where sibling curves of one length and one metric (the
    ``train_loss`` and ``val_loss`` of an overfitting gap) share a chart over the ``epochs``
    list when there is one."""
    out = Evidence()
    curves: dict[tuple[int, str], list[tuple[str, list]]] = {}
    axis = next((evidence[k] for k in AXIS_KEYS if _is_curve(evidence.get(k))), None)
    axis_name = next((k for k in AXIS_KEYS if _is_curve(evidence.get(k))), "")
    for key, value in evidence.items():
        title = humanize(key)
        if _is_counts(key, value):
            out.tables.append(_counts_table(title, {str(i): v for i, v in enumerate(value)}))
        elif _is_curve(value) and key != axis_name:
            curves.setdefault((len(value), str(key).rsplit("_", 1)[-1]), []).append((key, value))
        elif _is_xy(value):
            points = [(float(x), math.nan if num(y) is None else num(y)) for x, y in zip(value["x"], value["y"])]
            out.charts.append(Chart(title, line_chart([Series(title, points)], title=title, height=200)))
        elif isinstance(value, dict) and value and all(_is_curve(v) for v in value.values()):
            series = [Series(humanize(k), _curve_points(v)) for k, v in value.items()]
            out.charts.append(Chart(title, line_chart(series, title=title, height=200)))
        elif isinstance(value, dict) and value and all(_is_number(v) for v in value.values()):
            out.tables.append(_counts_table(title, value))
        elif isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            out.tables.append(records_table(title, [{"": k, **v} for k, v in value.items()]))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            out.tables.append(records_table(title, value))
        elif key != axis_name:
            out.facts.append((title, fmt(value)))
    for (length, _), group in curves.items():
        xs = axis if axis is not None and len(axis) == length else None
        series = [Series(humanize(k), _curve_points(v, xs)) for k, v in group]
        title = " vs ".join(humanize(k) for k, _ in group) if len(group) > 1 else humanize(group[0][0])
        x_label = axis_name.rstrip("s") if xs is not None else ""
        out.charts.append(Chart(title, line_chart(series, title=title, x_label=x_label, height=200)))
    return out


def _counts_table(title: str, counts: dict[str, Any]) -> Table:
    total = sum(v for v in counts.values() if finite(v))
    items = list(counts.items())[:MAX_TABLE_ROWS]
    rows = [[str(k), fmt(v)] + ([f"{v / total:.1%}"] if total else []) for k, v in items]
    largest = max((abs(v) for _, v in items if finite(v)), default=0) or 1
    note = f"{len(counts) - MAX_TABLE_ROWS} more not shown" if len(counts) > MAX_TABLE_ROWS else ""
    kind = "count" if all(isinstance(v, int) for _, v in items) else "value"
    header = ["", kind] + (["share"] if total else [])
    return Table(title, header, rows, shares=[abs(v) / largest if finite(v) else 0 for _, v in items], note=note)


def records_table(title: str, records: list[dict[str, Any]]) -> Table:
    header: list[str] = []
    for rec in records:
        header += [k for k in rec if k not in header]
    rows = [[fmt(rec.get(k)) for k in header] for rec in records[:MAX_TABLE_ROWS]]
    note = f"{len(records) - MAX_TABLE_ROWS} more rows not shown" if len(records) > MAX_TABLE_ROWS else ""
    return Table(title, [humanize(h) for h in header], rows, note=note)


# -- text -----------------------------------------------------------------------------------

_CODE_SPAN = re.compile(r"`([^`]+)`")


def inline_markup(text: str) -> Markup:
    """Escaped text with `backticked` spans as <code>: messages quote the user's names that way."""
    escaped = str(escape(text))
    return Markup(_CODE_SPAN.sub(lambda m: f"<code>{m.group(1)}</code>", escaped))


def prose_markup(text: str) -> Markup:
    """A docstring section as paragraphs (blank-line separated) with inline code spans."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return Markup("".join(f"<p>{inline_markup(p)}</p>" for p in paragraphs))


def embedded_json(data: dict[str, Any]) -> Markup:
    """JSON for a ``<script type="application/json">`` block: ``<``, ``>`` and ``&`` escaped
    as unicode escapes, so no string in it can close the script element."""
    text = json.dumps(json_safe(data), allow_nan=False, default=str, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))
