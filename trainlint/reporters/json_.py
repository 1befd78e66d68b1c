"""The report as one JSON document, for scripts and CI.

The shape is stable (new keys may be added, none removed or renamed)::

    {
      "format": "trainlint-report",  "version": 1,  "trainlint": "0.1.0",
      "findings": [
        {"code": "TL401", "name": "unscheduled-learning-rate", "severity": "warning",
         "message": "...", "location": {"path", "line", "col", "end_line", "end_col", "cell"},
         "evidence": {...}, "sources": ["static", "probe"],
         "fixes": [{"technique": "step-lr", "params": {...},
                    "title": "...", "when": "...", "why": "...", "code": "..."}]}
      ],
      "files": [...], "rules_run": ["TL101", ...],
      "skipped": [{"code", "reason"}], "crashes": [{"code", "path", "error", "traceback"}],
      "counts": {"error": 0, "warning": 1, "info": 0},
      "trace": {...} or null, "run": {...}
    }

Each finding reads back with ``Finding.from_dict`` (the rendered fix fields are extra keys).
A fix whose technique the catalog does not know keeps ``technique`` and ``params`` and gets
``"error"`` instead of the rendered fields. With ``show_fixes=False`` fixes stay unrendered.
NaN and infinity, which JSON lacks, are written as the strings "nan", "inf" and "-inf".
"""

from __future__ import annotations

import json
from typing import Any

from trainlint import __version__
from trainlint.model import Report
from trainlint.reporters.common import json_safe, render_fix

FORMAT_NAME = "trainlint-report"
FORMAT_VERSION = 1


def to_document(report: Report, show_fixes: bool = True) -> dict[str, Any]:
    doc = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "trainlint": __version__, **report.to_dict()}
    if show_fixes:
        for finding, data in zip(report.findings, doc["findings"]):
            data["fixes"] = [fix_entry(ref) for ref in finding.fixes]
    return json_safe(doc)


def fix_entry(ref) -> dict[str, Any]:
    entry = ref.to_dict()
    rendered = render_fix(ref)
    if rendered is None:
        entry["error"] = f"unknown fix technique {ref.technique!r}"
    else:
        entry.update({k: v for k, v in rendered.to_dict().items() if k != "technique"})
    return entry


def render(report: Report, **opts: Any) -> str:
    doc = to_document(report, show_fixes=opts.get("show_fixes", True))
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
