"""Long training runs with nothing that limits overfitting."""

from __future__ import annotations

import ast
import re

from trainlint.model import FixRef, Severity
from trainlint.rule import Rule
from trainlint.rules._source_index import index_of
from trainlint.rules._training import (
    adversarial, all_nodes, counts_epochs, epochs_of, loop_names, optimizer_steps, reinforcement_learning,
    stepped_optimizer, trained_model,
)
from trainlint.static import MISSING, FileFacts, Obj
from trainlint.static import kinds

REGULARIZING_LAYERS = kinds.LAYERS_DROPOUT | kinds.LAYERS_NORM | kinds.LAYERS_OTHER_NORM
# Functional forms and hand-written penalties or stopping rules, by name.
REGULARIZING_CALLS = re.compile(r"dropout|batch_norm|layer_norm|group_norm|instance_norm|mixup|cutmix"
                                r"|weight_norm|spectral_norm", re.I)
REGULARIZING_NAMES = re.compile(r"patience|early_?stop|mixup|cutmix|label_smoothing|l1_(lambda|reg|penalty)"
                                r"|l2_(lambda|reg|penalty)|weight_decay|augment", re.I)
# Optimizers whose default weight decay is not zero.
DECAYING_BY_DEFAULT = {"AdamW"}


def _regularized_model(model: Obj) -> bool | None:
    """True when the model has a regularising layer, None when its layers are unknown."""
    if model.type_name != "Sequential" and model.class_info is None:
        return None
    for layer in model.layers:
        if layer.type_name in REGULARIZING_LAYERS:
            return True
        if layer.type_name in kinds.LAYERS_RECURRENT:
            dropout = layer.literal("dropout", default=0)
            if dropout is MISSING or not isinstance(dropout, (int, float)) or dropout > 0:
                return True
    return False


def _decays(opt: Obj) -> bool:
    """True unless the optimizer's weight decay is known to be zero."""
    if opt.type_name in DECAYING_BY_DEFAULT and not opt.has_arg("weight_decay"):
        return True
    wd = opt.literal("weight_decay", default=0 if not opt.has_arg("weight_decay") else MISSING)
    return wd is MISSING or not isinstance(wd, (int, float)) or wd > 0


def _other_regularization(facts: FileFacts, epoch_loop) -> bool:
    """Augmentation, functional dropout or norms, penalties, early stopping by name, or a
    ``break`` out of the epoch loop (stopping on a validation criterion)."""
    if any(kinds.is_random_transform(t.type_name) for t in facts.objects_of("transform")):
        return True
    for e in facts.events:
        name = (e.qualname or e.method or "").rsplit(".", 1)[-1]
        if REGULARIZING_CALLS.search(name):
            return True
    for node in all_nodes(facts):
        name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) \
            else node.arg if isinstance(node, ast.keyword) and node.arg else None
        if name and REGULARIZING_NAMES.search(name):
            return True
    # An explicit penalty reads the parameters inside the training loop; fresh noise on the
    # inputs there (x + 0.1 * torch.randn_like(x)) is augmentation for feature vectors.
    for e in facts.events:
        if epoch_loop not in e.loops:
            continue
        if e.method == "parameters" or (e.qualname or "") in ("torch.randn_like", "torch.rand_like"):
            return True
    return any(isinstance(n, ast.Break) and _nearest_loop(facts, n) is epoch_loop.node
               for n in ast.walk(epoch_loop.node))


def _nearest_loop(facts: FileFacts, node: ast.AST) -> ast.AST | None:
    return index_of(facts).enclosing(node, (ast.For, ast.While, ast.AsyncFor))


class NoRegularization(Rule):
    """
    ## What it does
    Flags a model trained for many epochs (option `min_epochs`, default 20) with no
    regularisation of any kind: no dropout or normalisation layers, no weight decay in the
    optimizer, no random data augmentation, no explicit penalty, and no early stopping. Stays
    quiet when the model comes from elsewhere (an import, torchvision, timm) and its layers
    cannot be read.

    ## Why is this bad?
    Given enough epochs a network with nothing holding it back memorises the training set: the
    training loss keeps falling while the validation loss turns up, and the final weights are
    the overfitted ones. Even one cheap measure (dropout, a little weight decay, stopping at the
    best validation epoch) usually closes much of that gap.

    ## Example
    ```python
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(13, 512), torch.nn.ReLU(), torch.nn.Linear(512, 3))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(100):
        for x, y in loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
    ```

    ## Use instead
    ```python
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(13, 512), torch.nn.ReLU(), torch.nn.Dropout(0.3),
                                torch.nn.Linear(512, 3))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    for epoch in range(100):
        for x, y in loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
    ```
    """

    code = "TL202"
    name = "no-regularization"
    severity = Severity.INFO
    options = {"min_epochs": 20}
    techniques = ("dropout", "weight-decay", "batch-norm", "early-stopping", "data-augmentation")

    def check_static(self, ctx):
        facts = ctx.facts
        min_epochs = int(ctx.options.get("min_epochs", self.options["min_epochs"]))
        steps = optimizer_steps(facts)
        loop, epochs = epochs_of(steps)
        if loop is None or epochs is None or epochs < min_epochs or not counts_epochs(loop):
            return
        optimizers = []
        for step in steps:
            opt = stepped_optimizer(step)
            if opt is None or opt.inferred:
                return  # an optimizer created elsewhere may well decay its weights
            if opt not in optimizers:
                optimizers.append(opt)
        trained = [trained_model(facts, opt) for opt in optimizers]
        if not trained or any(m is None or m.inferred for m in trained):
            return
        if any(_regularized_model(m) is not False for m in trained):
            return
        if any(_decays(opt) for opt in optimizers) or _other_regularization(facts, loop):
            return
        if adversarial(facts, steps) or reinforcement_learning(facts):
            return
        model, opt = trained[0], optimizers[0]
        yield ctx.finding(
            model.node,
            f"`{model.name}` ({model.type_name}) trains for {epochs} epochs with no regularisation: "
            f"no dropout or normalisation layers, no weight decay in `{opt.name}`, no data "
            f"augmentation and no early stopping, so it is free to memorise the training set",
            evidence={"model": model.name, "optimizer": opt.name, "epochs": epochs},
            fixes=[
                FixRef("dropout", {"model": model.name}),
                FixRef("weight-decay", {"model": model.name, "optimizer": opt.name,
                                        "optimizer_class": opt.type_name}),
                FixRef("batch-norm", {"model": model.name}),
                FixRef("early-stopping", {**loop_names(facts, steps[0]), "model": model.name,
                                          "optimizer": opt.name, "epochs": epochs}),
                FixRef("data-augmentation", {}),
            ],
        )
