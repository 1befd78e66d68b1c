"""The engine's contract: selection, options, crash isolation, skips, static+probe merging,
severity overrides and per-file ignores, observed through the Report it returns.

The rules here are small real rules written for these tests (they read the facts the static
pass produces), so that each behaviour is pinned without depending on the product's rules.
"""

from __future__ import annotations

import os

import pytest

from trainlint.config import Config, ConfigError
from trainlint.engine import NEEDS_SOURCE, NEEDS_TRACE, check, judge_trace
from trainlint.model import FixRef, Severity
from trainlint.probe.trace import Trace
from trainlint.rule import Rule, discover
from trainlint.static import analyze_path


class MarkedLine(Rule):
    """Reports each line carrying the word ``flagme``."""

    code = "TL801"
    name = "marked-line"
    options = {"word": "flagme"}

    def check_static(self, ctx):
        for n, line in enumerate(ctx.facts.text.splitlines(), start=1):
            if ctx.options["word"] in line:
                yield ctx.finding(n, f"line {n} is marked", fixes=[FixRef("zero-grad", {"optimizer": "opt"})])


class StepCalls(Rule):
    """Reports every ``.step()`` call the static pass saw."""

    code = "TL802"
    name = "step-calls"
    severity = Severity.INFO

    def check_static(self, ctx):
        for event in ctx.facts.events:
            if event.method == "step":
                yield ctx.finding(event, "step called")


class Exploding(Rule):
    """Always raises."""

    code = "TL803"
    name = "exploding"

    def check_static(self, ctx):
        raise ValueError("boom")
        yield  # pragma: no cover


class SeenBoth(Rule):
    """Reports the script from the static side and again from the trace."""

    code = "TL804"
    name = "seen-both"
    techniques = ("step-lr",)

    def check_static(self, ctx):
        if "optimizer" in ctx.facts.text:
            yield ctx.finding(
                2, "static side", evidence={"static_key": 1}, fixes=[FixRef("step-lr", {"step_size": 10, "gamma": 0.1})]
            )

    def check_trace(self, ctx):
        yield ctx.finding(
            {"path": os.path.abspath(ctx.trace.script), "line": 7},
            "probe side",
            evidence={"epochs": 30},
            fixes=[FixRef("step-lr", {"step_size": 15}), FixRef("lower-learning-rate")],
        )


class TraceOnly(Rule):
    """Only reads traces."""

    code = "TL805"
    name = "trace-only"

    def check_trace(self, ctx):
        yield ctx.finding(None, "from the trace only")


TEST_RULES = [MarkedLine, StepCalls, Exploding, SeenBoth, TraceOnly]

SCRIPT = """\
import torch
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)  # flagme
for epoch in range(3):
    for x, y in loader:
        optimizer.step()  # flagme
"""


