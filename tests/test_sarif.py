"""SARIF 2.1.0 output: valid against the official schema, rules described from their docstrings,
results pointing at files relative to the project root, crashes reported as notifications."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote

import pytest

from expectations import FIXTURES, REPO
from trainlint import __version__, engine, reporters
from trainlint.config import Config
from trainlint.model import Finding, FixRef, Location, Report, RuleCrash, Severity, SkippedRule
from trainlint.rule import discover

# CI clones the repository with shared/ beside it.
SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "schemas" / "sarif-2.1.0.json"
NASTY_PATH = "odd dir/we%ird:na,me <script>.py"


@pytest.fixture(scope="module")
def validate():
    jsonschema = pytest.importorskip("jsonschema")
    if not SCHEMA.is_file():
        pytest.skip(f"SARIF schema not found at {SCHEMA} (shared/ is not checked out beside the repo)")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)

    def check(doc):
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
        return doc

    return check


def sarif(report: Report, root: Path) -> dict:
    return json.loads(reporters.render(report, "sarif", root=str(root)))


def known_codes() -> list[str]:
    return [rule.code for rule in discover()]


def hand_report(root: Path) -> Report:
    codes = known_codes()
    return Report(
        findings=[
            Finding("TL401", "unscheduled-learning-rate", Severity.WARNING, "optimizer `o%p:t,<script>`\nis constant",
                    Location(NASTY_PATH, 12, 5, 12, 9), evidence={"lr": [0.1, float("nan")]},
                    fixes=[FixRef("step-lr", {"optimizer": "o%p:t,<script>"})]),
            Finding("TL101", "missing-validation-split", Severity.ERROR, "no split",
                    Location(str(root / "nb.ipynb"), 2, 1, cell=3)),
            Finding("TL202", "no-regularization", Severity.INFO, "outside", Location("/elsewhere/train.py", 1, 1)),
        ],
        rules_run=codes,
        skipped=[SkippedRule("TL201", "needs a probe trace: run with --probe")],
        crashes=[RuleCrash(codes[0], "train.py", "ValueError: boom", "Traceback (most recent call last): ...")],
    )


def test_hand_built_report_is_valid_sarif(validate, tmp_path):
    doc = validate(sarif(hand_report(tmp_path), tmp_path))
    assert doc["version"] == "2.1.0"
    driver = doc["runs"][0]["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("trainlint", __version__)
    assert driver["informationUri"].startswith("https://")


def test_results_point_at_files_relative_to_the_root(validate, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # relative paths in a report are relative to where trainlint ran
    run = validate(sarif(hand_report(tmp_path), tmp_path))["runs"][0]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": tmp_path.as_uri() + "/"}}
    nasty, notebook, outside = run["results"]
    nasty_loc = nasty["locations"][0]["physicalLocation"]
    assert nasty_loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    assert unquote(nasty_loc["artifactLocation"]["uri"]) == NASTY_PATH
    assert ":" not in nasty_loc["artifactLocation"]["uri"]  # would read as a URI scheme
    assert nasty_loc["region"] == {"startLine": 12, "startColumn": 5, "endLine": 12, "endColumn": 9}
    assert nasty["message"]["text"] == "optimizer `o%p:t,<script>`\nis constant"
    assert nasty["properties"]["evidence"] == {"lr": [0.1, "nan"]}
    assert "StepLR(o%p:t,<script>, step_size=10" in nasty["properties"]["fixes"][0]["code"]
    assert outside["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "file:///elsewhere/train.py"}
    assert outside["level"] == "note"
    assert notebook["level"] == "error"
    nb_loc = notebook["locations"][0]["physicalLocation"]
    assert nb_loc["artifactLocation"]["uri"] == "nb.ipynb" and "region" not in nb_loc
    assert notebook["message"]["text"] == "cell 3, line 2: no split"
    assert (notebook["properties"]["cell"], notebook["properties"]["cellLine"]) == (3, 2)


def test_every_rule_that_ran_is_described_from_its_docstring(validate, tmp_path):
    report = hand_report(tmp_path)
    run = validate(sarif(report, tmp_path))["runs"][0]
    descriptors = run["tool"]["driver"]["rules"]
    assert [d["id"] for d in descriptors] == report.rules_run
    by_code = {rule.code: rule for rule in discover()}
    for d in descriptors:
        rule = by_code[d["id"]]
        sections = rule.sections()
        assert d["name"] == rule.name
        assert d["shortDescription"]["text"] == rule.summary()
        assert sections["What it does"] in d["fullDescription"]["text"]
        assert sections["Why is this bad?"] in d["fullDescription"]["text"]
        assert d["help"]["text"] == rule.doc()
        assert d["help"]["markdown"].startswith(f"# {rule.code} {rule.name}\n")
        assert d["defaultConfiguration"]["level"] == {"error": "error", "warning": "warning", "info": "note"}[
            rule.severity.value]
        if rule.techniques:
            assert "## Fixes" in d["help"]["markdown"] and "```python" in d["help"]["markdown"]
    for result in run["results"]:
        assert descriptors[result["ruleIndex"]]["id"] == result["ruleId"]


def test_only_the_rules_that_ran_are_listed(validate, tmp_path):
    report = Report(findings=[], rules_run=["TL401"])
    descriptors = validate(sarif(report, tmp_path))["runs"][0]["tool"]["driver"]["rules"]
    assert [d["id"] for d in descriptors] == ["TL401"]


def test_crashes_and_skips_are_notifications(validate, tmp_path):
    report = hand_report(tmp_path)
    invocation = validate(sarif(report, tmp_path))["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    crash, skip = invocation["toolExecutionNotifications"]
    assert crash["level"] == "error"
    assert crash["message"]["text"] == f"rule {report.crashes[0].code} crashed on train.py: ValueError: boom"
    assert crash["associatedRule"] == {"id": report.crashes[0].code, "index": 0}
    assert crash["properties"]["traceback"].startswith("Traceback")
    assert skip == {"level": "note", "message": {"text": "TL201 skipped: needs a probe trace: run with --probe"},
                    "associatedRule": {"id": "TL201", "index": report.rules_run.index("TL201")}}
    clean = validate(sarif(Report(rules_run=["TL401"]), tmp_path))["runs"][0]["invocations"][0]
    assert clean == {"executionSuccessful": True}


def test_a_real_run_over_the_static_fixtures_is_valid_sarif(validate, monkeypatch):
    monkeypatch.chdir(REPO)
    report = engine.check([str((FIXTURES / "static").relative_to(REPO))], Config())
    assert report.findings, "the static fixtures should produce findings"
    run = validate(sarif(report, REPO))["runs"][0]
    assert len(run["results"]) == len(report.findings)
    for result, f in zip(run["results"], report.findings):
        loc = result["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"] == {"uri": f.location.path, "uriBaseId": "%SRCROOT%"}
        if f.location.cell is None:
            assert loc["region"]["startLine"] == f.location.line
        else:
            assert result["properties"]["cellLine"] == f.location.line
        assert result["ruleId"] == f.code
        assert (REPO / unquote(loc["artifactLocation"]["uri"])).is_file()


def test_a_run_judging_a_recorded_trace_is_valid_sarif(validate, monkeypatch):
    from trainlint.probe.trace import Trace

    monkeypatch.chdir(REPO)
    report = engine.check([], Config(), trace=Trace.load(REPO / "tests" / "data" / "sample_trace.json"))
    assert any("probe" in f.sources for f in report.findings)
    run = validate(sarif(report, REPO))["runs"][0]
    assert [r["ruleId"] for r in run["results"]] == [f.code for f in report.findings]
    assert [r["properties"]["sources"] for r in run["results"]] == [f.sources for f in report.findings]
    notes = run["invocations"][0].get("toolExecutionNotifications", [])
    assert [n["message"]["text"] for n in notes if n["level"] == "note"] == [
        f"{s.code} skipped: {s.reason}" for s in report.skipped
    ]
