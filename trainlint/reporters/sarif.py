"""SARIF 2.1.0, the static-analysis exchange format GitHub code scanning and IDEs read.

One run: ``tool.driver`` lists every rule that ran (id, name, shortDescription from
``Rule.summary()``, fullDescription from the docstring's "What it does" and "Why is this bad?",
help as text and markdown with the examples and the suggested fixes, default level). Results
point at files by a URI relative to ``%SRCROOT%`` (the ``root`` option) and carry the finding's
evidence, sources and rendered fixes in ``properties``. Rule crashes become error
``toolExecutionNotifications`` (and ``executionSuccessful`` false); skipped rules become notes.
Notebook lines count within a cell, so a notebook result names the cell in its message and
properties instead of a region.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from trainlint import __version__
from trainlint.catalog import render as render_technique
from trainlint.model import Finding, FixRef, Report, RuleCrash, Severity
from trainlint.reporters.common import json_safe, project_root, relative_path, rendered_fixes

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/trainlint/"
SRCROOT = "%SRCROOT%"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def render(report: Report, **opts: Any) -> str:
    doc = to_document(report, root=project_root(opts), show_fixes=opts.get("show_fixes", True))
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def to_document(report: Report, root: str, show_fixes: bool = True) -> dict[str, Any]:
    rules = rule_classes(report)
    index = {code: i for i, code in enumerate(rules)}
    run = {
        "tool": {
            "driver": {
                "name": "trainlint",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [descriptor(code, rule) for code, rule in rules.items()],
            }
        },
        "originalUriBaseIds": {SRCROOT: {"uri": Path(root).as_uri().rstrip("/") + "/"}},
        "invocations": [invocation(report, index, root)],
        "results": [result(f, index, root, show_fixes) for f in report.findings],
        "columnKind": "unicodeCodePoints",
    }
    return json_safe({"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]})


# -- rules -------------------------------------------------------------------------------------


def rule_classes(report: Report) -> dict[str, type | None]:
    """The rules that ran, by code, in the report's order; a code a finding or crash names
    that discovery does not know (a rule removed since the report was made) maps to None."""
    from trainlint.rule import discover

    known = {rule.code: rule for rule in discover()}
    codes = list(dict.fromkeys(report.rules_run + [f.code for f in report.findings]))
    codes += [c.code for c in report.crashes if c.code in known and c.code not in codes]
    return {code: known.get(code) for code in codes}


def descriptor(code: str, rule: type | None) -> dict[str, Any]:
    if rule is None:
        return {"id": code, "shortDescription": {"text": code}}
    sections = rule.sections()
    what, why = sections.get("What it does", ""), sections.get("Why is this bad?", "")
    return {
        "id": code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary() or rule.name},
        "fullDescription": {"text": "\n\n".join(part for part in (what, why) if part) or rule.name},
        "help": {"text": rule.doc() or rule.name, "markdown": help_markdown(rule)},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {
            "tags": sorted(rule.evidence()),
            "techniques": list(rule.techniques),
        },
    }


def help_markdown(rule: type) -> str:
    parts = [f"# {rule.code} {rule.name}", rule.doc()]
    fixes = []
    for technique in rule.techniques:
        try:
            fix = render_technique(FixRef(technique))
        except KeyError:
            continue
        fixes.append(f"### {fix.title}\n\n{fix.when}\n\n{fix.why}\n\n```python\n{fix.code.rstrip()}\n```")
    if fixes:
        parts.append("## Fixes\n\n" + "\n\n".join(fixes))
    return "\n\n".join(parts)


# -- results -----------------------------------------------------------------------------------


def artifact_location(path: str, root: str) -> dict[str, str]:
    """A URI relative to %SRCROOT% when the file lies under the root, else an absolute file URI."""
    rel = relative_path(path, root)
    if rel is not None:
        return {"uri": quote(rel), "uriBaseId": SRCROOT}
    return {"uri": Path(os.path.abspath(path)).as_uri()}


def result(finding: Finding, index: dict[str, int], root: str, show_fixes: bool) -> dict[str, Any]:
    loc = finding.location
    physical: dict[str, Any] = {"artifactLocation": artifact_location(loc.path, root)}
    message = finding.message
    properties: dict[str, Any] = {"name": finding.name, "sources": finding.sources, "evidence": finding.evidence}
    if loc.cell is None:
        region = {"startLine": max(loc.line, 1), "startColumn": max(loc.col, 1)}
        if loc.end_line is not None and loc.end_line >= region["startLine"]:
            region["endLine"] = loc.end_line
        if loc.end_col is not None and loc.end_col >= 1 and loc.end_line in (None, loc.line):
            region["endColumn"] = max(loc.end_col, region["startColumn"])
        physical["region"] = region
    else:
        message = f"cell {loc.cell}, line {loc.line}: {message}"
        properties.update(cell=loc.cell, cellLine=loc.line, cellColumn=loc.col)
    if show_fixes:
        properties["fixes"] = [fix.to_dict() for fix in rendered_fixes(finding)]
    out = {
        "ruleId": finding.code,
        "level": LEVELS[finding.severity],
        "message": {"text": message},
        "locations": [{"physicalLocation": physical}],
        "properties": properties,
    }
    if finding.code in index:
        out["ruleIndex"] = index[finding.code]
    return out


def invocation(report: Report, index: dict[str, int], root: str) -> dict[str, Any]:
    notes = [crash_notification(c, index, root) for c in report.crashes]
    notes += [
        {
            "level": "note",
            "message": {"text": f"{skip.code} skipped: {skip.reason}"},
            "associatedRule": rule_ref(skip.code, index),
        }
        for skip in report.skipped
    ]
    out: dict[str, Any] = {"executionSuccessful": not report.crashes}
    if notes:
        out["toolExecutionNotifications"] = notes
    return out


def crash_notification(crash: RuleCrash, index: dict[str, int], root: str) -> dict[str, Any]:
    what = "the static analysis" if crash.code == "static" else f"rule {crash.code}"
    where = f" on {crash.path}" if crash.path else ""
    note: dict[str, Any] = {
        "level": "error",
        "message": {"text": f"{what} crashed{where}: {crash.error}"},
        "properties": {"traceback": crash.traceback},
    }
    if crash.code in index:
        note["associatedRule"] = rule_ref(crash.code, index)
    if crash.path:
        note["locations"] = [{"physicalLocation": {"artifactLocation": artifact_location(crash.path, root)}}]
    return note


def rule_ref(code: str, index: dict[str, int]) -> dict[str, Any]:
    ref: dict[str, Any] = {"id": code}
    if code in index:
        ref["index"] = index[code]
    return ref
