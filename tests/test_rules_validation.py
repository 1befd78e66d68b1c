"""TL101 missing-validation-split and TL102 test-set-model-selection on the cases the fixtures
do not pin: where the finding lands, and the look-alikes that must stay quiet."""

from static_findings import findings, lines

TRAIN_LOOP = """
for epoch in range(5):
    for x, y in train_loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
"""


def with_loop(head: str, tail: str = "") -> str:
    return head + TRAIN_LOOP + tail


MNIST_HEAD = """
import torch
from torch.utils.data import DataLoader
from torchvision import datasets, transforms
tf = transforms.ToTensor()
train_set = datasets.MNIST("data", train=True, transform=tf)
test_set = datasets.MNIST("data", train=False, transform=tf)
train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
test_loader = DataLoader(test_set, batch_size=1000)
model = torch.nn.Linear(784, 10)
criterion = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
"""


def test_only_test_set_is_reported_at_the_optimizer_with_names_and_epochs():
    src = with_loop(MNIST_HEAD, "    print(sum(model(x).argmax(1).eq(y).sum() for x, y in test_loader))\n")
    (finding,) = findings("TL101", src)
    assert finding.location.line == 12
    assert "optimizer `optimizer` (Adam, lr=0.001)" in finding.message
    assert "for 5 epochs" in finding.message
    assert "`test_loader`" in finding.message
    assert [f.technique for f in finding.fixes] == ["validation-split", "test-set-once"]
    assert finding.fixes[1].params["test_loader"] == "test_loader"


def test_test_set_scored_only_after_training_still_means_no_validation():
    (finding,) = findings("TL101", with_loop(MNIST_HEAD, "print(len(test_loader))\n"))
    assert "the only held-out data is the test set `test_loader`" in finding.message


def test_optimizer_from_a_parameter_is_reported_at_the_training_loop():
    src = MNIST_HEAD.replace("optimizer = torch.optim.Adam(model.parameters(), lr=0.001)\n", "") + """
def fit(model, optimizer):
    for epoch in range(5):
        for x, y in train_loader:
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()
"""
    assert lines("TL101", src) == [14]  # the epoch loop


def test_quiet_when_a_split_part_is_not_the_test_set():
    head = MNIST_HEAD.replace(
        'train_loader = DataLoader(train_set, batch_size=64, shuffle=True)',
        'part_a, part_b = torch.utils.data.random_split(train_set, [50000, 10000])\n'
        'train_loader = DataLoader(part_a, batch_size=64, shuffle=True)')
    assert lines("TL101", with_loop(head)) == []


def test_quiet_with_phase_dicts_keyed_by_val():
    src = """
import torch
from torchvision import datasets
image_datasets = {x: datasets.ImageFolder(f"data/{x}") for x in ["train", "val"]}
loaders = {x: torch.utils.data.DataLoader(image_datasets[x], shuffle=True) for x in ["train", "val"]}
model = torch.nn.Linear(3, 2)
criterion = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
train_loader = loaders["train"]
""" + TRAIN_LOOP
    assert lines("TL101", src) == []


def test_quiet_with_cross_validation():
    src = """
import torch
from sklearn.model_selection import cross_val_score
from torch.utils.data import DataLoader, TensorDataset
train_loader = DataLoader(TensorDataset(torch.randn(10, 3), torch.zeros(10)), shuffle=True)
model = torch.nn.Linear(3, 2)
criterion = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
scores = cross_val_score(estimator, X, y, cv=5)
""" + TRAIN_LOOP
    assert lines("TL101", src) == []


def test_quiet_for_a_training_function_whose_data_comes_from_elsewhere():
    src = """
import torch
def train(model, train_loader, epochs):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(epochs):
        for x, y in train_loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
"""
    assert lines("TL101", src) == []


def test_device_named_dev_is_not_validation_data():
    src = with_loop("""
import torch
from torch.utils.data import DataLoader, TensorDataset
dev = torch.device("cpu")
train_loader = DataLoader(TensorDataset(torch.randn(10, 3), torch.zeros(10)), shuffle=True)
model = torch.nn.Linear(3, 2).to(dev)
criterion = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
""")
    assert lines("TL101", src) == [8]


# -- TL102 --------------------------------------------------------------------------------

