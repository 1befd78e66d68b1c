"""TL501-TL505 on the training-loop shapes real scripts have, and their look-alikes."""

import pytest

from static_findings import findings, lines

HEAD = """
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
val_loader = DataLoader(val_set, batch_size=256)
model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 2))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
"""

TRAIN = """
def train():
    {train_mode}
    for x, y in train_loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""

EVALUATE = """
{decorator}
def evaluate(loader):
    {eval_mode}
    correct = 0
    with torch.no_grad():
        for x, y in loader:
            correct += (model(x).argmax(1) == y).sum().item()
    return correct
"""

MAIN = """
for epoch in range(10):
    train()
    print(evaluate(val_loader))
"""


def script(train_mode="model.train()", eval_mode="model.eval()", decorator="", head=HEAD, main=MAIN):
    return (head + TRAIN.format(train_mode=train_mode)
            + EVALUATE.format(eval_mode=eval_mode, decorator=decorator) + main)


def test_the_standard_shape_is_quiet_for_every_loop_rule():
    for code in ("TL501", "TL502", "TL503", "TL504", "TL505"):
        assert findings(code, script()) == [], code


# -- TL501 missing-eval-mode -----------------------------------------------------------------------

def test_evaluation_in_training_mode_is_reported_at_the_forward_pass():
    (finding,) = findings("TL501", script(eval_mode="pass"))
    assert finding.location.line == 23
    assert "`model` is evaluated here over `val_loader` in training mode" in finding.message
    assert "dropout" in finding.message
    assert finding.fixes[0].params == {"model": "model", "val_loader": "val_loader"}


@pytest.mark.parametrize("eval_mode", ["model.train(False)", "model.train(mode=False)"])
def test_train_false_is_eval_mode(eval_mode):
    assert findings("TL501", script(eval_mode=eval_mode)) == []


def test_model_without_dropout_or_batch_norm_is_quiet():
    head = HEAD.replace("nn.Dropout(0.5), ", "")
    assert findings("TL501", script(eval_mode="pass", head=head)) == []


def test_eval_under_an_if_is_not_trusted_either_way():
    assert findings("TL501", script(eval_mode="if verbose:\n        model.eval()")) == []


def test_full_batch_validation_inside_the_epoch_loop():
    src = """
import torch
model = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.BatchNorm1d(32), torch.nn.Linear(32, 2))
opt = torch.optim.Adam(model.parameters())
for epoch in range(100):
    model.train()
    opt.zero_grad()
    torch.nn.functional.cross_entropy(model(X_train), y_train).backward()
    opt.step()
    with torch.no_grad():
        val_loss = torch.nn.functional.cross_entropy(model(X_val), y_val)
"""
    (finding,) = findings("TL501", src)
    assert finding.location.line == 11
    assert "batch norm" in finding.message


def test_sampling_a_generator_from_noise_is_not_evaluation():
    src = """
import torch
netG = torch.nn.Sequential(torch.nn.Linear(100, 64), torch.nn.BatchNorm1d(64), torch.nn.Linear(64, 784))
optG = torch.optim.Adam(netG.parameters(), lr=2e-4)
for epoch in range(5):
    optG.zero_grad()
    netG(torch.randn(64, 100)).mean().backward()
    optG.step()
    with torch.no_grad():
        samples = netG(fixed_noise)
"""
    assert findings("TL501", src) == []


# -- TL502 missing-train-mode ----------------------------------------------------------------------

def test_eval_without_train_back_is_reported_at_the_eval_call():
    (finding,) = findings("TL502", script(train_mode="pass"))
    assert finding.location.line == 19
    assert "`model.eval()` leaves `model` in evaluation mode" in finding.message
    assert "from the second epoch on" in finding.message
    assert finding.fixes[0].technique == "train-mode"


def test_eval_before_the_loop_trains_in_eval_mode_from_the_start():
    main = "model.eval()\n" + MAIN.replace("    print(evaluate(val_loader))\n", "")
    (finding,) = findings("TL502", script(train_mode="pass", main=main))
    assert finding.location.line == 25
    assert "from the start of training" in finding.message


def test_evaluation_every_n_steps_without_train_back_is_reported():
    src = HEAD + TRAIN.format(train_mode="model.train()").replace(
        "        optimizer.step()",
        "        optimizer.step()\n        if i % 100 == 0:\n            evaluate(val_loader)").replace(
        "for x, y in train_loader:", "for i, (x, y) in enumerate(train_loader):") \
        + EVALUATE.format(eval_mode="model.eval()", decorator="") + "for epoch in range(10):\n    train()\n"
    (finding,) = findings("TL502", src)
    assert finding.location.line == 21
    assert "after the first evaluation" in finding.message
    fixed = src.replace("            evaluate(val_loader)", "            evaluate(val_loader)\n            model.train()")
    assert findings("TL502", fixed) == []


def test_train_mode_set_in_the_epoch_loop_is_enough():
    main = MAIN.replace("    train()\n", "    model.train()\n    train()\n")
    assert findings("TL502", script(train_mode="pass", main=main)) == []


def test_phase_loop_of_the_transfer_learning_tutorial_is_quiet():
    src = HEAD + """
