"""The trace format: round trip, clear errors on bad files, curve downsampling. No torch."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

from trainlint.probe.trace import MAX_CURVE_POINTS, Budgets, Trace, TraceError, as_float, downsample

DATA = Path(__file__).resolve().parent / "data"
SAMPLE = DATA / "sample_trace.json"


def test_recorded_trace_round_trips(tmp_path):
    trace = Trace.load(str(SAMPLE))
    out = tmp_path / "again.json"
    trace.save(str(out))
    assert json.loads(out.read_text()) == json.loads(SAMPLE.read_text())
    assert Trace.from_dict(trace.to_dict()).to_dict() == trace.to_dict()


def test_saved_trace_is_versioned_json_with_every_section(tmp_path):
    data = Trace.load(str(SAMPLE)).to_dict()
    assert (data["format"], data["version"]) == ("trainlint-trace", 1)
    for key in ("script", "run", "loaders", "optimizers", "schedulers", "losses", "epochs", "eval_predictions",
                "models", "overlap", "nonfinite", "unoptimized_params", "batchnorm", "warnings"):
        assert key in data


def test_non_finite_numbers_survive_as_strings(tmp_path):
    trace = Trace(script="train.py", epochs=[{"epoch": 0, "train_loss": float("nan"), "val_loss": float("inf")}])
    path = tmp_path / "t.json"
    trace.save(str(path))
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text  # strict JSON for every reader
    loaded = Trace.load(str(path))
    assert math.isnan(as_float(loaded.epochs[0]["train_loss"]))
    assert as_float(loaded.epochs[0]["val_loss"]) == math.inf


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "is not valid JSON"),
        ('{"format": "coverage", "version": 1}', "not a trainlint trace"),
        ('{"format": "trainlint-trace", "version": 99, "script": "x.py"}', "version 99 is not supported"),
        ('{"format": "trainlint-trace", "version": 1}', 'no "script"'),
        ('{"format": "trainlint-trace", "version": 1, "script": "x.py", "loaders": {}}', "'loaders' must be a list"),
        ("[1, 2]", "not a trainlint trace"),
    ],
)
def test_bad_trace_files_give_a_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(TraceError, match=message) as info:
        Trace.load(str(path))
    assert str(path) in str(info.value)


def test_missing_trace_file_is_a_trace_error(tmp_path):
    with pytest.raises(TraceError, match="does not exist"):
        Trace.load(str(tmp_path / "nope.json"))


def test_downsampled_curve_is_bounded_and_keeps_extremes():
    n = 10_000
    ys = [1.0 + 0.001 * (i % 7) for i in range(n)]
    ys[4321] = 50.0  # one spike
    ys[8765] = -3.0  # one dip
    ys[9000] = float("nan")
    curve = downsample(list(range(n)), ys)
    assert len(curve["y"]) <= MAX_CURVE_POINTS + 2
    assert curve["n"] == n
    assert 50.0 in curve["y"] and -3.0 in curve["y"]
    assert 4321 in curve["x"] and 8765 in curve["x"]
    assert any(isinstance(v, float) and math.isnan(v) for v in curve["y"])
    assert (curve["x"][0], curve["x"][-1]) == (0, n - 1)
    assert curve["x"] == sorted(curve["x"])


def test_short_curve_is_kept_whole():
    assert downsample([0, 1, 2], [3.0, 2.0, 1.0]) == {"x": [0, 1, 2], "y": [3.0, 2.0, 1.0], "n": 3}


def test_budgets_round_trip_and_defaults():
    assert Budgets().to_dict() == {"max_batches": 50, "max_epochs": 5, "timeout_s": 120.0}
    assert Budgets.from_dict({"max_batches": 3, "max_epochs": None, "timeout_s": 9.5}) == Budgets(3, None, 9.5)


def test_trace_format_module_does_not_import_torch():
    import subprocess

    code = "import sys, trainlint.probe, trainlint.probe.trace, trainlint.probe.runner; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
