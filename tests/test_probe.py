"""The probe end to end: real scripts in a child process under the tracer (needs torch).

Each probe run costs a few seconds (most of it importing torch in the child), so the fixture
runs are made once per module, two at a time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from expectations import FIXTURES, REPO, expected_findings, fixture_files
from trainlint import engine
from trainlint.config import Config
from trainlint.probe import Budgets, Trace, run_probe
from trainlint.probe.runner import ProbeError

pytestmark = pytest.mark.probe
torch = pytest.importorskip("torch")

# Torch's thread pool oversubscribes a busy CI machine; one thread per child keeps runs short.
os.environ.setdefault("OMP_NUM_THREADS", "1")

SCRIPTS = Path(__file__).resolve().parent / "data" / "scripts"
PROBE_FIXTURES = fixture_files("probe")


def rel(path: Path) -> str:
    return os.path.relpath(path, REPO)


@pytest.fixture(scope="module")
def fixture_traces():
    """{fixture path: Trace}, probed from the repository root as a user would."""
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        with ThreadPoolExecutor(2) as pool:
            traces = list(pool.map(lambda p: run_probe(rel(p), [], Budgets(), quiet=True), PROBE_FIXTURES))
    finally:
        os.chdir(cwd)
    return dict(zip(PROBE_FIXTURES, traces))


@pytest.mark.parametrize("path", PROBE_FIXTURES, ids=lambda p: p.stem)
def test_fixture_probe_yields_exactly_its_markers(path, fixture_traces, monkeypatch):
    monkeypatch.chdir(REPO)
    trace = fixture_traces[path]
    want = {(line, code) for _, line, code in expected_findings(path)}
    if (trace.status in ("ok", "stopped")) == any(code == "TL902" for _, code in want):
        pytest.fail(f"run status {trace.status} does not match the fixture's markers: {trace.run.get('exception')}")
    report = engine.check([rel(path)], Config(), trace=trace)
    assert not report.crashes, [c.traceback for c in report.crashes]
    got = {(f.location.line, f.code) for f in report.findings}
    assert got == want, [f"{f.location.line}: {f.code} {f.message}" for f in report.findings]
    if not path.stem.endswith("_good"):
        assert any("probe" in f.sources for f in report.findings), "the probe must confirm the planted defect"


def test_probe_records_what_the_loaders_really_yield(fixture_traces):
    trace = fixture_traces[FIXTURES / "probe" / "per_class_sampler.py"]
    train = trace.train_loader()
    assert train["name"] == "train_loader"
    assert train["sampler"] == {"type": "WeightedRandomSampler", "weights_length": 2, "num_samples": 2, "replacement": True}
    assert train["dataset"]["class_counts"] == {"0": 1430, "1": 170}
    assert sum(train["sampled_counts"].values()) == 2 * len(trace.epochs)  # two draws per epoch
    good = fixture_traces[FIXTURES / "probe" / "per_class_sampler_good.py"].train_loader()
    counts = good["sampled_counts"]
    assert 0.8 < counts["0"] / counts["1"] < 1.25  # per-sample weights balance the batches


def test_probe_records_epochs_roles_graph_and_modes(fixture_traces):
    trace = fixture_traces[FIXTURES / "probe" / "eval_train_mode_good.py"]
    assert trace.run["tracer_errors"] == []
    assert [ld["role"] for ld in trace.loaders] == ["train", "eval"]
    assert len(trace.epochs) == 5
    assert all(e["train_loss"] > 0 and e["val_loss"] > 0 and 0 <= e["val_acc"] <= 1 for e in trace.epochs)
    model = trace.models[0]
    assert (model["name"], model["has_dropout"], model["has_batchnorm"]) == ("model", True, True)
    assert model["graph"]["method"] == "fx"
    assert [layer["type"] for layer in model["graph"]["layers"]] == ["Linear", "BatchNorm1d", "ReLU", "Dropout", "Linear"]
    assert model["graph"]["layers"][0]["shape"] == [32, 128]
    assert model["modes"]["eval"]["train"] == 0 and model["modes"]["train"]["eval"] == 0
    opt = trace.main_optimizer()
    assert (opt["name"], opt["type"], opt["groups"][0]["lr"]) == ("optimizer", "Adam", 0.001)
    sched = trace.schedulers[0]
    assert (sched["type"], sched["steps_per_epoch"]) == ("StepLR", [0, 0, 0, 0, 0])  # stepped after each epoch
    assert sorted(set((opt["lr"]["y"]))) == [0.00025, 0.0005, 0.001]
    assert trace.loss_curve["train"]["n"] == sum(e["train_batches"] for e in trace.epochs)
    assert trace.loss_curve["eval"]["n"] == sum(e["val_batches"] for e in trace.epochs)


def judge(trace):
    return engine.judge_trace(trace).findings


def probe(script: Path, *args: str, **budgets) -> Trace:
    return run_probe(str(script), list(args), Budgets(**{"max_batches": 50, "max_epochs": 5, "timeout_s": 60.0, **budgets}), quiet=True)


def test_script_that_raises_yields_a_trace_and_names_the_exception_and_frame():
    trace = probe(SCRIPTS / "raises.py")
    assert trace.status == "exception"
    assert trace.run["exception"]["type"] == "ValueError"
    assert "raise ValueError" in trace.run["exception"]["traceback"]
    assert len(trace.epochs) == 2
    (finding,) = [f for f in judge(trace) if f.code == "TL902"]
    assert finding.message == "the script raised ValueError: checkpoint folder is missing at line 17 in train_epoch after 2 epoch(s)"
    assert finding.location.line == 17


def test_script_that_exits_with_a_status():
    trace = probe(SCRIPTS / "exits.py")
    assert (trace.status, trace.run["exit_code"]) == ("exit", 3)
    (finding,) = [f for f in judge(trace) if f.code == "TL902"]
    assert finding.message == "the script exited with status 3 at line 15 in <module> after 1 epoch(s)"


def test_script_that_hangs_is_stopped_at_the_time_limit_with_its_frame():
    trace = probe(SCRIPTS / "hangs.py", timeout_s=15.0)
    assert trace.status == "timeout"
    assert len(trace.epochs) == 1  # flushed when the first epoch ended
    (finding,) = [f for f in judge(trace) if f.code == "TL902"]
    assert finding.message == "the script was still running after the 15s time limit and was stopped at line 19 in wait_for_data after 1 epoch(s)"


def test_script_that_segfaults_yields_a_crash_with_its_frame():
    trace = probe(SCRIPTS / "segfaults.py")
    assert (trace.status, trace.run["signal"]) == ("crash", "SIGSEGV")
    assert len(trace.epochs) == 1
    (finding,) = [f for f in judge(trace) if f.code == "TL902"]
    assert finding.message == "the script crashed (SIGSEGV) at line 16 in <module> after 1 epoch(s)"


def test_budgets_truncate_batches_and_stop_cleanly_after_the_epochs():
    trace = probe(SCRIPTS / "long_run.py", max_batches=7, max_epochs=2)
    assert trace.status == "stopped"
    assert [e["train_batches"] for e in trace.epochs] == [7, 7]
    assert trace.run["truncated"] == {"batches": 2, "epochs": True}
    assert "TL902" not in {f.code for f in judge(trace)}


def test_probe_does_not_change_what_the_script_computes():
    plain = subprocess.run([sys.executable, str(SCRIPTS / "long_run.py"), "--epochs", "2"], capture_output=True, text=True,
                           check=True, env={**os.environ})
    trace = probe(SCRIPTS / "long_run.py", "--epochs", "2", max_batches=None, max_epochs=None)
    assert trace.status == "ok"
    assert trace.run["output_tail"].strip() == plain.stdout.strip()  # same weights to the last digit
    assert trace.main_optimizer()["steps"] == 200


def test_script_runs_as_python_script_args_would(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    trace = run_probe(str(SCRIPTS / "semantics" / "main_script.py"), ["--lr", "0.1", "data dir"], Budgets(), device="cpu", quiet=True)
    assert trace.status == "ok", trace.run
    lines = dict(line.split(" ", 1) for line in trace.run["output_tail"].splitlines())
    assert lines == {
        "name": "__main__",
        "argv": "['--lr', '0.1', 'data dir']",
        "cwd": str(tmp_path),
        "path0": str(SCRIPTS / "semantics"),
        "cuda": "''",  # --device cpu hides CUDA
        "helper": "42",
    }
    assert trace.run["cuda_visible"] is False


def test_progress_goes_to_stderr_unless_quiet(capfd):
    run_probe(str(SCRIPTS / "exits.py"), [], Budgets(timeout_s=60.0))
    assert "trainlint probe: epoch" in capfd.readouterr().err
    run_probe(str(SCRIPTS / "exits.py"), [], Budgets(timeout_s=60.0), quiet=True)
    assert "trainlint probe" not in capfd.readouterr().err


def test_missing_script_is_a_clear_error(tmp_path):
    with pytest.raises(ProbeError, match="no such file"):
        run_probe(str(tmp_path / "nope.py"), [], Budgets())


def test_cli_probe_saves_a_trace_that_judges_the_same_without_rerunning(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    script = "fixtures/probe/imbalance.py"
    out = tmp_path / "trace.json"
    cli = [sys.executable, "-m", "trainlint", "check", "--isolated", "--output-format", "json"]
    probed = subprocess.run([*cli, script, "--probe", "--quiet", "--trace-out", str(out)], capture_output=True, text=True)
    assert probed.returncode == 1, probed.stderr
    again = subprocess.run([*cli, script, "--trace", str(out)], capture_output=True, text=True)
    assert again.returncode == 1, again.stderr
    keys = lambda proc: [(f["location"]["line"], f["code"]) for f in json.loads(proc.stdout)["findings"]]  # noqa: E731
    assert keys(probed) == keys(again) == [(18, "TL301"), (33, "TL304")]
    assert Trace.load(str(out)).run["status"] == "ok"


def test_unusual_dataset_is_recorded_from_its_batches_without_disturbing_the_run():
    trace = probe(SCRIPTS / "odd_dataset.py")
    assert trace.status == "ok" and trace.run["output_tail"].endswith("finished")
    (loader,) = trace.loaders
    assert loader["dataset"]["label_source"] == "observed"  # `targets` raised; labels came from the batches
    assert loader["dataset"]["class_counts"] == {"0": 32, "1": 32}  # the first pass
    assert loader["sampled_counts"] == {"0": 64, "1": 64}
    assert len(trace.epochs) == 2


def test_script_importing_torchvision_is_judged_whether_or_not_it_is_installed():
    trace = probe(SCRIPTS / "uses_torchvision.py")
    if trace.status == "ok":
        assert "torchvision" in trace.run["output_tail"]
        return
    assert trace.status == "exception" and trace.run["exception"]["type"] == "ModuleNotFoundError"
    (finding,) = [f for f in judge(trace) if f.code == "TL902"]
    assert finding.message == "the script raised ModuleNotFoundError: No module named 'torchvision' at line 4 in <module>"


def test_class_counts_come_from_the_dataset_without_iterating_it():
    from torch.utils.data import ConcatDataset, Dataset, Subset, TensorDataset

    from trainlint.probe.tracer import _dataset_info

    class WithTargets(Dataset):
        targets = [0, 1, 1, 2, 2, 2]

        def __len__(self):
            return 6

        def __getitem__(self, i):
            raise AssertionError("the tracer must not load samples")

    tensors = TensorDataset(torch.zeros(4, 2), torch.tensor([1.0, 0.0, 1.0, 1.0]))  # BCE-style float labels
    cases = {
        "targets": (WithTargets(), {"0": 1, "1": 2, "2": 3}),
        "subset": (Subset(WithTargets(), [3, 4, 5]), {"2": 3}),
        "concat": (ConcatDataset([WithTargets(), Subset(WithTargets(), [0])]), {"0": 2, "1": 2, "2": 3}),
        "tensors": (tensors, {"0": 1, "1": 3}),
    }
    for source, (dataset, counts) in cases.items():
        info = _dataset_info(dataset)
        assert (info["label_source"], info["class_counts"], info["length"]) == (source, counts, len(dataset))
    regression = TensorDataset(torch.zeros(3, 2), torch.tensor([0.5, 1.7, 2.0]))
    assert _dataset_info(regression)["class_counts"] is None
