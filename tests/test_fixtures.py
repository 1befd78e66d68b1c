"""Every fixture yields exactly the static findings its ``# expect:`` markers promise.

Markers for rules that need a probe trace are left to the probe tests; good twins
(``*_good.py``) must be silent for every static rule.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from expectations import FIXTURES, REPO, expected_findings, fixture_files
from trainlint import engine
from trainlint.config import Config
from trainlint.rule import discover

STATIC_CODES = {r.code for r in discover() if "static" in r.evidence()}
FILES = fixture_files("static", "probe")


def static_expected(path):
    return {m for m in expected_findings(path) if m[2] in STATIC_CODES}


def as_keys(findings):
    return {(f.location.cell, f.location.line, f.code) for f in findings}


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_findings_match_markers(path):
    report = engine.check([str(path)], Config())
    assert not report.crashes, [c.traceback for c in report.crashes]
    got = as_keys(report.findings)
    want = static_expected(path)
    missing = sorted(want - got, key=str)
    unexpected = sorted(
        (f"{f.location.line}: {f.code} {f.message}" for f in report.findings
         if (f.location.cell, f.location.line, f.code) not in want),
    )
    assert not missing and not unexpected, f"missing={missing} unexpected={unexpected}"


@pytest.mark.parametrize("path", [p for p in FILES if p.stem.endswith("_good")],
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_good_twins_have_no_markers(path):
    assert expected_findings(path) == set(), "a *_good fixture must expect no finding"


def test_every_static_rule_has_a_fixture():
    marked = set()
    for path in FILES:
        marked |= {code for _, _, code in expected_findings(path)}
    assert STATIC_CODES - marked == set()


def test_check_of_the_fixtures_folder_reports_exactly_the_markers():
    """What a user sees running `trainlint check fixtures/`: the union of every marker."""
    proc = subprocess.run(
        [sys.executable, "-m", "trainlint", "check", "fixtures", "--isolated", "--output-format", "json"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    got = {(f["location"]["path"], f["location"]["cell"], f["location"]["line"], f["code"]) for f in data["findings"]}
    want = set()
    for path in FILES:
        rel = str(path.relative_to(REPO))
        want |= {(rel, cell, line, code) for cell, line, code in static_expected(path)}
    assert got == want