loaders = {"train": train_loader, "val": val_loader}
for epoch in range(25):
    for phase in ["train", "val"]:
        if phase == "train":
            model.train()
        else:
            model.eval()
        for x, y in loaders[phase]:
            optimizer.zero_grad()
            with torch.set_grad_enabled(phase == "train"):
                loss = nn.functional.cross_entropy(model(x), y)
                if phase == "train":
                    loss.backward()
                    optimizer.step()
"""
    for code in ("TL501", "TL502", "TL504"):
        assert findings(code, src) == [], code


# -- TL503 missing-zero-grad -----------------------------------------------------------------------

LOOP = """
for epoch in range(10):
    for i, (x, y) in enumerate(train_loader):
{body}
"""


def loop_body(*statements):
    return HEAD + LOOP.format(body="\n".join("        " + s for s in statements))


def test_missing_zero_grad_is_reported_at_the_step():
    src = loop_body("loss = nn.functional.cross_entropy(model(x), y)", "loss.backward()", "optimizer.step()")
    (finding,) = findings("TL503", src)
    assert finding.location.line == 14
    assert finding.message.startswith("`optimizer.step()` runs without `optimizer.zero_grad()`: gradients are never")


def test_zero_grad_once_per_epoch_is_reported_with_its_line():
    src = HEAD + """
for epoch in range(10):
    optimizer.zero_grad()
    for x, y in train_loader:
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""
    (finding,) = findings("TL503", src)
    assert finding.location.line == 14
    assert "only cleared once per outer iteration (line 11)" in finding.message


@pytest.mark.parametrize("statements", [
    ("optimizer.zero_grad(set_to_none=True)", "model(x).sum().backward()", "optimizer.step()"),
    ("model.zero_grad()", "model(x).sum().backward()", "optimizer.step()"),
    ("model(x).sum().backward()", "optimizer.step()", "for p in model.parameters():", "    p.grad = None"),
    ("model(x).sum().backward()", "optimizer.step()", "for p in model.parameters():", "    p.grad.zero_()"),
    ("(model(x).sum() / 4).backward()", "if (i + 1) % 4 == 0:", "    optimizer.step()", "    optimizer.zero_grad()"),
    ("optimizer.step(closure)",),
    ("model(x).sum().backward()", "optimizer.step()", "clear_gradients()"),
])
def test_every_way_of_clearing_gradients_is_accepted(statements):
    src = loop_body(*statements) + "\ndef clear_gradients():\n    optimizer.zero_grad()\n"
    assert findings("TL503", src) == []


def test_amp_scaler_step_without_zero_grad_is_reported():
    src = loop_body("scaler.scale(model(x).sum()).backward()", "scaler.step(optimizer)", "scaler.update()")
    assert lines("TL503", src) == [13]


def test_step_in_a_helper_called_from_another_file_is_not_judged():
    src = HEAD + "def training_step(x, y):\n    model(x).sum().backward()\n    optimizer.step()\n"
    assert findings("TL503", src) == []


# -- TL504 evaluation-without-no-grad --------------------------------------------------------------

NO_GRAD_FREE_EVAL = HEAD + """
def evaluate(loader):
    {decorator}
    model.eval()
    losses = []
    for x, y in loader:
        losses.append(nn.functional.cross_entropy(model(x), y))
    return losses
""" + "for epoch in range(3):\n    for x, y in train_loader:\n        optimizer.zero_grad()\n" \
      "        model(x).sum().backward()\n        optimizer.step()\n    evaluate(val_loader)\n"