@pytest.fixture
def script(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.py").write_text(SCRIPT)
    return "train.py"


def codes_at(report):
    return [(f.location.path, f.location.line, f.code) for f in report.findings]


def test_runs_every_selected_rule_and_sorts_findings(script):
    report = check([script], Config(), rules=TEST_RULES)
    assert codes_at(report) == [
        ("train.py", 2, "TL801"),
        ("train.py", 2, "TL804"),
        ("train.py", 5, "TL801"),
        ("train.py", 5, "TL802"),
    ]
    assert report.files == ["train.py"]
    assert report.rules_run == ["TL801", "TL802", "TL803", "TL804", "TL805"]


def test_crashing_rule_is_recorded_and_others_still_report(script):
    report = check([script], Config(), rules=TEST_RULES)
    assert [(c.code, c.path, c.error) for c in report.crashes] == [("TL803", "train.py", "ValueError: boom")]
    assert "raise ValueError" in report.crashes[0].traceback
    assert {f.code for f in report.findings} == {"TL801", "TL802", "TL804"}


def test_trace_rule_without_trace_is_skipped_with_reason(script):
    report = check([script], Config(), rules=TEST_RULES)
    assert [(s.code, s.reason) for s in report.skipped] == [("TL805", NEEDS_TRACE)]
    assert NEEDS_TRACE == "needs a probe trace: run with --probe"


@pytest.mark.parametrize(
    "select, ignore, extend, expected",
    [
        (None, [], [], ["TL801", "TL802", "TL804"]),
        (["TL801"], [], [], ["TL801"]),
        (["TL8"], ["TL802"], [], ["TL801", "TL804"]),
        # The more specific selector wins, whichever list it is in.
        (["TL801"], ["TL8"], [], ["TL801"]),
        # A tie goes to ignore.
        (["TL802"], ["TL802"], [], []),
        (["TL802"], [], ["TL804"], ["TL802", "TL804"]),
        (["ALL"], ["TL80"], ["TL801"], ["TL801"]),
    ],
)
def test_selection_follows_ruff_semantics(script, select, ignore, extend, expected):
    config = Config(select=select, ignore=ignore, extend_select=extend)
    report = check([script], config, rules=TEST_RULES)
    assert sorted({f.code for f in report.findings}) == expected


def test_unknown_selector_is_a_config_error(script):
    with pytest.raises(ConfigError, match="unknown rule code or prefix `TL999` in selection"):
        check([script], Config(ignore=["TL999"]), rules=TEST_RULES)
    with pytest.raises(ConfigError, match="per-file-ignores.tests/\\*"):
        check([script], Config(per_file_ignores={"tests/*": ["XX1"]}), rules=TEST_RULES)


def test_options_by_code_or_name_override_defaults(script):
    by_code = check([script], Config(select=["TL801"], options={"TL801": {"word": "range"}}), rules=TEST_RULES)
    assert codes_at(by_code) == [("train.py", 3, "TL801")]
    by_name = check([script], Config(select=["TL801"], options={"marked-line": {"word": "loader"}}), rules=TEST_RULES)
    assert codes_at(by_name) == [("train.py", 4, "TL801")]


def test_unknown_option_or_rule_in_options_is_a_config_error(script):
    with pytest.raises(ConfigError, match="unknown option `wrod` for TL801 \\(marked-line\\); options: word"):
        check([script], Config(options={"TL801": {"wrod": "x"}}), rules=TEST_RULES)
    with pytest.raises(ConfigError, match="unknown rule `no-such-rule` in options"):
        check([script], Config(options={"no-such-rule": {}}), rules=TEST_RULES)


def test_severity_override_by_code_and_prefix(script):
    config = Config(select=["TL801", "TL802"], severity={"TL8": Severity.INFO, "TL802": Severity.ERROR})
    report = check([script], config, rules=TEST_RULES)
    assert {(f.code, f.severity) for f in report.findings} == {("TL801", Severity.INFO), ("TL802", Severity.ERROR)}


def test_per_file_ignores_match_relative_path_or_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "try.py").write_text("x = 1  # flagme\n")
    (tmp_path / "train.py").write_text("x = 1  # flagme\n")
    config = Config(select=["TL801"], per_file_ignores={"experiments/*": ["TL8"]}, root=str(tmp_path))
    assert codes_at(check(["."], config, rules=TEST_RULES)) == [("train.py", 1, "TL801")]
    by_name = Config(select=["TL801"], per_file_ignores={"train.py": ["TL801"]}, root=str(tmp_path))
    assert codes_at(check(["."], by_name, rules=TEST_RULES)) == [("experiments/try.py", 1, "TL801")]


