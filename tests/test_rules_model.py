"""TL601 / TL602: squashed outputs fed to losses that squash again, and the correct pairings."""

import pytest

from static_findings import findings, lines

CLASS_MODEL = """
import torch
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(64, 10)
        self.act = nn.{layer}(dim=1)

    def forward(self, x):
{forward}

model = Net()
criterion = nn.{loss}()
for x, y in loader:
    loss = criterion(model(x), y)
"""


def class_model(forward, loss="CrossEntropyLoss", layer="Softmax"):
    body = "\n".join("        " + line for line in forward.splitlines())
    return CLASS_MODEL.format(forward=body, loss=loss, layer=layer)


@pytest.mark.parametrize("forward, line", [
    ("return F.softmax(self.fc(x), dim=1)", 13),
    ("return torch.softmax(self.fc(x), 1)", 13),
    ("return self.fc(x).softmax(dim=1)", 13),
    ("return self.act(self.fc(x))", 13),
    ("x = self.fc(x)\nout = F.softmax(x, dim=1)\nreturn out", 14),
])
def test_forward_returning_probabilities_is_reported_at_the_softmax(forward, line):
    (finding,) = findings("TL601", class_model(forward))
    assert finding.location.line == line
    assert finding.message.startswith("`model` ends in `")
    loss_line = 18 + forward.count("\n")
    assert f"goes into `criterion` (CrossEntropyLoss) at line {loss_line}" in finding.message
    assert finding.fixes[0].params == {"loss_name": "criterion", "model": "model"}


def test_softmax_into_nll_loss_is_reported_too():
    (finding,) = findings("TL601", class_model("return F.softmax(self.fc(x), dim=1)", loss="NLLLoss"))
    assert finding.location.line == 13
    assert "`criterion` (NLLLoss) at line 18, which expects log-probabilities" in finding.message


@pytest.mark.parametrize("forward, loss, layer", [
    ("return F.log_softmax(self.fc(x), dim=1)", "NLLLoss", "Softmax"),
    ("return F.log_softmax(self.fc(x), dim=1)", "CrossEntropyLoss", "Softmax"),
    ("return self.act(self.fc(x))", "NLLLoss", "LogSoftmax"),
    ("return self.fc(x)", "CrossEntropyLoss", "Softmax"),
    ("x = self.fc(x)\nif not self.training:\n    return F.softmax(x, dim=1)\nreturn x", "CrossEntropyLoss", "Softmax"),
    ("attn = F.softmax(x @ x.T, dim=1)\nreturn self.fc(attn @ x)", "CrossEntropyLoss", "Softmax"),
    ("logits = self.fc(x)\nreturn logits, F.softmax(logits, dim=1)", "CrossEntropyLoss", "Softmax"),
])
def test_correct_pairings_and_look_alikes_are_quiet(forward, loss, layer):
    assert findings("TL601", class_model(forward, loss=loss, layer=layer)) == []


def test_softmax_applied_in_the_loop_is_reported_there():
    src = """
import torch
import torch.nn.functional as F
model = torch.nn.Sequential(torch.nn.Linear(64, 10))
for x, y in loader:
    probs = F.softmax(model(x), dim=1)
    loss = F.cross_entropy(probs, y)
    confidence = F.softmax(model(x), dim=1).max(1)
"""
    (finding,) = findings("TL601", src)
    assert finding.location.line == 6
    assert "`F.softmax` is applied and its output goes into F.cross_entropy at line 7" in finding.message


def test_metric_softmax_next_to_a_logits_loss_is_quiet():
    src = """
import torch
import torch.nn.functional as F
model = torch.nn.Sequential(torch.nn.Linear(64, 10))
criterion = torch.nn.CrossEntropyLoss()
for x, y in loader:
    logits = model(x)
    loss = criterion(logits, y)
    probs = logits.softmax(dim=1)
"""
    assert findings("TL601", src) == []


def test_nested_sequential_ending_in_sigmoid_feeds_bce_with_logits():
    src = """
import torch.nn as nn
head = nn.Sequential(nn.Linear(32, 1), nn.Sigmoid())
model = nn.Sequential(nn.Linear(30, 32), nn.ReLU(), head)
criterion = nn.BCEWithLogitsLoss()
for x, y in loader:
    loss = criterion(model(x).squeeze(1), y)
"""
    (finding,) = findings("TL602", src)
    assert finding.location.line == 3
    assert "`model` ends in `nn.Sigmoid`" in finding.message
    assert "sigmoid(sigmoid(x))" in finding.message


def test_sigmoid_with_plain_bce_is_quiet():
    src = """
import torch.nn as nn
model = nn.Sequential(nn.Linear(30, 1), nn.Sigmoid())
criterion = nn.BCELoss()
for x, y in loader:
    loss = criterion(model(x), y)
"""
    assert findings("TL602", src) == []


def test_torch_sigmoid_in_loop_before_functional_bce_with_logits():
    src = """
import torch
import torch.nn.functional as F
model = torch.nn.Sequential(torch.nn.Linear(30, 1))
for x, y in loader:
    loss = F.binary_cross_entropy_with_logits(torch.sigmoid(model(x)), y)
"""
    assert lines("TL602", src) == [6]


def test_loss_created_inline_at_the_call_is_followed():
    src = """
import torch.nn as nn
model = nn.Sequential(nn.Linear(64, 10), nn.Softmax(dim=1))
for x, y in loader:
    loss = nn.CrossEntropyLoss()(model(x), y)
"""
    (finding,) = findings("TL601", src)
    assert finding.location.line == 3
    assert "goes into nn.CrossEntropyLoss() at line 5" in finding.message
