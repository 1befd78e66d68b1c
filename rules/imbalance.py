"""Class imbalance as the probe saw it: the labels the train loader really yields, and what the
model predicts on evaluation data."""

from __future__ import annotations

from trainlint.model import FixRef, Severity
from trainlint.probe.trace import balanced_weights, counts_list, label
from trainlint.rule import Rule


def _ratio(counts: list[int]) -> tuple[float, int, int]:
    """(majority / minority, majority class, minority class) over the classes present."""
    present = [(c, i) for i, c in enumerate(counts) if c]
    (hi, hi_cls), (lo, lo_cls) = max(present), min(present)
    return hi / lo, hi_cls, lo_cls


def _weighted_sampler_mislength(loader: dict) -> bool:
    sampler = loader.get("sampler") or {}
    length = (loader.get("dataset") or {}).get("length")
    return sampler.get("type") == "WeightedRandomSampler" and length is not None and sampler.get("weights_length") != length


class UnhandledClassImbalance(Rule):
    """
    ## What it does
    Checks the labels the training loader actually yielded: when the most frequent class
    outnumbers the rarest by more than `max_ratio` (default 3) and nothing compensates (no
    `weight` or `pos_weight` on the loss, no sampler that balances the batches), it reports the
    imbalance with the real class counts. Labels come from the dataset (`targets`, `labels`,
    `TensorDataset` tensors, `Subset` indices) and, as sampled, from the batches. When the loader
    uses a WeightedRandomSampler whose weights do not match the dataset, TL302 reports that
    instead.

    ## Why is this bad?
    Trained on 9 negatives for every positive, a network reaches 90% accuracy by never
    predicting the rare class, and the loss gives it little reason to learn more. Accuracy then
    hides a model that is useless on exactly the cases that matter (the rare disease, the
    fraud).

    ## Example
    ```python
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    X = torch.randn(640, 8)
    y = (torch.arange(640) % 10 == 0).long()  # one positive for nine negatives
    train_loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)
    model = nn.Linear(8, 2)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters())
    for epoch in range(2):
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
    X = torch.randn(640, 8)
    y = (torch.arange(640) % 10 == 0).long()
    train_loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)
    model = nn.Linear(8, 2)
    counts = torch.bincount(y)
    # n_samples / (n_classes * count), as sklearn's compute_class_weight("balanced")
    criterion = nn.CrossEntropyLoss(weight=len(y) / (2 * counts.float()))
    optimizer = torch.optim.Adam(model.parameters())
    for epoch in range(2):
        for xb, yb in train_loader:
            optimizer.zero_grad()
            criterion(model(xb), yb).backward()
            optimizer.step()
    ```
    """

    code = "TL301"
    name = "unhandled-class-imbalance"
    severity = Severity.WARNING
    options = {"max_ratio": 3.0}
    techniques = ("weighted-loss", "weighted-sampler", "smote")

    def check_trace(self, ctx):
        trace = ctx.trace
        loader = trace.train_loader()
        if loader is None or _weighted_sampler_mislength(loader):
            return
        dataset = loader.get("dataset") or {}
        counts = counts_list(dataset.get("class_counts"))
        sampled = counts_list(loader.get("sampled_counts")) or counts
        if sum(1 for c in counts if c) < 2 or sum(1 for c in sampled if c) < 2:
            return
        limit = float(ctx.options.get("max_ratio", 3.0))
        data_ratio, hi, lo = _ratio(counts)
        sampled_ratio, s_hi, s_lo = _ratio(sampled)
        if data_ratio <= limit or sampled_ratio <= limit:
            return  # balanced data, or a sampler / resampling that balances the batches
        loss = trace.train_loss()
        if loss is None or loss.get("weight") or loss.get("pos_weight"):
            return
        loader_name = label(loader, "train loader")
        loss_name = label(loss, "loss")
        message = (
            f"{loader_name} yields {sampled_ratio:.1f}:1 class {s_hi} to class {s_lo} "
            f"(dataset counts {counts}) and {loss_name} ({loss['type']}) has no "
            f"{'pos_weight' if 'BCE' in loss['type'] or 'binary' in loss['type'] else 'weight'}"
        )
        weights = balanced_weights(counts)
        feature_shape = dataset.get("feature_shape") or []
        fixes = [
            FixRef("weighted-loss", {"loss_name": loss.get("name") or "criterion", "class_counts": counts, "class_weights": weights}),
            FixRef(
                "weighted-sampler",
                {
                    "train_loader": loader.get("name") or "train_loader",
                    "batch_size": loader.get("batch_size") or 32,
                    "class_counts": counts,
                    "num_samples": dataset.get("length") or sum(counts),
                },
            ),
        ]
        if len(feature_shape) == 1:
            fixes.append(FixRef("smote", {}))
        yield ctx.finding(
            loss.get("frame") or loader.get("frame"),
            message,
            evidence={
                "class_counts": counts,
                "sampled_counts": sampled,
                "ratio": round(data_ratio, 2),
                "sampled_ratio": round(sampled_ratio, 2),
                "class_weights": weights,
                "loss": loss["type"],
                "loader": loader.get("name"),
            },
            fixes=fixes,
        )


