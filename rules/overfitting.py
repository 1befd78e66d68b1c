"""Overfitting as the probe measured it: the train and validation loss curves, epoch by epoch."""

from __future__ import annotations

from trainlint.model import FixRef, Severity
from trainlint.probe.trace import label
from trainlint.rule import Rule


class OverfittingGap(Rule):
    """
    ## What it does
    Compares the per-epoch training and validation losses the probe measured. It reports
    overfitting when, over the last `window` epochs (default 3), the validation loss rose by
    more than `min_rise` (default 5%) while the training loss fell, or when the final
    validation loss is more than `gap_ratio` (default 2.0) times the training loss and at least
    `min_gap` (default 0.2) above it.

    ## Why is this bad?
    A falling training loss with a rising validation loss means the network is memorising the
    training samples instead of learning what generalises; every further epoch makes the model
    worse on new data while the training numbers keep improving.

    ## Example
    ```python
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    X, y = torch.randn(540, 64), torch.randint(0, 4, (540,))  # labels that are pure noise
    train_loader = DataLoader(TensorDataset(X[:60], y[:60]), batch_size=4, shuffle=True)
    val_loader = DataLoader(TensorDataset(X[60:], y[60:]), batch_size=120)
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 4))
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.003)
    for epoch in range(5):
        model.train()
        for xb, yb in train_loader:
            optimizer.zero_grad()
            criterion(model(xb), yb).backward()
            optimizer.step()
        model.eval()
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
    X = torch.randn(540, 64)
    y = X[:, :4].argmax(1)  # labels the inputs explain, and more training data
    train_loader = DataLoader(TensorDataset(X[:420], y[:420]), batch_size=32, shuffle=True)
    val_loader = DataLoader(TensorDataset(X[420:], y[420:]), batch_size=120)
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 4))
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.003, weight_decay=0.01)
    for epoch in range(5):
        model.train()
        for xb, yb in train_loader:
            optimizer.zero_grad()
            criterion(model(xb), yb).backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            for xb, yb in val_loader:
                criterion(model(xb), yb)
    ```
    """

    code = "TL201"
    name = "overfitting-gap"
    severity = Severity.WARNING
    options = {"window": 3, "min_rise": 0.05, "gap_ratio": 2.0, "min_gap": 0.2}
    techniques = ("early-stopping", "dropout", "weight-decay", "data-augmentation")

    def check_trace(self, ctx):
        trace = ctx.trace
        pairs = [(e["epoch"], t, v) for e, t, v in zip(trace.epochs, trace.epoch_values("train_loss"), trace.epoch_values("val_loss")) if t is not None and v is not None]
        if len(pairs) < 2:
            return
        window = max(2, int(ctx.options.get("window", 3)))
        last = pairs[-window:]
        train_first, train_last = last[0][1], last[-1][1]
        val_first, val_last = last[0][2], last[-1][2]
        rising = (
            len(last) == window
            and val_last > val_first * (1 + float(ctx.options.get("min_rise", 0.05)))
            and train_last < train_first
        )
        final_t, final_v = pairs[-1][1], pairs[-1][2]
        gap = (
            final_v > final_t * float(ctx.options.get("gap_ratio", 2.0))
            and final_v - final_t >= float(ctx.options.get("min_gap", 0.2))
        )
        if not (rising or gap):
            return
        loader = trace.train_loader()
        best = min(pairs, key=lambda p: p[2])
        if rising:
            message = (
                f"validation loss rose from {val_first:.3f} to {val_last:.3f} over epochs {last[0][0]}-{last[-1][0]} "
                f"while training loss fell from {train_first:.3f} to {train_last:.3f}"
            )
        else:
            message = f"final validation loss {final_v:.3f} is {final_v / final_t:.1f}x the training loss {final_t:.3f}"
        if best[0] != pairs[-1][0]:
            message += f"; the best validation loss was {best[2]:.3f} at epoch {best[0]}"
        opt = trace.main_optimizer()
        loss = trace.train_loss()
        names = {
            "optimizer": label(opt, "optimizer") if opt and opt.get("name") else "optimizer",
            "train_loader": (loader or {}).get("name") or "train_loader",
            "val_loader": next((ld.get("name") for ld in trace.loaders_with_role("eval") if ld.get("name")), "val_loader"),
            "loss_name": (loss or {}).get("name") or "criterion",
        }
        model = trace.models[0] if trace.models else {}
        yield ctx.finding(
            (loader or {}).get("iter_frame"),
            message,
            evidence={
                "train_loss": [p[1] for p in pairs],
                "val_loss": [p[2] for p in pairs],
                "epochs": [p[0] for p in pairs],
                "best_epoch": best[0],
            },
            fixes=[
                FixRef("early-stopping", {**names, "model": model.get("name") or "model", "patience": 3}),
                FixRef("dropout", {"model": model.get("name") or "model"}),
                FixRef("weight-decay", {"optimizer": names["optimizer"], "model": model.get("name") or "model", "optimizer_class": (opt or {}).get("type", "SGD")}),
                FixRef("data-augmentation", {"train_loader": names["train_loader"]}),
            ],
        )
