"""TL406-TL408: the optimizer calls that are and are not worth advice."""

import pytest

from static_findings import findings, lines

HEAD = """
import argparse
import torch
parser = argparse.ArgumentParser()
parser.add_argument("--wd", type=float, default=1e-4)
parser.add_argument("--momentum", type=float, default=0.9)
args = parser.parse_args()
model = torch.nn.Sequential(torch.nn.Linear(10, 2))
"""


def test_adam_with_weight_decay_names_the_value_and_fills_the_adamw_fix():
    (finding,) = findings("TL406", HEAD + "opt = torch.optim.Adam(model.parameters(), lr=3e-4, weight_decay=5e-4)\n")
    assert finding.location.line == 9
    assert finding.message.startswith("`opt` is Adam with weight_decay=0.0005")
    assert finding.fixes[0].technique == "adamw"
    assert finding.fixes[0].params == {"optimizer": "opt", "weight_decay": 5e-4, "model": "model", "lr": 3e-4}


@pytest.mark.parametrize("call", [
    "torch.optim.Adam(model.parameters(), lr=1e-3)",
    "torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=0)",
    "torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)",
    "torch.optim.Adam(model.parameters(), weight_decay=1e-2, decoupled_weight_decay=True)",
    "torch.optim.Adam(model.parameters(), weight_decay=cfg.wd)",
])
def test_adam_without_coupled_decay_is_quiet(call):
    assert findings("TL406", HEAD + f"opt = {call}\n") == []


def test_adam_decay_read_from_argparse_default_is_reported():
    assert lines("TL406", HEAD + "opt = torch.optim.Adam(model.parameters(), weight_decay=args.wd)\n") == [9]


@pytest.mark.parametrize("call", [
    "torch.optim.SGD(model.parameters(), lr=0.1)",
    "torch.optim.SGD(model.parameters(), lr=0.1, momentum=0)",
    "torch.optim.SGD(model.parameters(), 0.1, 0.0)",
])
def test_sgd_without_momentum_is_reported(call):
    (finding,) = findings("TL407", HEAD + f"optimizer = {call}\n")
    assert finding.location.line == 9
    assert finding.message.startswith("`optimizer` is SGD without momentum")
    assert finding.fixes[0].params["lr"] == 0.1


@pytest.mark.parametrize("call", [
    "torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)",
    "torch.optim.SGD(model.parameters(), 0.1, 0.9)",
    "torch.optim.SGD(model.parameters(), lr=0.1, momentum=args.momentum)",
    "torch.optim.SGD(model.parameters(), lr=0.1, momentum=cfg.momentum)",
    "torch.optim.SGD(model.parameters(), **optim_kwargs)",
])
def test_sgd_with_momentum_or_unknown_options_is_quiet(call):
    assert findings("TL407", HEAD + f"optimizer = {call}\n") == []


def test_sgd_options_from_a_literal_dict_are_read():
    src = HEAD + "kw = {'lr': 0.1}\noptimizer = torch.optim.SGD(model.parameters(), **kw)\n"
    assert lines("TL407", src) == [10]
    src = HEAD + "kw = {'lr': 0.1, 'momentum': 0.9}\noptimizer = torch.optim.SGD(model.parameters(), **kw)\n"
    assert findings("TL407", src) == []


RNN = """
import torch
from torch.utils.data import DataLoader
loader = DataLoader(data, batch_size=32, shuffle=True)

class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.{layer}(8, 32, batch_first=True)
        self.out = torch.nn.Linear(32, 2)

    def forward(self, x):
        h, _ = self.rnn(x)
        return self.out(h[:, -1])

net = Net()
optimizer = torch.optim.Adam(net.parameters())
for x, y in loader:
    optimizer.zero_grad()
    torch.nn.functional.cross_entropy(net(x), y).backward()
{clip}    optimizer.step()
"""


@pytest.mark.parametrize("layer", ["LSTM", "GRU", "RNN"])
def test_recurrent_model_without_clipping_is_reported_at_the_step(layer):
    (finding,) = findings("TL408", RNN.format(layer=layer, clip=""))
    assert finding.location.line == 21
    assert f"`net` contains nn.{layer} (`self.rnn`, line 9)" in finding.message
    assert finding.fixes[0].params == {"model": "net", "optimizer": "optimizer", "train_loader": "loader"}


@pytest.mark.parametrize("clip", [
    "    torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)\n",
    "    torch.nn.utils.clip_grad_value_(net.parameters(), 0.5)\n",
    "    nn_utils.clip_grad_norm(net.parameters(), max_norm=5)\n",
])
def test_clipping_in_any_form_is_quiet(clip):
    assert findings("TL408", RNN.format(layer="LSTM", clip=clip)) == []


def test_non_recurrent_model_is_quiet():
    assert findings("TL408", RNN.format(layer="Linear", clip="")) == []
