"""Samples present in both the training and the validation data, as the probe found them."""

from __future__ import annotations

from trainlint.model import FixRef, Severity
from trainlint.probe.trace import label
from trainlint.rule import Rule


class TrainValidationOverlap(Rule):
    """
    ## What it does
    Reports evaluation samples that are also training samples: identical content (every row
    of the inputs hashed, candidates confirmed byte for byte) or, for two `Subset`s of one
    dataset, shared indices. Reported when more than `max_fraction` (default 0) of the
    evaluation samples overlap.

    ## Why is this bad?
    A validation sample the model has trained on measures memory, not generalisation: the
    validation loss looks better than the model is, hiding overfitting and misleading every
    choice made with it (early stopping, learning rate, architecture).

    ## Example
    ```python
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, Subset, TensorDataset

    torch.manual_seed(0)
    dataset = TensorDataset(torch.randn(200, 8), torch.randint(0, 2, (200,)))
    train_set = Subset(dataset, range(0, 160))
    val_set = Subset(dataset, range(120, 200))  # the ranges overlap by 40 samples
    train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=40)
    model = nn.Linear(8, 2)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
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
    from torch.utils.data import DataLoader, TensorDataset, random_split

    torch.manual_seed(0)
    dataset = TensorDataset(torch.randn(200, 8), torch.randint(0, 2, (200,)))
    train_set, val_set = random_split(dataset, [160, 40])  # disjoint by construction
    train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=40)
    model = nn.Linear(8, 2)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for xb, yb in train_loader:
        optimizer.zero_grad()
        criterion(model(xb), yb).backward()
        optimizer.step()
    with torch.no_grad():
        for xb, yb in val_loader:
            criterion(model(xb), yb)
    ```
    """

    code = "TL106"
    name = "train-validation-overlap"
    severity = Severity.ERROR
    options = {"max_fraction": 0.0}
    techniques = ("validation-split",)

    def check_trace(self, ctx):
        trace = ctx.trace
        result = trace.overlap
        if not result or not result.get("count") or not result.get("eval_samples"):
            return
        fraction = result["count"] / result["eval_samples"]
        if fraction <= float(ctx.options.get("max_fraction", 0.0)):
            return
        train = trace.by_id("loaders", result.get("train_loader")) or {}
        ev = trace.by_id("loaders", result.get("eval_loader")) or {}
        how = "share indices" if result.get("method") == "index" else "are byte-identical to training samples"
        message = (
            f"{result['count']} of the {result['eval_samples']} samples of {label(ev, 'evaluation loader')} "
            f"({fraction:.1%}) {how} in {label(train, 'train loader')}"
        )
        yield ctx.finding(
            ev.get("frame"),
            message,
            evidence={**result, "fraction": round(fraction, 4)},
            fixes=[
                FixRef(
                    "validation-split",
                    {
                        "train_loader": train.get("name") or "train_loader",
                        "val_loader": ev.get("name") or "val_loader",
                        "batch_size": train.get("batch_size") or 32,
                    },
                )
            ],
        )