def test_evaluation_loop_outside_no_grad_is_reported_once_at_the_forward():
    src = NO_GRAD_FREE_EVAL.replace("    {decorator}\n", "")
    (finding,) = findings("TL504", src)
    assert finding.location.line == 14
    assert finding.message.startswith("`model(x)` evaluates `model` over `val_loader` outside `torch.no_grad()`")
    assert finding.fixes[0].params == {"model": "model", "val_loader": "val_loader"}


@pytest.mark.parametrize("decorator", ["@torch.no_grad()", "@torch.inference_mode()"])
def test_decorated_evaluation_is_quiet(decorator):
    src = NO_GRAD_FREE_EVAL.replace("def evaluate(loader):\n    {decorator}\n", f"{decorator}\ndef evaluate(loader):\n")
    assert findings("TL504", src) == []


def test_old_volatile_variables_are_quiet():
    src = NO_GRAD_FREE_EVAL.replace("    {decorator}\n", "").replace(
        "model(x), y))", "model(Variable(x, volatile=True)), y))")
    assert findings("TL504", src) == []


def test_loop_that_computes_input_gradients_is_not_evaluation():
    src = NO_GRAD_FREE_EVAL.replace("    {decorator}\n", "").replace(
        "        losses.append(nn.functional.cross_entropy(model(x), y))",
        "        x.requires_grad_(True)\n        nn.functional.cross_entropy(model(x), y).backward()\n"
        "        losses.append(x.grad.abs())")
    assert findings("TL504", src) == []


# -- TL505 unshuffled-train-loader -----------------------------------------------------------------

def train_with(loader_line):
    return f"""
import torch
from torch.utils.data import DataLoader
{loader_line}
model = torch.nn.Sequential(torch.nn.Linear(10, 2))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
for epoch in range(3):
    for x, y in train_loader:
        optimizer.zero_grad()
        model(x).sum().backward()
        optimizer.step()
"""


def test_unshuffled_train_loader_is_reported_at_its_creation():
    (finding,) = findings("TL505", train_with("train_loader = DataLoader(train_set, batch_size=32)"))
    assert finding.location.line == 4
    assert finding.message.startswith("`train_loader` feeds the training loop at line 8 but is created without "
                                      "`shuffle=True`")
    assert finding.fixes[0].params == {"train_loader": "train_loader", "dataset": "train_set", "batch_size": 32}


def test_explicit_shuffle_false_is_reported_as_such():
    (finding,) = findings("TL505", train_with("train_loader = DataLoader(train_set, 32, False)"))
    assert "created with `shuffle=False`" in finding.message


@pytest.mark.parametrize("loader_line", [
    "train_loader = DataLoader(train_set, batch_size=32, shuffle=True)",
    "train_loader = DataLoader(train_set, 32, True)",
    "train_loader = DataLoader(train_set, batch_size=32, shuffle=args.shuffle)",
    "train_loader = DataLoader(train_set, batch_size=32, sampler=DistributedSampler(train_set))",
    "train_loader = DataLoader(train_set, batch_sampler=bucket_sampler)",
    "train_loader = DataLoader(train_set, **loader_kwargs)",
    "kw = {'batch_size': 32} if cuda else {}\ntrain_loader = DataLoader(train_set, **kw)",
    "train_loader = DataLoader(stream, batch_size=None)",
    "class Stream(torch.utils.data.IterableDataset):\n    pass\ntrain_loader = DataLoader(Stream(), batch_size=8)",
])
def test_shuffling_decided_elsewhere_is_quiet(loader_line):
    assert findings("TL505", train_with(loader_line)) == []


def test_validation_loader_without_shuffle_is_fine():
    src = train_with("train_loader = DataLoader(train_set, batch_size=32, shuffle=True)\n"
                     "val_loader = DataLoader(val_set, batch_size=256)")
    assert findings("TL505", src + "for x, y in val_loader:\n    model(x)\n") == []


def test_explicit_forward_calls_are_forward_passes():
    src = """
import torch
model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.2), torch.nn.Linear(8, 3))
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
for i in range(100):
    loss = torch.nn.functional.cross_entropy(model.forward(X_train), y_train)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
with torch.no_grad():
    y_eval = model.forward(X_test)
"""
    assert lines("TL501", src) == [11]