class PredictionCollapse(Rule):
    """
    ## What it does
    Reports evaluation predictions that are nearly all one class: at least `max_share`
    (default 0.95) of the argmax predictions on evaluation batches fall in one class, more
    often than that class occurs in the evaluation labels (by `min_excess`, default 0.03).

    ## Why is this bad?
    A model that answers the same class for everything has stopped using its inputs. It often
    still shows a respectable accuracy on imbalanced data, so the number looks fine while the
    rare classes are never predicted. Usual causes: unhandled class imbalance, a learning rate
    that is too high, or a bug in the labels.

    ## Example
    ```python
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    X = torch.randn(640, 8)
    y = (torch.arange(640) % 20 == 0).long()
    train_loader = DataLoader(TensorDataset(X[:512], y[:512]), batch_size=32, shuffle=True)
    val_loader = DataLoader(TensorDataset(X[512:], y[512:]), batch_size=64)
    model = nn.Linear(8, 2)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for epoch in range(3):
        for xb, yb in train_loader:
            optimizer.zero_grad()
            criterion(model(xb), yb).backward()
            optimizer.step()
        with torch.no_grad():
            for xb, yb in val_loader:
                criterion(model(xb), yb)
    ```

    ## Use instead
    ```python
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    X = torch.randn(640, 8)
    y = (X[:, 0] > 0).long()  # classes the inputs can tell apart, about equally frequent
    train_loader = DataLoader(TensorDataset(X[:512], y[:512]), batch_size=32, shuffle=True)
    val_loader = DataLoader(TensorDataset(X[512:], y[512:]), batch_size=64)
    model = nn.Linear(8, 2)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for epoch in range(3):
        for xb, yb in train_loader:
            optimizer.zero_grad()
            criterion(model(xb), yb).backward()
            optimizer.step()
        with torch.no_grad():
            for xb, yb in val_loader:
                criterion(model(xb), yb)
    ```
    """

    code = "TL304"
    name = "prediction-collapse"
    severity = Severity.WARNING
    options = {"max_share": 0.95, "min_excess": 0.03, "min_predictions": 20}
    techniques = ("weighted-loss", "weighted-sampler", "lower-learning-rate")

    def check_trace(self, ctx):
        trace = ctx.trace
        if any(e.get("kind") in ("loss", "grad") for e in trace.nonfinite):
            return  # the predictions of a model with NaN weights say nothing about its classes
        preds = counts_list(trace.eval_predictions)
        total = sum(preds)
        if total < int(ctx.options.get("min_predictions", 20)):
            return
        top = max(range(len(preds)), key=lambda i: preds[i])
        share = preds[top] / total
        evals = trace.loaders_with_role("eval")
        true = [0] * len(preds)
        for ld in evals:
            for i, c in enumerate(counts_list(ld.get("sampled_counts"))):
                if i >= len(true):
                    true.extend([0] * (i + 1 - len(true)))
                true[i] += c
        true_share = true[top] / sum(true) if sum(true) else 0.0
        if share < float(ctx.options.get("max_share", 0.95)) or share - true_share < float(ctx.options.get("min_excess", 0.03)):
            return
        loader = evals[0] if evals else None
        train = trace.train_loader()
        counts = counts_list(((train or {}).get("dataset") or {}).get("class_counts"))
        loss = trace.train_loss()
        opt = trace.main_optimizer()
        lr = ((opt or {}).get("groups") or [{}])[0].get("lr")
        message = (
            f"{share:.1%} of the predictions on {label(loader, 'evaluation loader')} are class {top}, "
            f"which is {true_share:.1%} of its labels"
        )
        fixes = [
            FixRef("weighted-loss", {"loss_name": (loss or {}).get("name") or "criterion", **({"class_counts": counts} if counts else {})}),
            FixRef("weighted-sampler", {"train_loader": (train or {}).get("name") or "train_loader", **({"class_counts": counts} if counts else {})}),
        ]
        if lr:
            fixes.append(FixRef("lower-learning-rate", {"optimizer": (opt or {}).get("name") or "optimizer", "lr": lr}))
        yield ctx.finding(
            (loader or {}).get("iter_frame"),
            message,
            evidence={"predictions": preds, "labels": true, "share": round(share, 4), "label_share": round(true_share, 4)},
            fixes=fixes,
        )
