"""What the probe saw inside the model: batch-norm layers trained on tiny batches."""

from __future__ import annotations

from trainlint.model import FixRef, Severity
from trainlint.probe.trace import label
from trainlint.rule import Rule


class BatchNormTinyBatches(Rule):
    """
    ## What it does
    Reports a batch-norm layer that, in training mode, received batches of fewer than
    `min_batch` samples (default 4), such as the last, incomplete batch of an epoch.

    ## Why is this bad?
    Batch norm normalises with the statistics of the current batch. From one or two samples
    those statistics are noise (with one sample, `BatchNorm1d` fails outright), and they are
    also folded into the running mean and variance used at evaluation, so one tiny batch per
    epoch degrades the model every epoch.

    ## Example
    ```python
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    X, y = torch.randn(130, 8), torch.randint(0, 2, (130,))
    train_loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)  # last batch: 2
    model = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 2))
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
    X, y = torch.randn(130, 8), torch.randint(0, 2, (130,))
    train_loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, drop_last=True)
    model = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 2))
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for xb, yb in train_loader:
        optimizer.zero_grad()
        criterion(model(xb), yb).backward()
        optimizer.step()
    ```
    """

    code = "TL603"
    name = "batchnorm-tiny-batches"
    severity = Severity.WARNING
    options = {"min_batch": 4}
    techniques = ("drop-last",)

    def check_trace(self, ctx):
        trace = ctx.trace
        limit = int(ctx.options.get("min_batch", 4))
        loader = trace.train_loader() or {}
        tiny = [bn for bn in trace.batchnorm if bn.get("min_batch") is not None and bn["min_batch"] < limit]
        if not tiny:
            return
        worst = min(tiny, key=lambda bn: bn["min_batch"])
        names = ", ".join(bn.get("module") or "?" for bn in tiny[:3])
        advice = ""
        if loader and loader.get("batch_size") and not loader.get("drop_last"):
            advice = f"; {label(loader, 'train loader')} (batch_size={loader['batch_size']}) keeps its last incomplete batch: pass drop_last=True"
        message = f"batch norm {names} trained on batches of {worst['min_batch']} sample(s){advice}"
        model = trace.by_id("models", worst.get("model")) or {}
        yield ctx.finding(
            loader.get("frame") or worst.get("frame"),
            message,
            evidence={"layers": tiny, "batch_size": loader.get("batch_size"), "drop_last": loader.get("drop_last")},
            fixes=[FixRef("drop-last", _drop_last_params(loader))],
        )


def _drop_last_params(loader: dict) -> dict:
    """The train loader's own name, batch size and how small its last batch is."""
    params: dict = {"train_loader": loader.get("name") or "train_loader"}
    size = (loader.get("dataset") or {}).get("length")
    batch = loader.get("batch_size")
    if isinstance(batch, int) and batch > 0:
        params["batch_size"] = batch
        if isinstance(size, int):
            params["dataset_size"] = size
            params["remainder"] = size % batch
    return params
