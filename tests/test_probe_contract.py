"""The trace rules' documentation is a test: each rule's Example, run under the probe, is
flagged by that rule, and its Use instead is not (needs torch)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from trainlint import catalog, engine
from trainlint.probe import Budgets, run_probe
from trainlint.rule import discover

pytestmark = pytest.mark.probe
pytest.importorskip("torch")
os.environ.setdefault("OMP_NUM_THREADS", "1")

TRACE_RULES = [r for r in discover() if r.evidence() == {"trace"}]
CASES = [(rule, kind, i) for rule in TRACE_RULES for kind, blocks in zip(("bad", "good"), rule.examples()) for i in range(len(blocks))]


@pytest.fixture(scope="module")
def example_findings(tmp_path_factory):
    """{(code, kind, index): findings of that example's probe}, run two at a time."""
    folder = tmp_path_factory.mktemp("examples")

    def judge(case):
        rule, kind, i = case
        path = folder / f"{rule.code}_{kind}{i}.py"
        path.write_text(rule.examples()[0 if kind == "bad" else 1][i])
        trace = run_probe(str(path), [], Budgets(timeout_s=90.0), quiet=True)
        return engine.judge_trace(trace).findings

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(judge, CASES))
    return {(rule.code, kind, i): found for (rule, kind, i), found in zip(CASES, results)}


@pytest.mark.parametrize("rule", TRACE_RULES, ids=lambda r: r.code)
def test_bad_example_is_flagged_under_the_probe(rule, example_findings):
    bad = [k for k in example_findings if k[0] == rule.code and k[1] == "bad"]
    assert bad, f"{rule.code} has no Example"
    for key in bad:
        mine = [f for f in example_findings[key] if f.code == rule.code]
        assert mine, f"{rule.code} does not flag its own Example: {[f.code for f in example_findings[key]]}"
        for finding in mine:
            assert finding.fixes, f"{rule.code} finding without a fix"
            for fix in finding.fixes:
                assert catalog.render(fix).code.strip()


@pytest.mark.parametrize("rule", TRACE_RULES, ids=lambda r: r.code)
def test_good_example_is_not_flagged_under_the_probe(rule, example_findings):
    for key in [k for k in example_findings if k[0] == rule.code and k[1] == "good"]:
        mine = [f.message for f in example_findings[key] if f.code == rule.code]
        assert not mine, f"{rule.code} flags its own Use instead: {mine}"
