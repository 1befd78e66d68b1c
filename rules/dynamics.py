"""Training dynamics the probe measured: the loss diverging or flat, NaN/Inf values, and
parameters that get gradients but are never updated."""

from __future__ import annotations

import math

from trainlint.model import FixRef, Severity
from trainlint.probe.trace import as_float, label
from trainlint.rule import Rule

def _finite(values):
    return [v for v in values if v is not None and math.isfinite(v)]


def _lr_params(trace) -> dict:
    opt = trace.main_optimizer() or {}
    lr = ((opt.get("groups") or [{}])[0]).get("lr")
    params = {"optimizer": opt.get("name") or "optimizer", "optimizer_class": opt.get("type") or "Adam"}
    if isinstance(lr, (int, float)):
        params["lr"] = lr
    model = trace.models[0] if trace.models else {}
    if model.get("name"):
        params["model"] = model["name"]
    return params


def _lr_text(trace) -> str:
    opt = trace.main_optimizer()
    if not opt:
        return ""
    lr = ((opt.get("groups") or [{}])[0]).get("lr")
    if not isinstance(lr, (int, float)):
        return ""
    curve = (opt.get("lr") or {}).get("y") or []
    final = curve[-1] if curve else lr
    moved = f", scheduled down to {final:.3g} by the last step" if isinstance(final, (int, float)) and final < lr * 0.5 else ""
    return f" with {label(opt, 'optimizer')} ({opt.get('type')}, lr={lr:g}{moved})"


