"""Size and render time of the HTML report for a long probe run.

    python bench/bench_report.py [--steps 10000] [--epochs 200] [--classes 10] [--runs 5]

Builds a trace as the probe would record a run of ``--steps`` optimizer steps (curves
downsampled by the trace's own rule, one record per epoch, a 40-layer model, ten classes),
adds findings that carry per-epoch curves and class tables, renders the report, and prints its
size against the 500 KB goal (ratio at most 1.0), how the bytes split between inline SVG and the
embedded JSON, and the median render time. ``--step-evidence`` adds a finding whose evidence
is the raw 10,000-point loss list, the worst case a rule could hand the report.
"""

from __future__ import annotations

import argparse
import math
import random
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trainlint.model import Finding, FixRef, Location, Report, Severity  # noqa: E402
from trainlint.probe.trace import FORMAT, VERSION, downsample  # noqa: E402
from trainlint.reporters import html  # noqa: E402

GOAL_BYTES = 500_000
SCRIPT = "train.py"


def frame(line: int) -> dict:
    return {"path": SCRIPT, "line": line, "function": "<module>"}


def synthetic_trace(steps: int, epochs: int, classes: int, seed: int = 0) -> dict:
    rng = random.Random(seed)
    per_epoch = max(1, steps // epochs)
    lr = [0.1 * 0.5 * (1 + math.cos(math.pi * s / steps)) for s in range(steps)]
    grad = [2.0 * math.exp(-s / (steps / 3)) * (1 + 0.4 * rng.random()) for s in range(steps)]
    counts = {str(c): int(5000 / (1 + c)) for c in range(classes)}
    epoch_rows = []
    for e in range(epochs):
        train = 2.3 * math.exp(-e / (epochs / 4)) + 0.05
        epoch_rows.append({
            "epoch": e, "train_loss": train, "train_acc": 1 - train / 2.5,
            "val_loss": train + 0.002 * e, "val_acc": 1 - (train + 0.002 * e) / 2.5,
            "train_batches": per_epoch, "val_batches": 10, "optimizer_steps": per_epoch * (e + 1),
            "lr": lr[min(steps - 1, per_epoch * (e + 1) - 1)], "loss_min": train * 0.8, "loss_max": train * 1.3,
        })
    layers = [{"name": f"block{i // 3}.{i % 3}", "op": "call_module", "type": ("Conv2d", "BatchNorm2d", "ReLU")[i % 3],
               "shape": [64, 32 + i, 28, 28]} for i in range(40)]
    loader = {
        "id": 0, "name": "train_loader", "frame": frame(30), "iter_frame": frame(60),
        "dataset": {"type": "TensorDataset", "length": sum(counts.values()), "class_counts": counts,
                    "label_source": "tensors", "feature_shape": [3, 28, 28]},
        "batch_size": 64, "sampler": {"type": "RandomSampler"}, "shuffle": True, "drop_last": False,
        "role": "train", "role_reason": "optimizer stepped during its batches", "iterations": epochs,
        "batches": steps, "sampled_counts": {k: v * epochs for k, v in counts.items()}, "min_batch": 64, "max_batch": 64,
    }
    val = dict(loader, id=1, name="val_loader", role="eval", shuffle=False, sampled_counts=None,
               dataset=dict(loader["dataset"], length=sum(counts.values()) // 5,
                            class_counts={k: v // 5 for k, v in counts.items()}))
    return {
        "format": FORMAT, "version": VERSION, "script": SCRIPT,
        "run": {"argv": ["--epochs", str(epochs)], "python": "3.11", "torch": "2.13.0", "device": "cpu",
                "cuda_visible": True, "budgets": {"max_batches": None, "max_epochs": None, "timeout_s": None},
                "truncated": {"batches": 0, "epochs": False}, "wall_s": 812.5, "status": "ok", "exit_code": 0,
                "signal": None, "exception": None, "frame": None, "output_tail": "done\n" * 20, "mode": "probe"},
        "loaders": [loader, val],
        "optimizers": [{"id": 0, "name": "optimizer", "frame": frame(40), "type": "SGD",
                        "groups": [{"lr": 0.1, "params": 40, "momentum": 0.9, "weight_decay": 5e-4}], "steps": steps,
                        "lr": downsample(list(range(steps)), lr), "grad_norm": downsample(list(range(steps)), grad),
                        "models": [0]}],
        "schedulers": [], "losses": [], "epochs": epoch_rows, "eval_predictions": {k: v // 5 for k, v in counts.items()},
        "models": [{"id": 0, "name": "model", "type": "ResNet", "frame": frame(35), "params": 11_000_000,
                    "has_dropout": False, "has_batchnorm": True,
                    "graph": {"method": "fx", "reason": None, "layers": layers, "truncated": 0},
                    "modes": {"train": {"train": steps, "eval": 0}, "eval": {"train": 0, "eval": epochs * 10}},
                    "eval_train_mode_frame": None}],
        "overlap": {"method": "hash", "train_loader": 0, "eval_loader": 1, "train_samples": 5000, "eval_samples": 1000,
                    "count": 0, "examples": []},
        "nonfinite": [], "unoptimized_params": [], "batchnorm": [], "warnings": [],
    }


def findings(trace: dict) -> list[Finding]:
    epochs = trace["epochs"]
    counts = trace["loaders"][0]["dataset"]["class_counts"]
    curves = {"train_loss": [e["train_loss"] for e in epochs], "val_loss": [e["val_loss"] for e in epochs]}
    return [
        Finding("TL201", "overfitting-gap", Severity.WARNING, "validation loss rises while train loss falls",
                Location(SCRIPT, 60, 1), evidence={"curves": curves, "gap": 0.4}, fixes=[FixRef("early-stopping")],
                sources=["probe"]),
        Finding("TL301", "unhandled-class-imbalance", Severity.WARNING, "class 9 is 10x rarer than class 0",
                Location(SCRIPT, 30, 1), evidence={"class_counts": counts, "ratio": 10.0},
                fixes=[FixRef("weighted-loss", {"class_counts": list(counts.values())})], sources=["probe"]),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--step-evidence", action="store_true",
                        help="also a finding whose evidence is the raw per-step loss (the worst case)")
    args = parser.parse_args()

    trace = synthetic_trace(args.steps, args.epochs, args.classes)
    found = findings(trace)
    if args.step_evidence:
        losses = [2.3 * math.exp(-s / (args.steps / 4)) for s in range(args.steps)]
        found.append(Finding("TL410", "flat-loss", Severity.WARNING, "per-step loss, not downsampled by the rule",
                             Location(SCRIPT, 60, 1), evidence={"train_loss": losses}, sources=["probe"]))
    report = Report(findings=found, files=[SCRIPT], rules_run=["TL201", "TL301"], trace=trace)
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        page = html.render(report)
        times.append(time.perf_counter() - start)
    size = len(page.encode("utf-8"))
    svg = sum(len(m.encode("utf-8")) for m in re.findall(r"<svg.*?</svg>", page, re.DOTALL))
    data = re.search(r'<script type="application/json" id="trainlint-data">(.*?)</script>', page, re.DOTALL)
    json_bytes = len(data.group(1).encode("utf-8")) if data else 0
    points = sum(len(p.split()) for p in re.findall(r'points="([^"]*)"', page))
    extra = ", with raw per-step evidence" if args.step_evidence else ""
    print(f"HTML report of a {args.steps:,}-step, {args.epochs}-epoch probe run ({args.classes} classes{extra})")
    print(f"  size            {size / 1000:8.1f} KB   goal {GOAL_BYTES / 1000:.0f} KB   ratio {size / GOAL_BYTES:.2f}")
    print(f"  inline SVG      {svg / 1000:8.1f} KB   ({points:,} polyline points drawn)")
    print(f"  embedded JSON   {json_bytes / 1000:8.1f} KB")
    print(f"  render time     {statistics.median(times) * 1000:8.1f} ms   (median of {args.runs})")


if __name__ == "__main__":
    main()
