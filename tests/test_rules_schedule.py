"""TL401-TL405 on the cases the fixtures do not pin: where the finding lands, what it says, and
the look-alikes that must stay quiet."""

import pytest

from static_findings import findings, lines

HEAD = """
import torch
from torch.utils.data import DataLoader
train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
model = torch.nn.Sequential(torch.nn.Linear(10, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
"""


def loop(epochs="30", before="", in_batch="", after="", indent="    "):
    """An epoch loop around a batch loop; extra lines at the top of the epoch, after the step,
    and after the batch loop."""
    body = [f"for epoch in range({epochs}):"]
    body += [indent + line for line in before.splitlines() if line]
    body += [indent + "for x, y in train_loader:",
             indent * 2 + "optimizer.zero_grad()",
             indent * 2 + "torch.nn.functional.cross_entropy(model(x), y).backward()",
             indent * 2 + "optimizer.step()"]
    body += [indent * 2 + line for line in in_batch.splitlines() if line]
    body += [indent + line for line in after.splitlines() if line]
    return "\n".join(body) + "\n"


# -- TL401 unscheduled-learning-rate ---------------------------------------------------------------

def test_constant_rate_is_reported_at_the_optimizer_with_its_numbers():
    (finding,) = findings("TL401", HEAD + loop())
    assert finding.location.line == 6
    assert finding.message == ("optimizer `optimizer` (Adam, lr=0.001) is stepped for 30 epochs at a "
                               "constant learning rate")
    techniques = [f.technique for f in finding.fixes]
    assert techniques == ["step-lr", "reduce-lr-on-plateau", "one-cycle-lr"]
    assert finding.fixes[0].params["optimizer"] == "optimizer"
    assert finding.fixes[0].params["epochs"] == 30


def test_epoch_count_from_argparse_default_and_default_lr_are_shown():
    src = """
import argparse
import torch
from torch.utils.data import DataLoader
parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=12)
args = parser.parse_args()
train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
model = torch.nn.Sequential(torch.nn.Linear(10, 2))
optimizer = torch.optim.RMSprop(model.parameters())
""" + loop("args.epochs")
    (finding,) = findings("TL401", src)
    assert "(RMSprop, lr=0.01) is stepped for 12 epochs" in finding.message


@pytest.mark.parametrize("epochs", ["3", "n_epochs", "int(os.environ['EPOCHS'])"])
def test_short_or_unknown_runs_are_not_judged(epochs):
    assert findings("TL401", HEAD + loop(epochs)) == []


def test_min_epochs_option_is_respected():
    from trainlint.rule import StaticContext
    from trainlint.static import analyze_source
    from static_findings import RULES

    rule = RULES["TL401"]
    facts = analyze_source(HEAD + loop("30"), "snippet.py")
    ctx = StaticContext(rule=rule(), options={"min_epochs": 50}, facts=facts)
    assert list(rule().check_static(ctx)) == []


@pytest.mark.parametrize("update", [
    "for g in optimizer.param_groups:\n    g['lr'] = 0.001 * 0.9 ** epoch",
    "optimizer.param_groups[0]['lr'] *= 0.95",
    "adjust_learning_rate(optimizer, epoch)",
    "for g in optimizer.param_groups:\n    g.update(lr=0.01)",
])
def test_manual_learning_rate_changes_count_as_a_schedule(update):
    assert findings("TL401", HEAD + loop(after=update)) == []


def test_schedule_from_another_library_counts():
    src = HEAD + "from transformers import get_linear_schedule_with_warmup\n" \
        "scheduler = get_linear_schedule_with_warmup(optimizer, 100, 1000)\n" + loop(in_batch="scheduler.step()")
    assert findings("TL401", src) == []


