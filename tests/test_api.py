"""The notebook API: trainlint.audit(...) and `with trainlint.trace() as t:` (needs torch)."""

from __future__ import annotations

import os

import pytest

import trainlint
from trainlint.model import Report

pytestmark = pytest.mark.probe
torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

HERE = os.path.relpath(__file__)


def imbalanced_loaders():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(800, 8, generator=g)
    y = (torch.arange(800) % 8 == 0).long()  # 7:1
    train = DataLoader(TensorDataset(X[:640], y[:640]), batch_size=32, shuffle=True, generator=g)
    val = DataLoader(TensorDataset(X[640:], y[640:]), batch_size=80)
    return train, val


def test_audit_trains_judges_and_restores_the_model():
    torch.manual_seed(0)
    train_loader, val_loader = imbalanced_loaders()
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    criterion = nn.CrossEntropyLoss()
    report = trainlint.audit(model, train_loader, val_loader, loss_fn=criterion, epochs=3, max_batches=10)
    assert isinstance(report, Report)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    trace = report.trace
    assert trace["run"]["mode"] == "api" and trace["run"]["status"] == "ok"
    assert [e["train_batches"] for e in trace["epochs"]] == [10, 10, 10]
    assert all(e["val_loss"] is not None for e in trace["epochs"])
    imbalance = [f for f in report.findings if f.code == "TL301"]
    assert len(imbalance) == 1
    assert imbalance[0].message.startswith("train_loader yields")
    assert "criterion (CrossEntropyLoss) has no weight" in imbalance[0].message
    assert imbalance[0].location.path == HERE  # findings point at the notebook / script that called audit


def test_audit_with_class_weights_has_no_imbalance_finding():
    train_loader, val_loader = imbalanced_loaders()
    model = nn.Linear(8, 2)
    weighted = nn.CrossEntropyLoss(weight=torch.tensor([0.57, 4.0]))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    report = trainlint.audit(model, train_loader, val_loader, optimizer=optimizer, loss_fn=weighted, scheduler=scheduler, epochs=2)
    assert "TL301" not in {f.code for f in report.findings}
    lrs = sorted(set(report.trace["optimizers"][0]["lr"]["y"]))
    assert lrs == [0.0005, 0.001]
    assert optimizer.param_groups[0]["lr"] == 0.001  # scheduler state restored


def test_trace_context_manager_judges_a_custom_loop():
    torch.manual_seed(0)
    X, y = torch.randn(256, 8), torch.randint(0, 2, (256,))
    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)
    model = nn.Linear(8, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    with trainlint.trace() as t:
        for epoch in range(3):
            for xb, yb in loader:
                opt.zero_grad()
                nn.functional.cross_entropy(model(xb), yb).backward()
                opt.step()
    codes = {f.code for f in t.report.findings}
    assert {"TL101", "TL401"} <= codes  # nothing validated; lr=0.1 for all 3 epochs
    assert len(t.trace.epochs) == 3
    assert t.trace.losses[0]["type"] == "cross_entropy" and t.trace.losses[0]["functional"]
    # The tracer is gone afterwards: a plain DataLoader iterator again.
    assert type(iter(loader)).__name__ == "_SingleProcessDataLoaderIter"


def test_trace_records_an_exception_and_lets_it_propagate():
    model = nn.Linear(4, 2)
    with pytest.raises(RuntimeError):
        with trainlint.trace() as t:
            model(torch.randn(3, 5))
    (finding,) = [f for f in t.report.findings if f.code == "TL902"]
    assert finding.message.startswith("the script raised RuntimeError: mat1 and mat2 shapes cannot be multiplied")
    assert finding.location.path == HERE


def test_audit_rejects_bad_input_with_a_clear_message():
    with pytest.raises(TypeError, match="needs a torch.nn.Module as model, got str"):
        trainlint.audit("model", [])
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        trainlint.audit(nn.Linear(2, 2), [], epochs=0)
    with pytest.raises(TypeError, match=r"needs batches of \(inputs, targets\); got Tensor"):
        trainlint.audit(nn.Linear(2, 2), [torch.randn(4, 2)])