def divergence(trace, factor: float = 2.0, window: int = 3, min_rise: float = 0.2) -> str | None:
    """Why the training loss counts as diverging, or None. Per epoch: the last mean is
    ``factor`` times the first, or it rose in each of the last ``window`` epochs by
    ``min_rise`` in all. Per batch: the loss went NaN/Inf after growing past ``factor`` times
    its first values (a run that explodes within its first epoch)."""
    losses = _finite(trace.epoch_values("train_loss"))
    if len(losses) >= 2:
        tail = losses[-window:]
        if losses[-1] > losses[0] * factor and losses[-1] > 0:
            return f"training loss grew from {losses[0]:.4g} to {losses[-1]:.4g} over {len(losses)} epochs"
        if len(tail) == window and all(b > a for a, b in zip(tail, tail[1:])) and tail[-1] > tail[0] * (1 + min_rise):
            return f"training loss rose in each of the last {window} epochs, from {tail[0]:.4g} to {tail[-1]:.4g}"
    ys = [as_float(v) for v in ((trace.loss_curve or {}).get("train") or {}).get("y") or []]
    bad = next((i for i, v in enumerate(ys) if v is not None and not math.isfinite(v)), None)
    before = _finite(ys[:bad]) if bad is not None else []
    if len(before) >= 2:
        start = sorted(before[:5])[len(before[:5]) // 2]
        if before[-1] > start * factor and before[-1] > 0:
            return f"training loss grew from {start:.4g} to {before[-1]:.4g} and then became {ys[bad]}"
    return None


class DivergingLoss(Rule):
    """
    ## What it does
    Reports a training loss that grows: the last epoch's mean training loss is more than
    `factor` (default 2.0) times the first epoch's, or it rose in each of the last `window`
    epochs (default 3) by more than `min_rise` (default 20%) in all, or, batch by batch, it grew
    past `factor` times its first values and then became NaN or infinite (a run that explodes
    within its first epoch; TL506 then leaves the NaN to this rule).

    ## Why is this bad?
    Gradient descent should lower the training loss. When it climbs, the steps overshoot: the
    learning rate is too high for this model and data (or the inputs are badly scaled), and the
    run usually ends in NaN.

    ## Example
    ```python
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    X = torch.randn(256, 8) * 10  # unscaled inputs
    y = X.sum(1, keepdim=True)
    train_loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)
    model = nn.Linear(8, 1)
    criterion = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.02)
    for epoch in range(3):
        for xb, yb in train_loader:
            optimizer.zero_grad()
            criterion(model(xb), yb).backward()
            optimizer.step()
    ```

    ## Use instead
    ```python
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    X = torch.randn(256, 8) * 10
    y = X.sum(1, keepdim=True)
    X = (X - X.mean(0)) / X.std(0)  # standardised inputs
    train_loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)
    model = nn.Linear(8, 1)
    criterion = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.02)
    for epoch in range(3):
        for xb, yb in train_loader:
            optimizer.zero_grad()
            criterion(model(xb), yb).backward()
            optimizer.step()
    ```
    """

    code = "TL409"
    name = "diverging-loss"
    severity = Severity.ERROR
    options = {"factor": 2.0, "window": 3, "min_rise": 0.2}
    techniques = ("lower-learning-rate", "gradient-clipping")

    def check_trace(self, ctx):
        trace = ctx.trace
        why = divergence(
            trace,
            factor=float(ctx.options.get("factor", 2.0)),
            window=max(2, int(ctx.options.get("window", 3))),
            min_rise=float(ctx.options.get("min_rise", 0.2)),
        )
        if why is None:
            return
        opt = trace.main_optimizer() or {}
        yield ctx.finding(
            opt.get("frame"),
            f"{why}{_lr_text(trace)}",
            evidence={"train_loss": trace.epoch_values("train_loss"), "batch_loss": (trace.loss_curve or {}).get("train")},
            fixes=[FixRef("lower-learning-rate", _lr_params(trace)), FixRef("gradient-clipping", {"optimizer": opt.get("name") or "optimizer"})],
        )


class FlatLoss(Rule):
    """
    ## What it does
    Reports a training loss that does not move: over at least `min_epochs` epochs (default 3)
    of optimizer steps, the mean training loss changed by less than `min_change` (default 1%)
    relative to its first value.

    ## Why is this bad?
    A flat loss means the updates change nothing: a learning rate far too small, gradients that
    never reach the parameters (a detached tensor, a frozen model), or labels that carry no
    signal. Each epoch costs compute and teaches the model nothing.

    ## Example
    ```python
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    X = torch.randn(256, 8)
    y = (X[:, 0] > 0).long()
    train_loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)
    model = nn.Linear(8, 2)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-7)
    for epoch in range(3):
        for xb, yb in train_loader:
            optimizer.zero_grad()
            criterion(model(xb), yb).backward()
            optimizer.step()
    ```

    ## Use instead
    ```python
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    X = torch.randn(256, 8)
    y = (X[:, 0] > 0).long()
    train_loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)
    model = nn.Linear(8, 2)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(3):
        for xb, yb in train_loader:
            optimizer.zero_grad()
            criterion(model(xb), yb).backward()
            optimizer.step()
    ```
    """

    code = "TL410"
    name = "flat-loss"
    severity = Severity.WARNING
    options = {"min_epochs": 3, "min_change": 0.01}
    techniques = ("adam", "check-data")

    def check_trace(self, ctx):
        trace = ctx.trace
        losses = _finite(trace.epoch_values("train_loss"))
        if len(losses) < int(ctx.options.get("min_epochs", 3)) or not trace.main_optimizer():
            return
        first, last = losses[0], losses[-1]
        change = abs(last - first) / max(abs(first), 1e-12)
        if change >= float(ctx.options.get("min_change", 0.01)):
            return
        opt = trace.main_optimizer()
        params = _lr_params(trace)
        params.pop("lr", None)  # suggest the usual starting rate, not the user's
        params.pop("optimizer_class", None)
        yield ctx.finding(
            opt.get("frame"),
            f"training loss stayed at {first:.4g} -> {last:.4g} ({change:.2%} change) over {len(losses)} epochs{_lr_text(trace)}",
            evidence={"train_loss": losses, "relative_change": round(change, 6)},
            fixes=[FixRef("adam", params), FixRef("check-data", {})],
        )


class NonFiniteValues(Rule):
    """
    ## What it does
    Reports NaN or infinite values the probe saw in the loss, in a batch of inputs, or in the
    gradients (their global norm before an optimizer step), with the epoch and the batch. A
    loss that first grew and then overflowed is reported by TL409 (diverging-loss) instead.

    ## Why is this bad?
    One NaN spreads through every parameter it touches: after it the model computes nothing
    useful, and a run that keeps going wastes all its remaining epochs. NaN losses usually come
    from a learning rate that is too high, a log of zero, or NaN already in the data.

    ## Example
    ```python
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    X = torch.randn(128, 8)
    X[5, 3] = float("nan")  # a missing value left in the data
    y = (torch.arange(128) % 2).long()
    train_loader = DataLoader(TensorDataset(X, y), batch_size=32)
    model = nn.Linear(8, 2)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for xb, yb in train_loader:
        optimizer.zero_grad()
        criterion(model(xb), yb).backward()
        optimizer.step()
    ```

    ## Use instead
    ```python
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    X = torch.randn(128, 8)
    X[5, 3] = float("nan")
    X = torch.nan_to_num(X, nan=0.0)  # impute before training
    y = (torch.arange(128) % 2).long()
    train_loader = DataLoader(TensorDataset(X, y), batch_size=32)
    model = nn.Linear(8, 2)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for xb, yb in train_loader:
        optimizer.zero_grad()
        criterion(model(xb), yb).backward()
        optimizer.step()
    ```
    """

    code = "TL506"
    name = "non-finite-values"
    severity = Severity.ERROR
    techniques = ("check-data", "lower-learning-rate", "gradient-clipping")

    _WHAT = {"loss": "the loss", "input": "a batch of inputs", "grad": "the gradients"}

    def check_trace(self, ctx):
        trace = ctx.trace
        # NaN inputs make the loss NaN, which makes the gradients NaN: report the first cause.
        by_kind = {}
        for event in trace.nonfinite:
            by_kind.setdefault(event.get("kind"), event)
        kind = next((k for k in ("input", "loss", "grad") if k in by_kind), None)
        if kind is None or (kind != "input" and divergence(trace) is not None):
            return  # a loss that grew until it overflowed is TL409's finding
        event = by_kind[kind]
        where = ""
        if event.get("loader") is not None:
            where = f" from {label(trace.by_id('loaders', event['loader']), 'loader')}"
        position = "step" if kind == "grad" else "batch"
        message = f"{self._WHAT[kind]} became NaN or infinite in epoch {event.get('epoch')} ({position} {event.get('step')}){where}"
        also = [self._WHAT[k] for k in ("loss", "grad") if k in by_kind and k != kind]
        if also:
            message += f", and then {' and '.join(also)}"
        if kind == "input":
            fixes = [FixRef("check-data", {})]
        else:
            message += _lr_text(trace)
            fixes = [FixRef("lower-learning-rate", _lr_params(trace)), FixRef("gradient-clipping", {}), FixRef("check-data", {})]
        yield ctx.finding(event.get("frame"), message, evidence={"events": list(by_kind.values()), "first": kind}, fixes=fixes)


class UnoptimizedParameters(Rule):
    """
    ## What it does
    Reports parameters of a trained model that received gradients during the probe but belong
    to no optimizer, so `optimizer.step()` never changes them.

    ## Why is this bad?
    The usual cause is an optimizer built from part of the model (`model.encoder.parameters()`)
    or before a layer was added or replaced. Those layers keep their random initial weights:
    the model trains with a handicap, and the backward pass still spends time on their
    gradients.

    ## Example
    ```python
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    X, y = torch.randn(128, 8), torch.randint(0, 2, (128,))
    train_loader = DataLoader(TensorDataset(X, y), batch_size=32)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model[0].parameters(), lr=0.1)  # forgets the last layer
    for xb, yb in train_loader:
        optimizer.zero_grad()
        criterion(model(xb), yb).backward()
        optimizer.step()
    ```

    ## Use instead
    ```python
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    X, y = torch.randn(128, 8), torch.randint(0, 2, (128,))
    train_loader = DataLoader(TensorDataset(X, y), batch_size=32)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for xb, yb in train_loader:
        optimizer.zero_grad()
        criterion(model(xb), yb).backward()
        optimizer.step()
    ```
    """

    code = "TL507"
    name = "unoptimized-parameters"
    severity = Severity.WARNING
    techniques = ("optimize-all-parameters",)

    def check_trace(self, ctx):
        trace = ctx.trace
        opt = trace.main_optimizer() or {}
        for entry in trace.unoptimized_params:
            model = trace.by_id("models", entry.get("model")) or {}
            names = ", ".join(entry.get("names") or [])
            more = entry["count"] - len(entry.get("names") or [])
            message = (
                f"{entry['count']} parameter tensors of {label(model, 'model')} ({names}{f' and {more} more' if more > 0 else ''}; "
                f"{entry.get('numel', 0)} values) receive gradients but no optimizer updates them"
            )
            params = {"optimizer": opt.get("name") or "optimizer", "model": model.get("name") or "model",
                      "optimizer_class": opt.get("type") or "Adam"}
            lr = ((opt.get("groups") or [{}])[0]).get("lr")
            if isinstance(lr, (int, float)):
                params["lr"] = lr
            yield ctx.finding(opt.get("frame") or model.get("frame"), message, evidence=dict(entry), fixes=[FixRef("optimize-all-parameters", params)])