def test_gan_with_two_optimizers_is_not_nagged_about_constant_rates():
    src = """
import torch
from torch.utils.data import DataLoader
loader = DataLoader(data, batch_size=64, shuffle=True)
netG = torch.nn.Sequential(torch.nn.Linear(100, 784))
netD = torch.nn.Sequential(torch.nn.Linear(784, 1))
optD = torch.optim.Adam(netD.parameters(), lr=2e-4)
optG = torch.optim.Adam(netG.parameters(), lr=2e-4)
for epoch in range(25):
    for real, _ in loader:
        netD.zero_grad()
        lossD = netD(real).mean() - netD(netG(torch.randn(64, 100)).detach()).mean()
        lossD.backward()
        optD.step()
        netG.zero_grad()
        lossG = -netD(netG(torch.randn(64, 100))).mean()
        lossG.backward()
        optG.step()
"""
    assert findings("TL401", src) == []


def test_step_loop_without_epochs_says_iterations():
    src = """
import torch
model = torch.nn.Sequential(torch.nn.Linear(10, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
for step in range(5000):
    opt.zero_grad()
    torch.nn.functional.mse_loss(model(X), Y).backward()
    opt.step()
"""
    (finding,) = findings("TL401", src)
    assert "stepped for 5000 iterations" in finding.message


# -- TL402 scheduler-never-stepped -----------------------------------------------------------------

def test_unstepped_scheduler_is_reported_at_its_creation():
    src = HEAD + "scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10)\n" + loop()
    (finding,) = findings("TL402", src)
    assert finding.location.line == 7
    assert "`scheduler` (StepLR) is created but `scheduler.step()` is never called" in finding.message
    assert "`optimizer` trains at lr=0.001" in finding.message


@pytest.mark.parametrize("use", [
    "chained = torch.optim.lr_scheduler.SequentialLR(optimizer, schedulers=[scheduler], milestones=[])\n"
    + loop(after="chained.step()"),
    "def configure():\n    return [optimizer], [scheduler]\n",
    "trainer = Trainer(model, optimizer, lr_scheduler=scheduler)\ntrainer.fit()\n",
    loop(after="print(scheduler.get_last_lr())\nscheduler.step()"),
])
def test_scheduler_handed_on_or_stepped_is_quiet(use):
    src = HEAD + "scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10)\n" + use
    assert findings("TL402", src) == []


# -- TL403 scheduler-before-optimizer --------------------------------------------------------------

SCHED = "scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10)\n"


def test_scheduler_stepped_at_the_top_of_the_epoch_is_reported_there():
    (finding,) = findings("TL403", HEAD + SCHED + loop(before="scheduler.step()"))
    assert finding.location.line == 9
    assert "`scheduler.step()` runs before `optimizer.step()` (line 13)" in finding.message
    assert finding.fixes[0].technique == "scheduler-order"


def test_order_is_followed_into_a_train_function():
    src = HEAD + SCHED + """
def train_one_epoch():
    for x, y in train_loader:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()

for epoch in range(30):
    train_one_epoch()
    scheduler.step()
"""
    assert findings("TL403", src) == []
    flipped = src.replace("    train_one_epoch()\n    scheduler.step()", "    scheduler.step()\n    train_one_epoch()")
    assert lines("TL403", flipped) == [16]


def test_plateau_scheduler_and_warm_start_guard_are_quiet():
    plateau = HEAD + "scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer)\n" + \
        loop(before="scheduler.step(val_loss)")
    assert findings("TL403", plateau) == []
    guarded = HEAD + SCHED + loop(before="if epoch > 0:\n    scheduler.step()")
    assert findings("TL403", guarded) == []
    explicit_epoch = HEAD + SCHED + loop(before="scheduler.step(epoch)")
    assert findings("TL403", explicit_epoch) == []


# -- TL404 epoch-scheduler-stepped-per-batch -------------------------------------------------------

