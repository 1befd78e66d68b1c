"""TL202 no-regularization: only long runs with nothing at all that regularises."""

import pytest

from static_findings import findings

SCRIPT = """
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
model = nn.Sequential({layers})
optimizer = torch.optim.{optimizer}
for epoch in range({epochs}):
    for x, y in train_loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
{extra}"""


def script(layers="nn.Linear(13, 512), nn.ReLU(), nn.Linear(512, 3)",
           optimizer="Adam(model.parameters(), lr=1e-3)", epochs="100", extra=""):
    return SCRIPT.format(layers=layers, optimizer=optimizer, epochs=epochs, extra=extra)


def test_long_unregularised_run_is_reported_at_the_model():
    (finding,) = findings("TL202", script())
    assert finding.location.line == 6
    assert finding.message.startswith("`model` (Sequential) trains for 100 epochs with no regularisation")
    assert [f.technique for f in finding.fixes] == ["dropout", "weight-decay", "batch-norm", "early-stopping",
                                                    "data-augmentation"]
    assert finding.fixes[1].params["optimizer"] == "optimizer"


@pytest.mark.parametrize("change", [
    {"epochs": "10"},
    {"epochs": "args.epochs"},
    {"layers": "nn.Linear(13, 512), nn.ReLU(), nn.Dropout(0.3), nn.Linear(512, 3)"},
    {"layers": "nn.Linear(13, 512), nn.BatchNorm1d(512), nn.ReLU(), nn.Linear(512, 3)"},
    {"layers": "nn.Linear(13, 512), nn.LayerNorm(512), nn.Linear(512, 3)"},
    {"optimizer": "Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)"},
    {"optimizer": "AdamW(model.parameters(), lr=1e-3)"},
    {"optimizer": "SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=cfg.wd)"},
    {"extra": "    if val_loss > best + 1e-4:\n        break\n"},
    {"extra": "    if early_stopper.should_stop(val_loss):\n        pass\n"},
    {"extra": "aug = transforms.RandomHorizontalFlip()\n"},
])
def test_any_regularisation_or_short_run_is_quiet(change):
    src = script(**change)
    if "transforms" in src:
        src = "from torchvision import transforms\n" + src
    assert findings("TL202", src) == []


def test_model_from_elsewhere_is_not_judged():
    src = script().replace("model = nn.Sequential(nn.Linear(13, 512), nn.ReLU(), nn.Linear(512, 3))",
                           "model = build_model(cfg)")
    assert findings("TL202", src) == []


def test_l2_penalty_written_by_hand_counts():
    src = script().replace(
        "        nn.functional.cross_entropy(model(x), y).backward()",
        "        penalty = sum(p.pow(2).sum() for p in model.parameters())\n"
        "        (nn.functional.cross_entropy(model(x), y) + 1e-4 * penalty).backward()")
    assert findings("TL202", src) == []


def test_gaussian_input_noise_counts_as_augmentation():
    src = script().replace("        optimizer.zero_grad()\n",
                           "        optimizer.zero_grad()\n        x = x + 0.05 * torch.randn_like(x)\n")
    assert findings("TL202", src) == []
