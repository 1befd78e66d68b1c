"""The probe sections of the HTML report (training dynamics, data, model, run details), built
from the trace dict documented in ``trainlint/probe/trace.py``.

Like the rest of the report's view model, everything here is decided in Python: which charts
exist, their series, the rows of every table. Missing fields produce a sentence saying what was
not recorded, never an exception, because a trace may come from a run that died half way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from trainlint.reporters.html_view import Chart, Table, count, fmt, num, obj, records, shape
from trainlint.reporters.svg import BarGroup, Series, bar_chart, line_chart

# Epoch rows shown in the dynamics table before the rest is summarised.
MAX_EPOCH_ROWS = 30
# Classes drawn in one distribution chart; more are listed as "other".
MAX_CLASSES = 30


@dataclass
class Section:
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class ModelView:
    title: str
    facts: list[tuple[str, str]]
    layers: Table | None
    note: str = ""


@dataclass
class RunView:
    facts: list[tuple[str, str]]
    exception: str = ""
    traceback: str = ""
    output_tail: str = ""
    warnings: Table | None = None
    events: Table | None = None


@dataclass
class ProbeView:
    script: str
    status: str
    status_class: str
    dynamics: Section
    data: Section
    models: list[ModelView]
    model_note: str
    run: RunView


def where(frame: dict | None) -> str:
    if not isinstance(frame, dict) or not frame:
        return "—"
    text = f"{frame.get('path', '?')}:{frame.get('line', '?')}"
    return f"{text} in {frame['function']}" if frame.get("function") else text


def label_of(item: dict, kind: str) -> str:
    name = item.get("name")
    ident = item.get("id")
    return f"{name}" if name else f"{kind} #{ident}"


STATUS_TEXT = {
    "ok": ("finished", "status-ok"),
    "stopped": ("stopped by the epoch budget", "status-ok"),
    "exception": ("raised an exception", "status-bad"),
    "exit": ("exited with an error status", "status-bad"),
    "timeout": ("hit the time budget", "status-warn"),
    "crash": ("crashed", "status-bad"),
    "running": ("still running when recorded", "status-warn"),
}


def probe_view(trace: dict[str, Any]) -> ProbeView:
    run = obj(trace.get("run"))
    status = str(run.get("status", "ok"))
    text, cls = STATUS_TEXT.get(status, (status, "status-warn"))
    models = [_model_view(m) for m in records(trace.get("models"))]
    return ProbeView(
        script=str(trace.get("script", "")),
        status=text,
        status_class=cls,
        dynamics=dynamics_section(trace),
        data=data_section(trace),
        models=models,
        model_note="" if models else "the probe saw no nn.Module run a forward pass",
        run=run_view(run, trace),
    )


# -- training dynamics ----------------------------------------------------------------------


def _epoch_series(epochs: list[dict], key: str, name: str, dashed: bool = False) -> Series | None:
    points = [(count(e.get("epoch"), i) + 1, num(e.get(key))) for i, e in enumerate(epochs)]
    if all(y is None for _, y in points):
        return None
    return Series(name, [(x, math.nan if y is None else y) for x, y in points], dashed)


def _curve(curve: Any) -> list[tuple[float, float]]:
    if not isinstance(curve, dict):
        return []
    xs, ys = curve.get("x"), curve.get("y")
    if not isinstance(xs, list) or not isinstance(ys, list):
        return []
    out = []
    for x, y in zip(xs, ys):
        fx, fy = num(x), num(y)
        if fx is not None:
            out.append((fx, math.nan if fy is None else fy))
    return out


def dynamics_section(trace: dict[str, Any]) -> Section:
    sec = Section()
    epochs = records(trace.get("epochs"))
    for metric, unit in (("loss", "loss"), ("acc", "accuracy")):
        series = [
            s
            for s in (
                _epoch_series(epochs, f"train_{metric}", "train"),
                _epoch_series(epochs, f"val_{metric}", "validation", dashed=True),
            )
            if s
        ]
        if series:
            title = f"Train vs validation {unit} per epoch"
            sec.charts.append(Chart(title, line_chart(series, title=title, x_label="epoch", y_label=unit)))
    if not epochs:
        sec.notes.append("no full train epoch was recorded, so there are no per-epoch curves")
    elif not any(num(e.get("val_loss")) is not None for e in epochs):
        sec.notes.append("no validation loss was measured in any epoch: the run never evaluated on held-out data")

    for key, title, unit, log in (
        ("lr", "Learning rate per optimizer step", "learning rate", False),
        ("grad_norm", "Gradient norm per optimizer step", "global L2 norm", True),
    ):
        series, total = [], 0
        for opt in records(trace.get("optimizers")):
            points = _curve(opt.get(key))
            if points:
                series.append(Series(f"{label_of(opt, 'optimizer')} ({opt.get('type', '?')})", points))
                total = max(total, count(obj(opt.get(key)).get("n"), len(points)))
        if series:
            shown = max(len(s.points) for s in series)
            caption = f"{total:,} steps"
            if shown < total:
                caption += f", drawn from {shown:,} recorded points (each bucket's extremes kept)"
            chart = line_chart(series, title=title, x_label="optimizer step", y_label=unit, log_y=log)
            sec.charts.append(Chart(title, chart, caption))
    if not records(trace.get("optimizers")):
        sec.notes.append("no optimizer step was recorded")

    if epochs:
        cols = [("epoch", "Epoch"), ("train_loss", "Train loss"), ("val_loss", "Val loss"), ("train_acc", "Train acc"),
                ("val_acc", "Val acc"), ("lr", "LR"), ("optimizer_steps", "Steps")]
        rows = []
        for e in epochs[:MAX_EPOCH_ROWS]:
            row = [fmt(e.get(k)) if k != "epoch" else str(count(e.get("epoch"), 0) + 1) for k, _ in cols]
            rows.append(row)
        note = f"{len(epochs) - MAX_EPOCH_ROWS} later epochs not listed" if len(epochs) > MAX_EPOCH_ROWS else ""
        sec.tables.append(Table("Epochs", [h for _, h in cols], rows, note))
    return sec


# -- data -----------------------------------------------------------------------------------


def _sorted_labels(labels: set[str]) -> list[str]:
    def key(label: str):
        value = num(label)
        return (0, value, "") if value is not None and math.isfinite(value) else (1, 0.0, label)

    return sorted(labels, key=key)


def data_section(trace: dict[str, Any]) -> Section:
    sec = Section()
    loaders = records(trace.get("loaders"))
    if not loaders:
        sec.notes.append("no DataLoader was iterated during the run")
        return sec
    dists: list[tuple[str, dict[str, Any]]] = []
    for ld in loaders:
        ds = obj(ld.get("dataset"))
        name = f"{label_of(ld, 'loader')} ({ld.get('role', '?')})"
        if isinstance(ds.get("class_counts"), dict) and ds["class_counts"]:
            dists.append((name, ds["class_counts"]))
        if isinstance(ld.get("sampled_counts"), dict) and ld["sampled_counts"] and ld.get("role") == "train":
            dists.append((f"{label_of(ld, 'loader')} as sampled", ld["sampled_counts"]))
    if dists:
        labels = _sorted_labels({str(k) for _, d in dists for k in d})
        shown, rest = labels[:MAX_CLASSES], labels[MAX_CLASSES:]
        groups = [BarGroup(lab, [float(num(d.get(lab)) or 0) for _, d in dists]) for lab in shown]
        if rest:
            groups.append(BarGroup("other", [float(sum(num(d.get(lab)) or 0 for lab in rest)) for _, d in dists]))
        title = "Class distribution per loader (share of each loader's samples)"
        caption = "each series sums to 100%, so splits of different sizes compare by shape"
        chart = bar_chart(groups, [n for n, _ in dists], title=title, y_label="share", proportions=True)
        sec.charts.append(Chart(title, chart, caption))
        header = ["Class"] + [n for n, _ in dists]
        rows = [[lab] + [_count_share(d, lab) for _, d in dists] for lab in labels[:MAX_CLASSES]]
        note = f"{len(rest)} more classes grouped as “other” in the chart" if rest else ""
        sec.tables.append(Table("Class counts", header, rows, note))
    else:
        sec.notes.append("no loader exposed its labels (dataset.targets, TensorDataset tensors or observed batches)")

    sizes = [(ld, count(obj(ld.get("dataset")).get("length"))) for ld in loaders]
    total = sum(n for _, n in sizes if n) or 0
    rows = []
    for ld, n in sizes:
        ds = obj(ld.get("dataset"))
        sampler = obj(ld.get("sampler"))
        rows.append([
            label_of(ld, "loader"),
            str(ld.get("role", "?")),
            str(ds.get("type", "?")),
            fmt(n),
            f"{n / total:.0%}" if n and total else "—",
            fmt(ld.get("batch_size")),
            # The sampler's type says the order (RandomSampler = shuffled); "shuffle" would
            # read "in order" for a WeightedRandomSampler, which draws at random.
            str(sampler.get("type", "—")),
            fmt(ld.get("batches")),
        ])
    header = ["Loader", "Role", "Dataset", "Samples", "Share", "Batch size", "Sampler", "Batches seen"]
    sec.tables.append(Table("Splits", header, rows))

    overlap = trace.get("overlap")
    if not isinstance(overlap, dict):
        sec.facts.append(("Train/validation overlap", "not checked"))
    else:
        shared = overlap.get("count") or 0
        compared = (
            f"{fmt(overlap.get('eval_samples'))} evaluation samples compared with "
            f"{fmt(overlap.get('train_samples'))} training samples by {overlap.get('method', '?')}"
        )
        verdict = f"{fmt(shared)} samples appear in both" if shared else "none found"
        sec.facts.append(("Train/validation overlap", f"{verdict} ({compared})"))
        if shared and overlap.get("examples"):
            sec.facts.append(("Overlapping evaluation indices", fmt(overlap["examples"])))
    preds = trace.get("eval_predictions")
    if isinstance(preds, dict) and preds:
        total_preds = sum(num(v) or 0 for v in preds.values()) or 1
        ranked = sorted(preds.items(), key=lambda kv: -(num(kv[1]) or 0))
        shares = ", ".join(f"{k}: {(num(v) or 0) / total_preds:.0%}" for k, v in ranked)
        sec.facts.append(("Predicted classes on evaluation batches", shares))
    return sec


def _count_share(dist: dict[str, Any], label: str) -> str:
    total = sum(num(v) or 0 for v in dist.values())
    value = count(dist.get(label))
    if value is None:
        return fmt(dist.get(label))
    return f"{int(value):,} ({value / total:.1%})" if total else f"{int(value):,}"


# -- model ----------------------------------------------------------------------------------


def _model_view(model: dict[str, Any]) -> ModelView:
    graph = obj(model.get("graph"))
    facts = [
        ("Type", str(model.get("type", "?"))),
        ("Parameters", fmt(model.get("params"))),
        ("Dropout", fmt(model.get("has_dropout"))),
        ("Batch norm", fmt(model.get("has_batchnorm"))),
        ("Defined at", where(model.get("frame"))),
    ]
    for phase, modes in obj(model.get("modes")).items():
        modes = obj(modes)
        counts = f"{fmt(modes.get('train', 0))} in train mode, {fmt(modes.get('eval', 0))} in eval mode"
        facts.append((f"Forward passes in {phase}", counts))
    layers = records(graph.get("layers"))
    method = graph.get("method")
    if method == "fx":
        note = "layers from torch.fx symbolic tracing"
    elif method:
        note = f"module tree shown because fx tracing failed: {graph.get('reason') or 'no reason recorded'}"
    else:
        note = "no layer graph was recorded"
    table = None
    if layers:
        rows = [[str(layer.get(k, "")) for k in ("name", "op", "type")] + [shape(layer.get("shape"))] for layer in layers]
        more = graph.get("truncated") or 0
        note_more = f"{fmt(more)} more layers not recorded" if more else ""
        table = Table("Layers", ["Name", "Op", "Type", "Output shape"], rows, note_more)
    title = f"{label_of(model, 'model')} ({model.get('type', '?')})"
    return ModelView(title=title, facts=facts, layers=table, note=note)


# -- run details ----------------------------------------------------------------------------


def _budgets(budgets: dict | None) -> str:
    if not isinstance(budgets, dict) or not budgets:
        return "—"
    parts = []
    for key, unit in (("max_batches", "batches per epoch"), ("max_epochs", "epochs"), ("timeout_s", "s wall time")):
        value = budgets.get(key)
        parts.append(f"{'unlimited' if value is None else fmt(value)} {unit}")
    return ", ".join(parts)


def _truncated(truncated: dict | None) -> str:
    if not isinstance(truncated, dict) or not truncated:
        return "nothing"
    parts = []
    if truncated.get("batches"):
        parts.append(f"{fmt(truncated['batches'])} loader passes cut at the batch budget")
    if truncated.get("epochs"):
        parts.append("stopped at the epoch budget")
    return "; ".join(parts) or "nothing"


RUN_MODES = {"probe": "child process (trainlint check --probe)", "api": "in process (Python API)"}


def run_view(run: dict[str, Any], trace: dict[str, Any]) -> RunView:
    status = str(run.get("status", "ok"))
    status_line = STATUS_TEXT.get(status, (status, ""))[0]
    if run.get("exit_code") is not None:
        status_line += f" (exit code {run['exit_code']})"
    if run.get("signal"):
        status_line += f" (signal {run['signal']})"
    argv = run.get("argv") if isinstance(run.get("argv"), list) else []
    facts = [
        ("Script", " ".join([str(trace.get("script", "?")), *map(str, argv)])),
        ("Status", status_line),
        ("Stopped at", where(run.get("frame"))) if run.get("frame") else None,
        ("Wall time", f"{fmt(num(run.get('wall_s')))} s" if run.get("wall_s") is not None else "—"),
        ("Budgets", _budgets(run.get("budgets"))),
        ("Truncated", _truncated(run.get("truncated"))),
        ("Device", str(run.get("device") or "no model seen") + ("" if run.get("cuda_visible", True) else " (CUDA hidden)")),
        ("Python", str(run.get("python", "—"))),
        ("torch", str(run.get("torch", "—"))),
        ("Mode", RUN_MODES.get(str(run.get("mode")), str(run.get("mode", "—")))),
    ]
    exc = obj(run.get("exception"))
    warnings = [[str(w.get("category", "")), str(w.get("message", "")), where(w.get("frame"))]
                for w in records(trace.get("warnings"))]
    events = [[str(e.get("kind", "")), fmt(e.get("epoch")), fmt(e.get("step")), where(e.get("frame"))]
              for e in records(trace.get("nonfinite"))]
    return RunView(
        facts=[f for f in facts if f],
        exception=f"{exc.get('type', '')}: {exc.get('message', '')}" if exc else "",
        traceback=str(exc.get("traceback") or ""),
        output_tail=str(run.get("output_tail") or ""),
        warnings=Table("torch warnings", ["Category", "Message", "Where"], warnings) if warnings else None,
        events=Table("Non-finite values", ["Kind", "Epoch", "Step", "Where"], events) if events else None,
    )