@pytest.mark.parametrize("scheduler, words", [
    ("StepLR(optimizer, step_size=10, gamma=0.1)", "multiplied by 0.1 every 10 batches"),
    ("MultiStepLR(optimizer, milestones=[10, 20])", "milestones [10, 20]"),
    ("ExponentialLR(optimizer, gamma=0.9)", "multiplied by 0.9 after every batch"),
    ("CosineAnnealingLR(optimizer, T_max=30)", "T_max=30 ends after 30 batches"),
    ("CosineAnnealingLR(optimizer, T_max=num_epochs)", "T_max=num_epochs"),
])
def test_epoch_schedules_stepped_per_batch_are_reported_at_the_step(scheduler, words):
    src = HEAD + f"scheduler = torch.optim.lr_scheduler.{scheduler}\n" + loop(in_batch="scheduler.step()")
    (finding,) = findings("TL404", src)
    assert finding.location.line == 13
    assert words in finding.message


@pytest.mark.parametrize("scheduler, in_batch", [
    ("StepLR(optimizer, step_size=2000)", "scheduler.step()"),
    ("CosineAnnealingLR(optimizer, T_max=30 * len(train_loader))", "scheduler.step()"),
    ("CosineAnnealingLR(optimizer, T_max=args.epochs * steps_per_epoch)", "scheduler.step()"),
    ("ExponentialLR(optimizer, gamma=0.9999)", "scheduler.step()"),
    ("LambdaLR(optimizer, lambda s: min(1.0, s / 500))", "scheduler.step()"),
    ("StepLR(optimizer, step_size=10)", "if (i + 1) % len(train_loader) == 0:\n    scheduler.step()"),
    ("OneCycleLR(optimizer, max_lr=0.1, total_steps=3000)", "scheduler.step()"),
])
def test_schedules_sized_in_batches_are_quiet(scheduler, in_batch):
    src = HEAD + f"scheduler = torch.optim.lr_scheduler.{scheduler}\n" + loop(in_batch=in_batch)
    assert findings("TL404", src) == []


# -- TL405 batch-scheduler-stepped-per-epoch -------------------------------------------------------

def test_one_cycle_stepped_per_epoch_is_reported_at_the_step():
    src = HEAD + "scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.01, epochs=30, " \
        "steps_per_epoch=len(train_loader))\n" + loop(after="scheduler.step()")
    (finding,) = findings("TL405", src)
    assert finding.location.line == 13
    assert "runs once per epoch, outside the batch loop where `optimizer.step()` runs (line 12)" in finding.message
    assert finding.fixes[0].technique == "one-cycle-lr"


def test_cyclic_lr_stepped_per_epoch_is_reported():
    src = HEAD + "scheduler = torch.optim.lr_scheduler.CyclicLR(optimizer, base_lr=1e-4, max_lr=1e-2)\n" + \
        loop(after="scheduler.step()")
    assert lines("TL405", src) == [13]


@pytest.mark.parametrize("scheduler", [
    "OneCycleLR(optimizer, max_lr=0.01, epochs=30, steps_per_epoch=1)",
    "OneCycleLR(optimizer, max_lr=0.01, total_steps=30)",
    "OneCycleLR(optimizer, max_lr=0.01, total_steps=num_epochs)",
    "CyclicLR(optimizer, base_lr=1e-4, max_lr=1e-2, step_size_up=5)",
])
def test_batch_schedules_sized_in_epochs_are_quiet(scheduler):
    src = HEAD + f"scheduler = torch.optim.lr_scheduler.{scheduler}\n" + loop(after="scheduler.step()")
    assert findings("TL405", src) == []


def in_folds(code, folds="range(5)"):
    return f"for fold in {folds}:\n" + "".join("    " + line + "\n" for line in code.splitlines())


def test_epochs_are_counted_inside_cross_validation_folds():
    (finding,) = findings("TL401", HEAD + in_folds(loop("30"), "kfold.split(X)"))
    assert "stepped for 30 epochs" in finding.message
    assert findings("TL401", HEAD + in_folds(loop("n_epochs"))) == []


def test_learning_rates_set_per_parameter_group_are_not_shown_as_the_default():
    src = HEAD.replace("optimizer = torch.optim.Adam(model.parameters(), lr=0.001)",
                       "optimizer = torch.optim.SGD([{'params': model[0].parameters(), 'lr': 0.1}], momentum=0.9)")
    (finding,) = findings("TL401", src + loop())
    assert "(SGD, lr=per parameter group)" in finding.message