def test_static_and_probe_findings_of_one_rule_merge(script):
    trace = Trace(script=script, run={"budgets": {"max_batches": 5, "max_epochs": 2, "timeout_s": 60.0}})
    report = check([script], Config(select=["TL804", "TL805"]), trace=trace, rules=TEST_RULES)
    merged = [f for f in report.findings if f.code == "TL804"]
    assert len(merged) == 1
    finding = merged[0]
    assert (finding.location.path, finding.location.line) == ("train.py", 2)
    assert finding.sources == ["static", "probe"]
    assert finding.message == "static side"
    assert finding.evidence == {"static_key": 1, "epochs": 30, "probe_message": "probe side"}
    assert [f.to_dict() for f in finding.fixes] == [
        {"technique": "step-lr", "params": {"step_size": 15, "gamma": 0.1}},
        {"technique": "lower-learning-rate", "params": {}},
    ]
    # The trace-only rule ran, so nothing is skipped, and its finding sits at the script's start.
    assert report.skipped == []
    assert [(f.code, f.location.path, f.sources) for f in report.findings if f.code == "TL805"] == [
        ("TL805", "train.py", ["probe"])
    ]
    assert report.trace["script"] == "train.py"
    assert report.run["budgets"] == {"max_batches": 5, "max_epochs": 2, "timeout_s": 60.0}


def test_judge_trace_with_facts_merges_like_check(script):
    trace = Trace(script=script)
    report = judge_trace(trace, Config(select=["TL804"]), facts=analyze_path(script), rules=TEST_RULES)
    assert [(f.code, f.sources) for f in report.findings] == [("TL804", ["static", "probe"])]


def test_judge_trace_without_facts_keeps_probe_finding_alone(script):
    report = judge_trace(Trace(script=script), Config(select=["TL804"]), rules=TEST_RULES)
    assert [(f.code, f.sources, f.message) for f in report.findings] == [("TL804", ["probe"], "probe side")]
    # The path is the trace frame's, as recorded: no checked file to map it onto.
    assert report.findings[0].location.path == os.path.abspath(script)


def test_run_info_names_versions_paths_and_missing_paths(script):
    report = check([script, "gone.py"], Config(), rules=TEST_RULES)
    assert report.run["paths"] == ["train.py", "gone.py"]
    assert report.run["missing_paths"] == ["gone.py"]
    assert report.run["trainlint"]
    assert report.run["python"].count(".") == 2


def test_unparsable_file_is_a_finding_of_the_shipped_rule(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "broken.py").write_text("x = 1\nfor epoch in range(3)\n    pass\n")
    report = check(["broken.py"], Config(select=["TL901"]))
    assert codes_at(report) == [("broken.py", 2, "TL901")]
    assert "syntax error" in report.findings[0].message


def test_discovered_rules_have_unique_codes_and_valid_names():
    rules = discover()
    assert rules, "no rules discovered under trainlint.rules"
    assert len({r.code for r in rules}) == len(rules)
    assert all(r.name and r.summary() for r in rules)


# -- which files a run looks at ---------------------------------------------------------------


def make_tree(root, files):
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_directories_recurse_into_sources_and_skip_tooling_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_tree(
        tmp_path,
        {
            "train.py": "",
            "nb/explore.ipynb": '{"cells": [], "nbformat": 4, "nbformat_minor": 5, "metadata": {}}',
            "notes.txt": "",
            "src/model.py": "",
            ".git/hooks/x.py": "",
            ".venv/lib/site.py": "",
            "myenv/pyvenv.cfg": "",
            "myenv/lib/os.py": "",
            "__pycache__/train.py": "",
            "build/lib/train.py": "",
            "dist/x.py": "",
            "pkg.egg-info/x.py": "",
            "node_modules/x.py": "",
            ".tox/py/x.py": "",
            "nb/.ipynb_checkpoints/explore-checkpoint.ipynb": "{}",
        },
    )
    assert check(["."], Config(), rules=TEST_RULES).files == ["nb/explore.ipynb", "src/model.py", "train.py"]