def test_metric_from_a_test_call_chooses_the_checkpoint():
    src = """
import torch
best_acc = 0
for epoch in range(10):
    train(model, train_loader, optimizer)
    acc = test(model, device, test_loader)
    if acc > best_acc:
        best_acc = acc
        torch.save(model.state_dict(), "best.pt")
"""
    (finding,) = findings("TL102", src)
    assert finding.location.line == 7
    assert "`acc`" in finding.message and "torch.save()" in finding.message
    assert [f.technique for f in finding.fixes] == ["validation-split", "early-stopping", "test-set-once"]


def test_phase_named_test_in_the_tutorial_loop_is_selection_on_the_test_set():
    src = """
import copy
for epoch in range(10):
    for phase in ["train", "test"]:
        epoch_acc = run(phase)
        if phase == "test" and epoch_acc > best_acc:
            best_acc = epoch_acc
            best_wts = copy.deepcopy(model.state_dict())
"""
    assert lines("TL102", src) == [6]


def test_hyperparameter_choice_by_test_score_names_the_choice():
    src = """
best_acc, best_lr = 0, None
for lr in [0.1, 0.01, 0.001]:
    model = fit(lr)
    test_acc = score(model, X_test, y_test)
    if test_acc > best_acc:
        best_acc = test_acc
        best_lr = lr
"""
    (finding,) = findings("TL102", src)
    assert finding.location.line == 6
    assert "chooses `best_acc, best_lr`" in finding.message or "`best_lr`" in finding.message


def test_early_stopping_helper_fed_the_test_loss():
    src = """
early_stopping = EarlyStopping(patience=5)
for epoch in range(100):
    train(model)
    test_loss = evaluate(model, test_loader)
    early_stopping(test_loss, model)
    if early_stopping.early_stop:
        break
"""
    assert lines("TL102", src) == [6]


def test_quiet_for_reporting_settings_and_validation_metrics():
    src = """
import torch
for epoch in range(10):
    test_acc = evaluate(model, test_loader)
    if test_acc > 0.99:
        print("great test accuracy", test_acc)
    if epoch % args.test_every == 0:
        torch.save(model.state_dict(), f"epoch{epoch}.pt")
    if batch_idx == len(test_loader) - 1:
        torch.save(model.state_dict(), "last.pt")
    val_loss = evaluate(model, val_loader)
    if val_loss < best_loss:
        best_loss = val_loss
        torch.save(model.state_dict(), "best.pt")
"""
    assert lines("TL102", src) == []


def test_plateau_scheduler_on_validation_loss_and_step_lr_on_test_loss_are_quiet():
    src = """
import torch
plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer)
step = torch.optim.lr_scheduler.StepLR(optimizer, 10)
for epoch in range(10):
    val_loss = evaluate(model, val_loader)
    test_loss = evaluate(model, test_loader)
    plateau.step(val_loss)
    step.step()
"""
    assert lines("TL102", src) == []


def test_best_flag_computed_from_the_test_accuracy():
    src = """
for epoch in range(10):
    test_acc = evaluate(model, test_loader)
    is_best = test_acc > best_acc
    save_checkpoint({"state_dict": model.state_dict()}, is_best)
    val_acc = evaluate(model, val_loader)
    is_best_val = val_acc > best_val
"""
    (finding,) = findings("TL102", src)
    assert finding.location.line == 4
    assert "sets `is_best`" in finding.message


def test_constants_ids_and_module_attributes_named_test_are_not_metrics():
    src = """
import torch
for epoch in range(10):
    if code == MultiProcessTestCase.TEST_ERROR_EXIT_CODE:
        break
    if test_id > last_test_id:
        best_id = test_id
    if torch.testing.test_loss_scale > 1:
        torch.save(model.state_dict(), "x.pt")
    if test_passed > best_passed:
        best_passed = test_passed
"""
    assert lines("TL102", src) == []


def test_accuracy_computed_in_a_function_that_only_iterates_the_test_loader():
    src = MNIST_HEAD + """
best_acc = 0

def test():
    global best_acc
    correct = 0
    for x, y in test_loader:
        correct += (model(x).argmax(1) == y).sum().item()
    acc = correct / len(test_loader.dataset)
    if acc > best_acc:
        best_acc = acc
        torch.save(model.state_dict(), "best.pt")

def evaluate(loader):
    correct = 0
    for x, y in loader:
        correct += (model(x).argmax(1) == y).sum().item()
    acc = correct / len(loader.dataset)
    if acc > best_acc:
        torch.save(model.state_dict(), "best.pt")
    return acc

test()
evaluate(train_loader)
evaluate(test_loader)
"""
    assert lines("TL102", src) == [22]