def test_monte_carlo_dropout_after_training_is_deliberate():
    src = HEAD + TRAIN.format(train_mode="model.train()") + """
for epoch in range(10):
    train()
model.train()  # keep dropout on: sample predictions for uncertainty
with torch.no_grad():
    samples = torch.stack([model(X_test) for _ in range(50)])
"""
    assert findings("TL501", src) == []
    forgotten = src.replace("model.train()  # keep dropout on: sample predictions for uncertainty\n", "")
    assert lines("TL501", forgotten) == [20]


def test_sequence_model_fed_in_order_on_purpose_is_quiet():
    src = train_with("train_loader = DataLoader(windows, batch_size=32, shuffle=False)").replace(
        "model = torch.nn.Sequential(torch.nn.Linear(10, 2))",
        "model = torch.nn.Sequential(torch.nn.LSTM(10, 32, batch_first=True))")
    assert findings("TL505", src) == []


def test_zero_grad_between_backward_and_step_is_reported_at_the_zero_grad():
    src = loop_body("loss = nn.functional.cross_entropy(model(x), y)", "loss.backward()",
                    "optimizer.zero_grad()", "optimizer.step()")
    (finding,) = findings("TL503", src)
    assert finding.location.line == 14
    assert "wipes the gradients just computed" in finding.message
    other_model = loop_body("loss = nn.functional.cross_entropy(model(x), y)", "optimizer.zero_grad()",
                            "loss.backward()", "critic.zero_grad()", "optimizer.step()")
    assert findings("TL503", other_model) == []


def test_model_created_in_a_main_run_by_a_cli_library_starts_in_training_mode():
    src = """
import fire
import torch
from torch.utils.data import DataLoader

def main(epochs=10):
    val_loader = DataLoader(val_set, batch_size=256)
    model = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.Dropout(0.5), torch.nn.Linear(32, 2))
    with torch.no_grad():
        for x, y in val_loader:
            print(model(x).argmax(1))

fire.Fire(main)
"""
    assert lines("TL501", src) == [11]


def test_evaluation_helper_in_a_module_of_helpers_is_checked_for_no_grad():
    src = """
import torch

def evaluate(model, val_loader):
    model.eval()
    total = 0
    for x, y in val_loader:
        total += (model(x).argmax(1) == y).sum().item()
    return total

def train_epoch(model, train_loader, optimizer):
    model.train()
    for x, y in train_loader:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""
    assert lines("TL504", src) == [8]
    assert findings("TL501", src) == [] and findings("TL502", src) == []


def test_lines_in_messages_are_cell_lines_in_notebooks():
    from pathlib import Path

    from static_findings import RULES
    from trainlint.rule import StaticContext
    from trainlint.static import analyze_path

    notebook = Path(__file__).resolve().parents[1] / "fixtures" / "static" / "style_notebook_unshuffled.ipynb"
    rule = RULES["TL505"]
    facts = analyze_path(str(notebook))
    (finding,) = rule().check_static(StaticContext(rule=rule(), options={}, facts=facts))
    assert (finding.location.cell, finding.location.line) == (3, 6)
    assert "feeds the training loop at cell 5, line 4" in finding.message


def test_explicit_shuffle_false_is_reported_for_ordinary_data():
    source = """
        import torch
        from torch.utils.data import DataLoader

        model = torch.nn.Linear(10, 2)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        train_loader = DataLoader(train_set, batch_size=32, shuffle=False)
        for epoch in range(10):
            for x, y in train_loader:
                optimizer.zero_grad()
                torch.nn.functional.cross_entropy(model(x), y).backward()
                optimizer.step()
    """
    (finding,) = findings("TL505", source)
    assert "created with `shuffle=False` and no sampler" in finding.message


def test_explicit_shuffle_false_on_time_series_is_left_alone():
    source = """
        import torch
        from torch.utils.data import DataLoader

        model = torch.nn.Linear(10, 2)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        train_loader = DataLoader(TimeSeriesDataset(windows), batch_size=32, shuffle=False)
        for epoch in range(10):
            for x, y in train_loader:
                optimizer.zero_grad()
                torch.nn.functional.mse_loss(model(x), y).backward()
                optimizer.step()
    """
    assert findings("TL505", source) == []
