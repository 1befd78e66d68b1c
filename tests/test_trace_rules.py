"""The trace rules judged on recorded traces, in milliseconds and without torch.

``tests/data/traces/NAME.json`` is the probe's real output for ``fixtures/probe/NAME.py``;
re-record one after changing the tracer (fixtures whose run fails, such as script_fails.py,
are probed live by test_probe.py instead) with

    trainlint check --exit-zero fixtures/probe/NAME.py --probe --trace-out tests/data/traces/NAME.json
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from expectations import FIXTURES, expected_findings
from trainlint import catalog, engine
from trainlint.config import Config
from trainlint.probe.trace import Trace
from trainlint.rule import discover

TRACES = Path(__file__).resolve().parent / "data" / "traces"
RULES = discover()
TRACE_ONLY = {r.code for r in RULES if r.evidence() == {"trace"}}
TRACE_CODES = {r.code for r in RULES if "trace" in r.evidence()}
RECORDED = sorted(TRACES.glob("*.json"))


def judge(trace: Trace | dict, options: dict | None = None):
    if isinstance(trace, dict):
        trace = Trace.from_dict(trace)
    config = Config(options=options or {}) if options else Config()
    report = engine.judge_trace(trace, config)
    assert not report.crashes, [c.traceback for c in report.crashes]
    return report.findings


def recorded(name: str) -> dict:
    return Trace.load(str(TRACES / f"{name}.json")).to_dict()


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.stem)
def test_recorded_trace_yields_the_fixtures_probe_findings(path):
    """Codes the fixture marks (for rules with trace evidence) are exactly those the trace
    yields; trace-only rules also point at the marked line."""
    fixture = FIXTURES / "probe" / f"{path.stem}.py"
    want = {(line, code) for _, line, code in expected_findings(fixture) if code in TRACE_CODES}
    findings = judge(Trace.load(str(path)))
    assert {f.code for f in findings} == {code for _, code in want}, [f.message for f in findings]
    for f in findings:
        if f.code in TRACE_ONLY:
            assert (f.location.line, f.code) in want, f"{f.code} at line {f.location.line}: {f.message}"
        assert f.sources == ["probe"]


def test_every_trace_rule_is_covered_by_a_recorded_trace_or_a_case_here():
    covered = set()
    for path in RECORDED:
        covered |= {f.code for f in judge(Trace.load(str(path)))}
    # The rest are exercised on edited traces below (a failed run's trace, TL902, is not kept
    # here: every trace in this folder is a complete run the HTML tests chart).
    assert TRACE_CODES - covered == {"TL403", "TL502", "TL902"}


def test_imbalance_message_and_fixes_use_the_real_counts():
    (finding,) = [f for f in judge(recorded("imbalance")) if f.code == "TL301"]
    assert finding.message.startswith("train_loader yields 8.4:1 class 0 to class 1 (dataset counts [1430, 170])")
    assert "criterion (CrossEntropyLoss) has no weight" in finding.message
    fixes = {f.technique: f.params for f in finding.fixes}
    assert fixes["weighted-loss"]["class_weights"] == [0.5594, 4.7059]  # compute_class_weight("balanced")
    assert fixes["weighted-sampler"]["num_samples"] == 1600
    assert "smote" in fixes  # feature vectors
    for fix in finding.fixes:
        code = catalog.render(fix).code
        assert code.strip()
    assert "4.7059" in catalog.render(finding.fixes[0]).code


def test_imbalance_threshold_is_an_option():
    assert not [f for f in judge(recorded("imbalance"), {"TL301": {"max_ratio": 10}}) if f.code == "TL301"]


def test_weighted_loss_counts_as_handling():
    trace = recorded("imbalance")
    trace["losses"][0]["weight"] = [0.56, 4.7]
    assert "TL301" not in {f.code for f in judge(trace)}


def test_overfitting_rising_validation_loss_over_the_window():
    trace = recorded("overfit_small_subset_good")
    for epoch, (t, v) in enumerate([(1.0, 0.9), (0.7, 0.6), (0.5, 0.65), (0.4, 0.7), (0.3, 0.8)]):
        trace["epochs"][epoch].update(train_loss=t, val_loss=v)
    (finding,) = [f for f in judge(trace) if f.code == "TL201"]
    assert finding.message == (
        "validation loss rose from 0.650 to 0.800 over epochs 2-4 while training loss fell from 0.500 to 0.300; "
        "the best validation loss was 0.600 at epoch 1"
    )
    assert finding.evidence["val_loss"] == [0.9, 0.6, 0.65, 0.7, 0.8]
    assert not [f for f in judge(trace, {"TL201": {"min_rise": 0.5, "gap_ratio": 3.0}}) if f.code == "TL201"]


def test_diverging_and_flat_losses():
    trace = recorded("constant_lr_good")
    for epoch, value in enumerate([1.0, 1.5, 3.0, 9.0, 40.0]):
        trace["epochs"][epoch]["train_loss"] = value
    (finding,) = [f for f in judge(trace) if f.code == "TL409"]
    assert finding.message.startswith("training loss grew from 1 to 40 over 5 epochs with optimizer (Adam, lr=0.001")
    for epoch in range(5):
        trace["epochs"][epoch]["train_loss"] = 0.6931
    assert [f.code for f in judge(trace) if f.code in ("TL409", "TL410")] == ["TL410"]


def test_non_finite_reports_the_first_cause():
    trace = recorded("constant_lr_good")
    frame = {"path": trace["script"], "line": 28, "function": "<module>"}
    trace["nonfinite"] = [
        {"kind": "grad", "epoch": 1, "step": 60, "frame": frame, "optimizer": 0},
        {"kind": "loss", "epoch": 1, "step": 15, "frame": frame, "loader": 0},
    ]
    (finding,) = [f for f in judge(trace) if f.code == "TL506"]
    assert finding.message.startswith("the loss became NaN or infinite in epoch 1 (batch 15) from train_loader, and then the gradients")
    assert finding.location.line == 28


def test_unoptimized_parameters_point_at_the_optimizer():
    trace = recorded("constant_lr_good")
    trace["unoptimized_params"] = [{"model": 0, "names": ["3.weight", "3.bias"], "count": 2, "numel": 1290}]
    (finding,) = [f for f in judge(trace) if f.code == "TL507"]
    assert finding.location.line == trace["optimizers"][0]["frame"]["line"]
    assert "2 parameter tensors of model (3.weight, 3.bias; 1290 values)" in finding.message
    assert finding.fixes[0].technique == "optimize-all-parameters"
    assert finding.fixes[0].params["optimizer_class"] == trace["optimizers"][0]["type"]


def test_overlap_and_tiny_batch_norm():
    trace = recorded("eval_train_mode_good")
    trace["overlap"] = {"method": "hash", "train_loader": 0, "eval_loader": 1, "train_samples": 1437,
                        "eval_samples": 360, "count": 36, "examples": [1, 2]}
    trace["batchnorm"] = [{"module": "model.1", "model": 0, "min_batch": 1, "small_batches": 5, "batches": 225}]
    found = {f.code: f for f in judge(trace)}
    assert found["TL106"].message == "36 of the 360 samples of val_loader (10.0%) are byte-identical to training samples in train_loader"
    assert found["TL603"].message.startswith("batch norm model.1 trained on batches of 1 sample(s)")
    (fix,) = found["TL603"].fixes
    loader = trace["loaders"][0]
    assert fix.technique == "drop-last" and fix.params["train_loader"] == loader["name"]
    if loader.get("batch_size") and (loader.get("dataset") or {}).get("length"):
        assert fix.params["remainder"] == loader["dataset"]["length"] % loader["batch_size"]
    assert not [f for f in judge(trace, {"TL603": {"min_batch": 1}}) if f.code == "TL603"]


def test_scheduler_before_optimizer_and_train_forwards_in_eval_mode():
    trace = recorded("steplr_per_batch_good")
    trace["schedulers"][0]["stepped_before_optimizer"] = True
    trace["models"][0]["modes"]["train"] = {"train": 200, "eval": 25}
    trace["models"][0]["train_eval_mode_frame"] = {"path": trace["script"], "line": 27, "function": "<module>"}
    found = {f.code: f for f in judge(trace)}
    assert "stepped before optimizer ever did" in found["TL403"].message
    assert found["TL502"].message == "25 of 225 training forwards of model ran in eval mode, and it has dropout"


@pytest.mark.parametrize(
    "run, message",
    [
        ({"status": "exception", "exception": {"type": "ValueError", "message": "bad shape", "traceback": "..."},
          "frame": {"path": "train.py", "line": 12, "function": "main"}},
         "the script raised ValueError: bad shape at line 12 in main"),
        ({"status": "exit", "exit_code": 3, "frame": {"path": "train.py", "line": 4, "function": "<module>"}},
         "the script exited with status 3 at line 4 in <module>"),
        ({"status": "timeout", "budgets": {"timeout_s": 2.0}, "frame": {"path": "train.py", "line": 7, "function": "wait"}},
         "the script was still running after the 2s time limit and was stopped at line 7 in wait"),
        ({"status": "crash", "signal": "SIGSEGV", "frame": {"path": "train.py", "line": 9, "function": "<module>"}},
         "the script crashed (SIGSEGV) at line 9 in <module>"),
    ],
)
def test_failed_runs_name_what_happened_and_where(run, message):
    (finding,) = judge(Trace(script="train.py", run=run))
    assert finding.code == "TL902"
    assert finding.message == message
    assert (finding.location.path, finding.location.line) == ("train.py", run["frame"]["line"])
    assert finding.fixes[0].technique == "fix-script"


def test_budget_stop_is_not_a_failure():
    trace = copy.deepcopy(recorded("constant_lr"))
    assert trace["run"]["status"] == "stopped"
    assert "TL902" not in {f.code for f in judge(trace)}
