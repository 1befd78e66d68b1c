"""Optimizer choices worth a second look: coupled weight decay in Adam, SGD without momentum,
recurrent networks trained without gradient clipping."""

from __future__ import annotations

import ast

from trainlint.model import FixRef, Severity
from trainlint.rule import Rule
from trainlint.rules._training import (
    RECURRENT, all_nodes, created, loop_names, lr_value, opaque_kwargs, optimizer_steps, stepped_optimizer,
    trained_model, where,
)
from trainlint.static import MISSING

CLIP_CALLS = ("clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "clip_grads_with_norm_")


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class AdamWithWeightDecay(Rule):
    """
    ## What it does
    Flags `torch.optim.Adam` created with `weight_decay` greater than zero (and without
    `decoupled_weight_decay=True`).

    ## Why is this bad?
    Adam's `weight_decay` is an L2 term added to the gradient, which Adam then divides by its
    running gradient scale: weights with large gradients are barely decayed, so it regularises
    much less than the number suggests. AdamW applies the decay to the weights directly, which is
    what "weight decay" is meant to do, and usually generalises better.

    ## Example
    ```python
    import torch

    model = torch.nn.Linear(10, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-2)
    ```

    ## Use instead
    ```python
    import torch

    model = torch.nn.Linear(10, 2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
    ```

    ## Fix safety
    AdamW's decay is multiplied by the learning rate, so the same number regularises on a
    different scale: re-tune `weight_decay` on the validation split after switching.
    """

    code = "TL406"
    name = "adam-with-weight-decay"
    severity = Severity.INFO
    techniques = ("adamw",)

    def check_static(self, ctx):
        for opt in created(ctx.facts.objects_of("optimizer")):
            if opt.type_name != "Adam" or opt.literal("decoupled_weight_decay", default=False) is True:
                continue
            wd = opt.literal("weight_decay", 4)
            if not _number(wd) or wd <= 0:
                continue
            params = {"optimizer": opt.name, "weight_decay": wd}
            model = trained_model(ctx.facts, opt)
            if model is not None:
                params["model"] = model.name
            if lr_value(opt) is not None:
                params["lr"] = lr_value(opt)
            yield ctx.finding(
                opt.node,
                f"`{opt.name}` is Adam with weight_decay={wd}: Adam rescales that L2 term with its "
                f"adaptive step, so it barely decays weights with large gradients; AdamW decouples it",
                evidence={"optimizer": opt.name, "weight_decay": wd},
                fixes=[FixRef("adamw", params)],
            )


class SgdWithoutMomentum(Rule):
    """
    ## What it does
    Flags `torch.optim.SGD` created without momentum (the argument left out, or 0).

    ## Why is this bad?
    Plain SGD follows each mini-batch's noisy gradient: it zig-zags across narrow valleys and
    needs many more epochs than SGD with momentum 0.9, which averages the recent gradients into
    a steadier direction. Almost every published SGD recipe uses momentum.

    ## Example
    ```python
    import torch

    model = torch.nn.Linear(10, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    ```

    ## Use instead
    ```python
    import torch

    model = torch.nn.Linear(10, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    ```

    ## Fix safety
    Momentum raises the effective step size (about 1 / (1 - momentum) times): lower the learning
    rate if training becomes unstable.
    """

    code = "TL407"
    name = "sgd-without-momentum"
    severity = Severity.INFO
    techniques = ("momentum-sgd",)

    def check_static(self, ctx):
        facts = ctx.facts
        for opt in created(facts.objects_of("optimizer")):
            if opt.type_name != "SGD":
                continue
            momentum = opt.literal("momentum", 2)
            if momentum is MISSING:
                if opt.has_arg("momentum", 2) or opaque_kwargs(facts, opt.node):
                    continue  # given, but not as a constant we can read
                momentum = 0
            if not _number(momentum) or momentum != 0:
                continue
            params = {"optimizer": opt.name}
            model = trained_model(facts, opt)
            if model is not None:
                params["model"] = model.name
            if lr_value(opt) is not None:
                params["lr"] = lr_value(opt)
            yield ctx.finding(
                opt.node,
                f"`{opt.name}` is SGD without momentum: every step follows one noisy mini-batch "
                f"gradient; momentum=0.9 usually converges in far fewer epochs",
                evidence={"optimizer": opt.name, "momentum": momentum},
                fixes=[FixRef("momentum-sgd", params)],
            )


def clips_gradients(facts) -> bool:
    """Any gradient clipping in the file: torch's clip functions, a clamping gradient hook, or
    a trainer option named like ``gradient_clip_val`` / ``max_grad_norm``."""
    for e in facts.events:
        name = (e.qualname or e.method or "").rsplit(".", 1)[-1]
        if name in CLIP_CALLS or name == "register_hook":
            return True
    for node in all_nodes(facts):
        if isinstance(node, ast.keyword) and node.arg and "clip" in node.arg.lower():
            return True
        if isinstance(node, ast.Name) and "clip" in node.id.lower():
            return True
        if isinstance(node, ast.Attribute) and "clip" in node.attr.lower():
            return True
    return False


class RnnWithoutGradientClipping(Rule):
    """
    ## What it does
    Flags a model with recurrent layers (`nn.RNN`, `nn.LSTM`, `nn.GRU` and their cells) that is
    trained without gradient clipping (`clip_grad_norm_` or `clip_grad_value_`) anywhere in the
    script. Reported at the optimizer step.

    ## Why is this bad?
    Backpropagation through time multiplies gradients across every time step, and a single
    long or unusual sequence can produce a gradient orders of magnitude larger than usual. One
    such step throws the weights far away, and the loss jumps or becomes NaN. Clipping the
    gradient norm before the step bounds the damage at almost no cost.

    ## Example
    ```python
    import torch

    class Tagger(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = torch.nn.LSTM(8, 32, batch_first=True)
            self.head = torch.nn.Linear(32, 2)

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.head(out[:, -1])

    model = Tagger()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for x, y in loader:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    ```

    ## Use instead
    ```python
    import torch

    class Tagger(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = torch.nn.LSTM(8, 32, batch_first=True)
            self.head = torch.nn.Linear(32, 2)

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.head(out[:, -1])

    model = Tagger()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for x, y in loader:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
    ```
    """

    code = "TL408"
    name = "rnn-without-gradient-clipping"
    severity = Severity.INFO
    techniques = ("gradient-clipping",)

    def check_static(self, ctx):
        facts = ctx.facts
        for step in optimizer_steps(facts):
            opt = stepped_optimizer(step)
            model = trained_model(facts, opt) if opt is not None else None
            if model is None:
                continue
            recurrent = [layer for layer in model.layers if layer.type_name in RECURRENT]
            if not recurrent or clips_gradients(facts):
                continue
            layer = recurrent[0]
            defined = f"`{layer.name}`, {where(facts, layer.node)}" if layer.node is not None else layer.name
            yield ctx.finding(
                step.node,
                f"`{model.name}` contains nn.{layer.type_name} ({defined}) and `{opt.name}.step()` runs "
                f"without gradient clipping: one exploding gradient can throw the weights far off",
                evidence={"model": model.name, "layer": layer.type_name, "optimizer": opt.name},
                fixes=[FixRef("gradient-clipping", {**loop_names(facts, step), "model": model.name})],
            )
            return
