"""The text reporters (concise, full, json, github) as a user or a CI job reads them.

Reports are built by hand where the exact text matters, and from a real ``engine.check`` run
over the fixtures to show every format renders what the rules really produce.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from expectations import FIXTURES, REPO, expected_findings
from trainlint import engine, reporters
from trainlint.config import Config
from trainlint.model import Finding, FixRef, Location, Report, RuleCrash, Severity, SkippedRule
from trainlint.reporters import github

ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")
# A path, message and variable name made of everything that breaks naive output.
NASTY_PATH = "odd dir/we%ird:na,me.py"
NASTY_MESSAGE = "optimizer `o%p:t,<script>` is constant\nsecond line\r\nthird, 100% sure: yes"
NASTY_NAME = "o%p:t,<script>"

SOURCE = (
    "import torch\n"
    "model = torch.nn.Linear(4, 2)\n"
    "opt = torch.optim.Adam(model.parameters(), lr=1e-3)\n"
    "for epoch in range(30):\n"
    "\topt.step()\n"
)


def finding(code="TL401", line=3, col=1, *, path="train.py", message="optimizer `opt` is never scheduled",
            severity=Severity.WARNING, fixes=None, end_line=None, end_col=None, cell=None, evidence=None):
    return Finding(
        code=code,
        name="unscheduled-learning-rate" if code == "TL401" else "missing-validation-split",
        severity=severity,
        message=message,
        location=Location(path, line, col, end_line, end_col, cell),
        evidence=evidence or {},
        fixes=fixes if fixes is not None else [FixRef("step-lr", {"optimizer": "opt", "epochs": 30})],
    )


@pytest.fixture
def project(tmp_path):
    (tmp_path / "train.py").write_text(SOURCE)
    return tmp_path


def strip_ansi(text: str) -> str:
    return ANSI_RE.sub("", text)


# -- registry ------------------------------------------------------------------------------------


def test_unknown_format_is_a_clear_error():
    with pytest.raises(ValueError, match=r"unknown output format 'xml'; choose one of: concise, full, json"):
        reporters.render(Report(), "xml")


def test_formats_load_only_when_asked_for():
    script = (
        "import sys\n"
        "from trainlint import reporters\n"
        "from trainlint.model import Report\n"
        "reporters.render(Report(), 'concise')\n"
        "print(sorted(m for m in sys.modules if m.startswith('trainlint.reporters.') or m == 'jinja2'))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "['trainlint.reporters.common', 'trainlint.reporters.concise']"


def test_a_callable_entry_is_called_with_the_options(monkeypatch):
    monkeypatch.setitem(reporters.FORMATS, "count", lambda report, **opts: f"{len(report.findings)} {opts}")
    assert reporters.render(Report(findings=[finding()]), "count", color=True) == "1 {'color': True}"


# -- concise -------------------------------------------------------------------------------------


def test_concise_is_one_ruff_style_line_per_finding():
    report = Report(findings=[finding(), finding("TL101", 2, 1, path="nb.ipynb", cell=3, message="no split")])
    assert reporters.render(report, "concise") == (
        "train.py:3:1: TL401 optimizer `opt` is never scheduled\n"
        "nb.ipynb:cell 3:2:1: TL101 no split\n"
    )
    assert reporters.render(Report(), "concise") == ""


def test_concise_keeps_a_multiline_message_on_its_line():
    text = reporters.render(Report(findings=[finding(path=NASTY_PATH, message=NASTY_MESSAGE)]), "concise")
    assert text == f"{NASTY_PATH}:3:1: TL401 optimizer `o%p:t,<script>` is constant second line third, 100% sure: yes\n"


def test_concise_colour_only_when_asked_and_only_styling(project):
    report = Report(findings=[finding(severity=Severity.ERROR)])
    plain = reporters.render(report, "concise")
    coloured = reporters.render(report, "concise", color=True)
    assert "\x1b[" not in plain
    assert "\x1b[1;31mTL401\x1b[0m" in coloured  # errors in red, as ruff
    assert strip_ansi(coloured) == plain


def test_absolute_paths_under_the_root_are_shown_relative(project):
    report = Report(findings=[finding(path=str(project / "train.py")), finding(path="/elsewhere/x.py")])
    lines = reporters.render(report, "concise", root=str(project)).splitlines()
    assert lines[0].startswith("train.py:3:1: ")
    assert lines[1].startswith("/elsewhere/x.py:3:1: ")


# -- full ----------------------------------------------------------------------------------------


def test_full_shows_the_excerpt_with_a_caret_then_severity_and_first_fix(project):
    report = Report(findings=[finding(col=1, end_line=3, end_col=4, fixes=[
        FixRef("step-lr", {"optimizer": "opt", "epochs": 30}), FixRef("adamw"),
    ])])
    text = reporters.render(report, "full", root=str(project))
    head, excerpt_and_fix = text.split("\n", 1)
    assert head == "train.py:3:1: TL401 optimizer `opt` is never scheduled"
    assert excerpt_and_fix.startswith(
        "  |\n"
        "2 | model = torch.nn.Linear(4, 2)\n"
        "3 | opt = torch.optim.Adam(model.parameters(), lr=1e-3)\n"
        "  | ^^^ TL401\n"
        "4 | for epoch in range(30):\n"
        "  |\n"
        "  = warning: unscheduled-learning-rate (static)\n"
        "  = fix: Step decay with StepLR (step-lr)\n"
        "    from torch.optim.lr_scheduler import StepLR\n"
    )
    assert "    scheduler = StepLR(opt, step_size=10, gamma=0.1)\n" in text
    assert text.endswith("  = also: AdamW instead of Adam with weight_decay (adamw)\n")


def test_full_caret_follows_tabs_and_stops_at_the_line_end(project):
    text = reporters.render(Report(findings=[finding(line=5, col=2, end_line=5, end_col=8, fixes=[])]), "full",
                            root=str(project))
    assert "5 |     opt.step()\n  |     ^^^^^^ TL401\n" in text
    last_line = reporters.render(Report(findings=[finding(line=5, col=2, fixes=[])]), "full", root=str(project))
    assert "4 | for epoch in range(30):\n5 |     opt.step()\n  |     ^ TL401\n  |\n" in last_line


def test_full_without_the_source_on_disk_still_gives_severity_and_fix(tmp_path):
    text = reporters.render(Report(findings=[finding(path="missing.py")]), "full", root=str(tmp_path))
    assert text.splitlines()[:3] == [
        "missing.py:3:1: TL401 optimizer `opt` is never scheduled",
        "  = warning: unscheduled-learning-rate (static)",
        "  = fix: Step decay with StepLR (step-lr)",
    ]


def test_full_reads_lines_from_the_source_lines_option_for_notebooks():
    cell = ["import torch", "opt = make()", "train(opt)"]
    seen = []

    def source_lines(loc):
        seen.append(loc.cell)
        return cell[loc.line - 1] if 1 <= loc.line <= len(cell) else None

    report = Report(findings=[finding(path="nb.ipynb", line=2, col=7, cell=4, fixes=[])])
    text = reporters.render(report, "full", source_lines=source_lines, show_fixes=True)
    assert text.startswith("nb.ipynb:cell 4:2:7: TL401")
    assert "2 | opt = make()\n  |       ^ TL401\n" in text
    assert set(seen) == {4}


def test_full_reads_notebook_cells_from_disk(tmp_path):
    nb = {"cells": [{"cell_type": "markdown", "source": "# title"},
                    {"cell_type": "code", "source": ["import torch\n", "x = 1\n"]},
                    {"cell_type": "code", "source": "opt = torch.optim.SGD(params, lr=0.1)\n"}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "nb.ipynb").write_text(json.dumps(nb))
    report = Report(findings=[finding(path="nb.ipynb", line=1, col=1, end_line=1, end_col=4, cell=2, fixes=[])])
    text = reporters.render(report, "full", root=str(tmp_path))
    assert "1 | opt = torch.optim.SGD(params, lr=0.1)\n  | ^^^ TL401\n" in text


def test_full_hides_fixes_when_asked(project):
    text = reporters.render(Report(findings=[finding()]), "full", root=str(project), show_fixes=False)
    assert "= fix" not in text and "StepLR" not in text
    assert "= warning: unscheduled-learning-rate (static)" in text


def test_full_survives_an_unknown_technique(project):
    text = reporters.render(Report(findings=[finding(fixes=[FixRef("no-such-fix"), FixRef("adamw")])]), "full",
                            root=str(project))
    assert "  = fix: AdamW instead of Adam with weight_decay (adamw)\n" in text


# -- json ----------------------------------------------------------------------------------------


def json_report() -> Report:
    return Report(
        findings=[
            finding(path=NASTY_PATH, message=NASTY_MESSAGE, evidence={"loss": [1.0, float("nan"), float("inf")]},
                    fixes=[FixRef("step-lr", {"optimizer": NASTY_NAME, "epochs": 9}), FixRef("no-such-fix")]),
            finding("TL101", 2, 1, path="nb.ipynb", cell=3, severity=Severity.ERROR, fixes=[]),
        ],
        files=[NASTY_PATH, "nb.ipynb"],
        rules_run=["TL101", "TL401"],
        skipped=[SkippedRule("TL201", "needs a probe trace: run with --probe")],
        crashes=[RuleCrash("TL999", "x.py", "ValueError: boom", "Traceback ...")],
    )


def strict_json(text: str):
    def refuse(constant):
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_json_is_strict_json_that_reads_back_into_findings():
    report = json_report()
    doc = strict_json(reporters.render(report, "json"))
    assert (doc["format"], doc["version"]) == ("trainlint-report", 1)
    assert doc["counts"] == {"error": 1, "warning": 1, "info": 0}
    assert doc["rules_run"] == ["TL101", "TL401"]
    assert doc["skipped"] == [{"code": "TL201", "reason": "needs a probe trace: run with --probe"}]
    assert doc["crashes"][0]["error"] == "ValueError: boom"
    back = [Finding.from_dict(data) for data in doc["findings"]]
    assert [b.to_dict() for b in back[1:]] == [f.to_dict() for f in report.findings[1:]]
    assert back[0].message == NASTY_MESSAGE and back[0].location.path == NASTY_PATH
    assert back[0].fixes == report.findings[0].fixes
    assert doc["findings"][0]["evidence"] == {"loss": [1.0, "nan", "inf"]}


def test_json_fixes_carry_the_rendered_text_with_the_users_names():
    fixes = strict_json(reporters.render(json_report(), "json"))["findings"][0]["fixes"]
    step, unknown = fixes
    assert step["technique"] == "step-lr" and step["params"] == {"optimizer": NASTY_NAME, "epochs": 9}
    assert step["title"] == "Step decay with StepLR"
    assert f"scheduler = StepLR({NASTY_NAME}, step_size=3, gamma=0.1)" in step["code"]
    assert step["when"] and step["why"]
    assert unknown == {"technique": "no-such-fix", "params": {}, "error": "unknown fix technique 'no-such-fix'"}


def test_json_without_fixes_keeps_the_references_only():
    doc = strict_json(reporters.render(json_report(), "json", show_fixes=False))
    assert doc["findings"][0]["fixes"][0] == {"technique": "step-lr", "params": {"optimizer": NASTY_NAME, "epochs": 9}}


# -- github --------------------------------------------------------------------------------------


def unescape(text: str) -> str:
    for encoded, raw in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(encoded, raw)
    return text


COMMAND_RE = re.compile(r"^::(?P<level>error|warning|notice) (?P<props>[^:]*)::(?P<message>.*)$")


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    m = COMMAND_RE.match(line)
    assert m, line
    props = dict(part.split("=", 1) for part in m.group("props").split(","))
    return m.group("level"), {k: unescape(v) for k, v in props.items()}, unescape(m.group("message"))


def test_github_annotation_exact_text():
    report = Report(findings=[finding(end_line=3, end_col=4)])
    assert reporters.render(report, "github") == (
        "::warning file=train.py,line=3,col=1,endLine=3,endColumn=4,title=TL401 unscheduled-learning-rate"
        "::optimizer `opt` is never scheduled%0A%0AFix: Step decay with StepLR (step-lr)\n"
    )


def test_github_escapes_so_nothing_ends_the_command_early():
    report = Report(findings=[finding(path=NASTY_PATH, message=NASTY_MESSAGE, fixes=[])])
    text = reporters.render(report, "github")
    assert text.count("\n") == 1
    level, props, message = parse_command(text.rstrip("\n"))
    assert level == "warning"
    assert props == {"file": NASTY_PATH, "line": "3", "col": "1", "title": "TL401 unscheduled-learning-rate"}
    assert message == NASTY_MESSAGE
    assert github.escape_property("a%b:c,d\ne") == "a%25b%3Ac%2Cd%0Ae"
    assert github.escape_data("a%b:c,d\r\ne") == "a%25b:c,d%0D%0Ae"


def test_github_maps_severities_and_puts_notebook_cells_in_the_message(tmp_path):
    report = Report(findings=[
        finding(severity=Severity.ERROR, fixes=[]),
        finding(severity=Severity.INFO, path=str(tmp_path / "nb.ipynb"), line=2, col=5, cell=7, fixes=[]),
    ])
    first, second = reporters.render(report, "github", root=str(tmp_path)).splitlines()
    assert parse_command(first)[0] == "error"
    level, props, message = parse_command(second)
    assert level == "notice"
    assert props == {"file": "nb.ipynb", "title": "TL401 unscheduled-learning-rate"}
    assert message == "cell 7, line 2: optimizer `opt` is never scheduled"


# -- a real run through the engine ---------------------------------------------------------------


REAL_FIXTURE = FIXTURES / "static" / "schedule_constant_lr.py"


@pytest.fixture
def real_report(monkeypatch):
    if not REAL_FIXTURE.exists():
        pytest.skip(f"{REAL_FIXTURE.name} is not in the fixtures yet")
    monkeypatch.chdir(REPO)
    return engine.check([str(REAL_FIXTURE.relative_to(REPO))], Config())


def test_real_run_concise_lists_exactly_the_fixture_markers(real_report):
    expected = sorted((line, code) for _, line, code in expected_findings(REAL_FIXTURE))
    lines = reporters.render(real_report, "concise").splitlines()
    found = []
    for text in lines:
        m = re.match(r"^fixtures/static/schedule_constant_lr\.py:(\d+):(\d+): (TL\d{3}) \S", text)
        assert m, text
        found.append((int(m.group(1)), m.group(3)))
    assert sorted(found) == expected and expected


def test_real_run_renders_in_every_text_format(real_report):
    full = reporters.render(real_report, "full", root=str(REPO))
    for f in real_report.findings:
        line_text = REAL_FIXTURE.read_text().splitlines()[f.location.line - 1]
        assert f"{f.location.line} | {line_text.expandtabs(4)}" in full
    doc = strict_json(reporters.render(real_report, "json"))
    assert [d["code"] for d in doc["findings"]] == [f.code for f in real_report.findings]
    assert all(fix["code"] for d in doc["findings"] for fix in d["fixes"])
    annotations = reporters.render(real_report, "github", root=str(REPO)).splitlines()
    assert len(annotations) == len(real_report.findings)
    for line, f in zip(annotations, real_report.findings):
        _, props, message = parse_command(line)
        assert props["file"] == "fixtures/static/schedule_constant_lr.py" and props["line"] == str(f.location.line)
        assert message.startswith(f.message)


def test_full_prints_strange_paths_and_names_as_they_are(tmp_path):
    report = Report(findings=[finding(path=NASTY_PATH, message=NASTY_MESSAGE,
                                      fixes=[FixRef("sgd", {"optimizer": NASTY_NAME})])])
    text = reporters.render(report, "full", root=str(tmp_path))
    assert text.startswith(f"{NASTY_PATH}:3:1: TL401 optimizer `o%p:t,<script>` is constant second line third")
    assert f"    {NASTY_NAME} = torch.optim.SGD(model.parameters(), lr=0.01)\n" in text


def test_html_is_reachable_through_the_registry():
    pytest.importorskip("jinja2")
    page = reporters.render(Report(findings=[finding(message="<script>alert(1)</script>")]), "html")
    assert page.lstrip().lower().startswith("<!doctype html")
    assert "<script>alert(1)</script>" not in page