def test_explicit_files_are_checked_whatever_their_name_or_ignores(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_tree(tmp_path, {".gitignore": "*.py\n", "build/gen.py": "", "script.txt": "x = 1\n"})
    report = check(["build/gen.py", "script.txt", "./script.txt"], Config(), rules=TEST_RULES)
    assert report.files == ["build/gen.py", "script.txt"]


def test_gitignore_subset(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_tree(
        tmp_path,
        {
            ".gitignore": "# generated\n*_gen.py\n!keep_gen.py\n/top_only.py\nout/\ndata/**/cache.py\n",
            "a_gen.py": "",
            "keep_gen.py": "",
            "top_only.py": "",
            "sub/top_only.py": "",
            "out/x.py": "",
            "sub/out/y.py": "",
            "data/v1/deep/cache.py": "",
            "data/v1/model.py": "",
            "sub/.gitignore": "local.py\n!a_gen.py\n",
            "sub/local.py": "",
            "sub/a_gen.py": "",
            "sub/b_gen.py": "",
            "other/local.py": "",
        },
    )
    assert check(["."], Config(), rules=TEST_RULES).files == [
        "data/v1/model.py",
        "keep_gen.py",
        "other/local.py",
        "sub/a_gen.py",
        "sub/top_only.py",
    ]


def test_gitignore_above_the_checked_folder_counts_inside_a_repository(tmp_path, monkeypatch):
    make_tree(tmp_path, {".gitignore": "scratch/\n", "proj/scratch/a.py": "", "proj/b.py": ""})
    monkeypatch.chdir(tmp_path / "proj")
    # Outside a git work tree, a parent's .gitignore is not the project's.
    assert check(["."], Config(), rules=TEST_RULES).files == ["b.py", "scratch/a.py"]
    (tmp_path / ".git").mkdir()
    assert check(["."], Config(), rules=TEST_RULES).files == ["b.py"]


def test_exclude_and_extend_exclude(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_tree(tmp_path, {"a.py": "", "scratch_1.py": "", "legacy/b.py": "", "build/c.py": ""})
    extended = Config(extend_exclude=["scratch_*.py", "legacy"], root=str(tmp_path))
    assert check(["."], extended, rules=TEST_RULES).files == ["a.py"]
    # exclude replaces the defaults, so build/ is walked again.
    replaced = Config(exclude=["legacy"], root=str(tmp_path))
    assert check(["."], replaced, rules=TEST_RULES).files == ["a.py", "build/c.py", "scratch_1.py"]


def test_worker_processes_give_the_same_report_as_one_process(monkeypatch):
    from expectations import FIXTURES

    monkeypatch.chdir(FIXTURES.parent)
    serial = check(["fixtures"], Config(), jobs=1)
    parallel = check(["fixtures"], Config(), jobs=2)
    assert len(serial.files) >= 24, "too few files to exercise the worker pool"
    assert [f.to_dict() for f in parallel.findings] == [f.to_dict() for f in serial.findings]
    assert parallel.files == serial.files
    assert [c.to_dict() for c in parallel.crashes] == [c.to_dict() for c in serial.crashes]


def test_crashes_in_workers_are_recorded(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for i in range(30):
        (tmp_path / f"s{i:02d}.py").write_text("x = 1  # flagme\n")
    report = check(["."], Config(select=["TL801", "TL803"]), rules=TEST_RULES, jobs=2)
    assert len(report.findings) == 30
    assert sorted(c.path for c in report.crashes) == [f"s{i:02d}.py" for i in range(30)]


def test_static_rules_are_skipped_with_reason_when_only_a_trace_is_judged(script):
    report = judge_trace(Trace(script=script), Config(select=["TL801", "TL805"]), rules=TEST_RULES)
    assert [(s.code, s.reason) for s in report.skipped] == [("TL801", NEEDS_SOURCE)]
    assert [f.code for f in report.findings] == ["TL805"]


def test_a_single_path_string_means_that_file(script):
    assert check(script, Config(), rules=TEST_RULES).files == ["train.py"]
