"""The training loop's bookkeeping: train/eval mode, clearing gradients, no_grad evaluation,
and shuffling the data the optimizer learns from."""

from __future__ import annotations

import ast
import re

from trainlint.model import FixRef, Severity
from trainlint.rule import Rule
from trainlint.rules import _trace_checks
from trainlint.rules._source_index import index_of
from trainlint.rules._training import (
    EVAL, RECURRENT, TRAIN, all_nodes, backward_events, event_index, evaluation_forwards,
    grad_mode_unknown, has_mode_layers, is_backward, loop_names, loop_span, mode_layers, mode_set, modes_before,
    opaque_kwargs, optimizer_steps, source, stepped_optimizer, train_loaders, trained_model, trained_models,
    where,
)
from trainlint.static import MISSING, Event, FileFacts, Obj


def _mode_kinds(model: Obj) -> tuple[bool, bool] | None:
    """(has dropout, has batch norm); None when the layers cannot be named (torchvision)."""
    kinds = {layer.type_name for layer in mode_layers(model) or []}
    dropout = any("Dropout" in k or k in RECURRENT for k in kinds)
    norm = any("Norm" in k for k in kinds)
    return (dropout, norm) if dropout or norm else None


def eval_consequence(model: Obj) -> str:
    """What evaluating this model in training mode does, for its own layers."""
    kinds = _mode_kinds(model)
    if kinds is None:
        return ("its dropout and batch-norm layers keep their training behaviour, so the scores "
                "are noisy and batch-norm statistics are updated with evaluation data")
    dropout, norm = kinds
    parts = []
    if dropout:
        parts.append("dropout keeps zeroing activations, so the scores are noisy and pessimistic")
    if norm:
        parts.append("batch norm normalises with each evaluation batch and updates its running "
                     "statistics with evaluation data")
    return "; ".join(parts)


def train_consequence(model: Obj) -> str:
    """What training this model in evaluation mode does, for its own layers."""
    kinds = _mode_kinds(model)
    if kinds is None:
        return "its dropout and batch-norm layers in evaluation behaviour"
    dropout, norm = kinds
    parts = []
    if dropout:
        parts.append("dropout switched off")
    if norm:
        parts.append("batch-norm statistics frozen")
    return " and ".join(parts)


def loader_name(loop) -> str | None:
    return loop.iterates.name if loop is not None and loop.iterates is not None else None


def _deliberate_train_mode(facts: FileFacts, model: Obj, end: int) -> bool:
    """``model.train()`` called explicitly with no optimizer step between it and the forward
    pass: Monte-Carlo dropout sampling, not a forgotten ``eval()``."""
    steps = {id(s) for s in optimizer_steps(facts)}
    for e in reversed(facts.events[:end]):
        if id(e) in steps:
            return False
        if mode_set(e, model) == TRAIN:
            return True
    return False


class MissingEvalMode(Rule):
    """
    ## What it does
    Flags the evaluation of a model that has dropout or batch-norm layers while the model is
    still in training mode: `model.eval()` was not called before it. An evaluation is a forward
    pass over a loader the optimizer does not train on, on inputs named as held-out data
    (`X_val`, `test_images`), or in a function named like `evaluate`/`validate`/`test`. Models
    without such layers are left alone, since `eval()` changes nothing for them, and so is a
    generator sampled from noise.

    ## Why is this bad?
    In training mode dropout keeps zeroing random activations and batch norm normalises with the
    statistics of the current batch and keeps updating its running averages with the evaluation
    data. Validation scores become noisy and pessimistic, and model selection based on them
    picks the wrong epoch.

    ## Example
    ```python
    import torch
    from torch.utils.data import DataLoader

    val_loader = DataLoader(val_set, batch_size=256)
    model = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.Dropout(0.5), torch.nn.Linear(32, 2))
    correct = 0
    with torch.no_grad():
        for x, y in val_loader:
            correct += (model(x).argmax(1) == y).sum().item()
    ```

    ## Use instead
    ```python
    import torch
    from torch.utils.data import DataLoader

    val_loader = DataLoader(val_set, batch_size=256)
    model = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.Dropout(0.5), torch.nn.Linear(32, 2))
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in val_loader:
            correct += (model(x).argmax(1) == y).sum().item()
    ```
    """

    code = "TL501"
    name = "missing-eval-mode"
    severity = Severity.ERROR
    techniques = ("eval-mode",)

    def check_trace(self, ctx):
        return _trace_checks.missing_eval_mode(self, ctx)

    def check_static(self, ctx):
        facts = ctx.facts
        order = event_index(facts)
        for model in trained_models(facts):
            if not has_mode_layers(model):
                continue
            modes = modes_before(facts, model)
            for e, batch in evaluation_forwards(facts, model):
                if modes[order[id(e)]] != TRAIN or _deliberate_train_mode(facts, model, order[id(e)]):
                    continue
                over = f" over `{loader_name(batch)}`" if loader_name(batch) else ""
                params = {"model": model.name}
                if loader_name(batch):
                    params["val_loader"] = loader_name(batch)
                yield ctx.finding(
                    e.node,
                    f"`{model.name}` is evaluated here{over} in training mode (no `{model.name}.eval()` "
                    f"before it): {eval_consequence(model)}",
                    evidence={"model": model.name, "loader": loader_name(batch), "line": e.line},
                    fixes=[FixRef("eval-mode", params)],
                )
                break


def _last_eval_before(facts: FileFacts, model: Obj, end: int) -> Event | None:
    for e in reversed(facts.events[:end]):
        change = mode_set(e, model)
        if change is not None:
            return e if change == EVAL else None
    return None


class MissingTrainMode(Rule):
    """
    ## What it does
    Flags `model.eval()` inside the epoch loop (often at the top of an evaluation function
    called from it) when nothing switches the model back with `model.train()` before the next
    optimizer step, so that every epoch after the first evaluation trains in evaluation mode.
    Only for models with dropout or batch-norm layers.

    ## Why is this bad?
    After the first validation pass dropout is switched off and batch norm stops updating its
    statistics for the rest of training: the model silently loses its regularisation and its
    normalisation drifts, and the run behaves differently from the one you think you wrote.

    ## Example
    ```python
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.Dropout(0.5), torch.nn.Linear(32, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for epoch in range(10):
        for x, y in train_loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            for x, y in val_loader:
                print((model(x).argmax(1) == y).float().mean())
    ```

    ## Use instead
    ```python
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.Dropout(0.5), torch.nn.Linear(32, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for epoch in range(10):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            for x, y in val_loader:
                print((model(x).argmax(1) == y).float().mean())
    ```
    """

    code = "TL502"
    name = "missing-train-mode"
    severity = Severity.ERROR
    techniques = ("train-mode",)

    def check_trace(self, ctx):
        return _trace_checks.missing_train_mode(self, ctx)

    def check_static(self, ctx):
        facts = ctx.facts
        for model in trained_models(facts):
            if not has_mode_layers(model):
                continue
            steps = [s for s in optimizer_steps(facts)
                     if stepped_optimizer(s) is not None and trained_model(facts, stepped_optimizer(s)) is model]
            found = self._first_step_in_eval(facts, model, steps)
            if found is None:
                continue
            setter, step, loop, first_pass = found
            if first_pass:
                when = "from the start of training"
            elif loop.kind == "epoch":
                when = "from the second epoch on"
            else:
                when = "after the first evaluation"
            opt = stepped_optimizer(step)
            yield ctx.finding(
                setter.node,
                f"`{source(setter.node.func)}()` leaves `{model.name}` in evaluation mode and nothing "
                f"switches it back before `{opt.name}.step()` ({where(facts, step)}) in the loop at "
                f"{where(facts, loop)}: {when} `{model.name}` trains with {train_consequence(model)}",
                evidence={"model": model.name, "eval_line": setter.line, "step_line": step.line,
                          "loop_line": loop.line},
                fixes=[FixRef("train-mode", {**loop_names(facts, step), "model": model.name})],
            )

    @staticmethod
    def _first_step_in_eval(facts, model, steps):
        """(eval event, step, loop, on the first pass?) for the first optimizer step that runs in
        evaluation mode when the body of a loop around it runs twice: the batch loop (evaluation
        every N steps) first, then the epoch loop."""
        step_ids = {id(s) for s in steps}
        modes = modes_before(facts, model)
        seen_loops = []
        for step in steps:
            for loop in reversed(step.loops):
                if loop in seen_loops:
                    continue
                seen_loops.append(loop)
                span = loop_span(facts, loop)
                if span is None:
                    continue
                start, end = span
                state = modes[start]
                setter = _last_eval_before(facts, model, start) if state == EVAL else None
                for first_pass in (True, False):
                    for i in range(start, end + 1):
                        e = facts.events[i]
                        if id(e) in step_ids and state == EVAL and setter is not None:
                            return setter, e, loop, first_pass
                        change = mode_set(e, model)
                        if change is not None:
                            state = change
                            setter = e if change == EVAL else None
        return None


def _is_grad(expr: ast.AST) -> bool:
    """``p.grad`` or ``p.grad.data``."""
    if isinstance(expr, ast.Attribute) and expr.attr == "data":
        expr = expr.value
    return isinstance(expr, ast.Attribute) and expr.attr == "grad"


def _grad_clearing_nodes(facts: FileFacts) -> list[ast.AST]:
    """``p.grad = None`` assignments and ``p.grad.zero_()`` / ``p.grad.data.zero_()`` calls."""
    found = []
    for node in all_nodes(facts):
        if isinstance(node, ast.Assign) and any(_is_grad(t) for t in node.targets):
            found.append(node)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("zero_", "detach_", "fill_") and _is_grad(node.func.value):
            found.append(node)
    return found


def _clears_in_loop(facts: FileFacts, loop, zero_events, clearing_nodes) -> bool:
    if any(loop in z.loops for z in zero_events):
        return True
    index = index_of(facts)
    functions = {e.function for e in facts.events if loop in e.loops and e.function}
    lo, hi = loop.node.lineno, loop.node.end_lineno or loop.node.lineno
    for node in clearing_nodes:
        scope = index.scope_of(node)
        if lo <= node.lineno <= hi and scope is index.scope_of(loop.node):
            return True
        if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) and scope.name in functions:
            return True
    return False


def _cleared_between_backward_and_step(facts: FileFacts, step: Event, loop, opt: Obj | None) -> Event | None:
    """A ``zero_grad()`` of the stepping optimizer (or of its model) that runs after the last
    ``backward()`` before ``step`` in the same loop iteration."""
    if opt is None:
        return None
    targets = {id(opt)}
    model = trained_model(facts, opt)
    if model is not None:
        targets.add(id(model))
    index = facts.events.index(step)
    wiped = None
    for e in reversed(facts.events[:index]):
        if loop not in e.loops:
            return None  # back at the top of the iteration without meeting backward()
        if is_backward(e):
            return wiped
        if e.method == "zero_grad" and e.receiver is not None and id(e.receiver) in targets and not e.guards:
            wiped = e
    return None


class MissingZeroGrad(Rule):
    """
    ## What it does
    Flags an optimizer step in a loop that computes gradients (`backward()`) but never clears
    them in that loop: no `optimizer.zero_grad()` (with or without `set_to_none`), no
    `model.zero_grad()`, no `p.grad = None`. Gradient accumulation, where `zero_grad()` runs
    under an `if (i + 1) % k == 0` next to the step, is fine and not flagged. Also flags the
    opposite slip: `zero_grad()` placed between `backward()` and `step()`, which wipes the
    gradients the step needs.

    ## Why is this bad?
    `backward()` adds to `.grad`, it does not overwrite it. Without clearing, every step uses
    the sum of all gradients since the last clear: the effective learning rate grows with each
    batch and the updates point in a stale, ever-larger direction. Training diverges or crawls,
    with no error message.

    ## Example
    ```python
    import torch

    model = torch.nn.Linear(10, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for epoch in range(10):
        for x, y in loader:
            loss = torch.nn.functional.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
    ```

    ## Use instead
    ```python
    import torch

    model = torch.nn.Linear(10, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for epoch in range(10):
        for x, y in loader:
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
    ```
    """

    code = "TL503"
    name = "missing-zero-grad"
    severity = Severity.ERROR
    techniques = ("zero-grad",)

    def check_static(self, ctx):
        facts = ctx.facts
        zero_events = [e for e in facts.events if e.method == "zero_grad"]
        clearing = _grad_clearing_nodes(facts)
        backward = backward_events(facts)
        reported: set[int] = set()
        for step in optimizer_steps(facts):
            if not step.loops or id(step.node) in reported:
                continue
            own_step = step.receiver is not None and step.receiver.kind == "optimizer"
            if own_step and (step.node.args or step.node.keywords):
                continue  # step(closure): the closure clears gradients itself
            loop = step.loops[-1]
            if not any(loop in b.loops for b in backward):
                continue
            opt = stepped_optimizer(step)
            if opt is not None and any(e.result is opt and loop in e.loops for e in facts.events):
                continue  # a fresh optimizer every iteration: a numeric check, not a training loop
            wiped = _cleared_between_backward_and_step(facts, step, loop, opt)
            if wiped is not None:
                reported.add(id(step.node))
                name = opt.name if opt is not None else "optimizer"
                yield ctx.finding(
                    wiped.node,
                    f"`{source(wiped.node.func)}()` runs after `backward()` and before `{name}.step()` "
                    f"({where(facts, step)}): it wipes the gradients just computed, so the step changes nothing",
                    evidence={"optimizer": name, "zero_grad_line": wiped.line, "step_line": step.line},
                    fixes=[FixRef("zero-grad", {**loop_names(facts, step), "optimizer": name})],
                )
                continue
            if _clears_in_loop(facts, loop, zero_events, clearing):
                continue
            enclosing = step.loops[:-1]
            outer = next((z for z in zero_events if any(c in z.loops for c in enclosing)), None)
            name = opt.name if opt is not None else "optimizer"
            if outer is not None:
                detail = (f"gradients are only cleared once per outer iteration ({where(facts, outer)}), "
                          f"so inside the loop at {where(facts, loop)} every step adds up all gradients "
                          f"since then")
            else:
                detail = (f"gradients are never cleared in the loop at {where(facts, loop)}, so every "
                          f"step adds up all gradients computed so far")
            reported.add(id(step.node))
            model = trained_model(facts, opt) if opt is not None else None
            params = {**loop_names(facts, step), "optimizer": name}
            if model is not None:
                params["model"] = model.name
            yield ctx.finding(
                step.node,
                f"`{name}.step()` runs without `{name}.zero_grad()`: {detail}",
                evidence={"optimizer": name, "loop_line": loop.line,
                          "zero_grad_line": outer.line if outer is not None else None},
                fixes=[FixRef("zero-grad", params)],
            )


def _parameter_models(facts: FileFacts) -> list[Obj]:
    """Models known only as a parameter of a function no call site reaches (``def
    evaluate(model, loader)`` in a module of helpers). Their layers are unknown, but whether an
    evaluation loop runs under no_grad does not depend on them."""
    out: list[Obj] = []
    for e in facts.events:
        called = e.result.called if e.result is not None else None
        if called is not None and called.kind == "model" and called.inferred and called not in out:
            out.append(called)
    return out


def _uses_volatile(facts: FileFacts) -> bool:
    """Pre-0.4 code evaluates with ``Variable(x, volatile=True)`` instead of no_grad."""
    return any(isinstance(n, ast.keyword) and n.arg == "volatile" for n in all_nodes(facts))


class EvaluationWithoutNoGrad(Rule):
    """
    ## What it does
    Flags a forward pass over an evaluation loader (a batch loop over a loader the optimizer
    does not train on, with no `backward()` in it) that is not under `torch.no_grad()` or
    `torch.inference_mode()`, not in a function decorated with either, and not in pre-0.4 code
    that uses `volatile=True`.

    ## Why is this bad?
    Outside no_grad every evaluation batch records the autograd graph and keeps its activations
    alive: evaluation is slower, uses several times the memory it needs (often the cause of an
    out-of-memory error at validation time), and accumulating losses or outputs in a list keeps
    every batch's graph alive until the list is dropped.

    ## Example
    ```python
    import torch
    from torch.utils.data import DataLoader

    val_loader = DataLoader(val_set, batch_size=256)
    model = torch.nn.Sequential(torch.nn.Linear(10, 2))
    model.eval()
    losses = []
    for x, y in val_loader:
        losses.append(torch.nn.functional.cross_entropy(model(x), y))
    ```

    ## Use instead
    ```python
    import torch
    from torch.utils.data import DataLoader

    val_loader = DataLoader(val_set, batch_size=256)
    model = torch.nn.Sequential(torch.nn.Linear(10, 2))
    model.eval()
    losses = []
    with torch.no_grad():
        for x, y in val_loader:
            losses.append(torch.nn.functional.cross_entropy(model(x), y))
    ```
    """

    code = "TL504"
    name = "evaluation-without-no-grad"
    severity = Severity.WARNING
    techniques = ("no-grad",)

    def check_static(self, ctx):
        facts = ctx.facts
        if _uses_volatile(facts):
            return
        reported = set()
        for model in trained_models(facts) + _parameter_models(facts):
            for e, batch in evaluation_forwards(facts, model):
                if batch is None or e.no_grad or batch in reported or grad_mode_unknown(facts, e.node):
                    continue
                reported.add(batch)
                name = loader_name(batch)
                over = f"over `{name}` " if name else ""
                yield ctx.finding(
                    e.node,
                    f"`{source(e.node)}` evaluates `{model.name}` {over}outside `torch.no_grad()`: "
                    f"every batch records an autograd graph, costing memory and time for gradients "
                    f"nobody uses",
                    evidence={"model": model.name, "loader": name, "loop_line": batch.line},
                    fixes=[FixRef("no-grad", {"model": model.name, **({"val_loader": name} if name else {})})],
                )


def _is_iterable_dataset(facts: FileFacts, loader: Obj) -> bool:
    dataset = loader.arg_obj("dataset", 0)
    if dataset is None:
        return False
    for obj in dataset.lineage():
        if obj.class_info is not None and any("IterableDataset" in b for b in obj.class_info.bases):
            return True
        if "Iterable" in (obj.qualname or ""):
            return True
    return False


# Data whose order is the point (forecasting windows, streams): an explicit shuffle=False there
# is a decision, not an oversight.
ORDERED_DATA_RE = re.compile(r"time_?series|timeseries|sequen|temporal|forecast|window|stream", re.I)


def _ordered_data(loader: Obj) -> bool:
    """The loader's name, its dataset's expression or the dataset's class says the data is a
    time series or a sequence."""
    dataset = loader.arg_obj("dataset", 0)
    texts = [loader.name, source(loader.arg("dataset", 0)) if loader.arg("dataset", 0) is not None else ""]
    if dataset is not None:
        texts += [dataset.qualname or "", *dataset.names]
    return any(ORDERED_DATA_RE.search(t or "") for t in texts)


class UnshuffledTrainLoader(Rule):
    """
    ## What it does
    Flags the DataLoader iterated by the loop in which the optimizer steps when it is created
    without `shuffle=True` and without a `sampler` or `batch_sampler`. Stays quiet when shuffling
    is decided elsewhere: `shuffle=args.shuffle`, loader options from a dict the script does not
    spell out, an `IterableDataset`, `batch_size=None`, or ordered data fed in order on purpose
    (`shuffle=False` written out for a recurrent model, or for a dataset or loader whose name
    says time series, sequence, window or forecast).

    ## Why is this bad?
    Without shuffling every epoch presents the same batches in the same order. Data files are
    often sorted (by class, by date, by source), so the model sees long runs of one kind of
    example, gradient steps are biased towards whatever came last, and the fixed batch
    composition removes the noise that helps SGD generalise.

    ## Example
    ```python
    import torch
    from torch.utils.data import DataLoader

    model = torch.nn.Linear(10, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    train_loader = DataLoader(train_set, batch_size=32)
    for epoch in range(10):
        for x, y in train_loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
    ```

    ## Use instead
    ```python
    import torch
    from torch.utils.data import DataLoader

    model = torch.nn.Linear(10, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
    for epoch in range(10):
        for x, y in train_loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
    ```
    """

    code = "TL505"
    name = "unshuffled-train-loader"
    severity = Severity.WARNING
    techniques = ("shuffle-train",)

    def check_static(self, ctx):
        facts = ctx.facts
        recurrent = any(layer.type_name in RECURRENT for m in facts.objects_of("model") for layer in m.layers)
        for loader in train_loaders(facts):
            if loader.inferred or loader.node is None or not isinstance(loader.node, ast.Call):
                continue
            shuffle = loader.literal("shuffle", 2)
            if shuffle is True and "shuffle" in loader.kwarg_guards:
                yield self._conditional_shuffle(ctx, loader)
                continue
            if shuffle is True:
                continue
            if shuffle is MISSING and loader.has_arg("shuffle", 2):
                continue
            if loader.has_arg("sampler", 3) or loader.has_arg("batch_sampler", 4):
                continue
            if opaque_kwargs(facts, loader.node) or _is_iterable_dataset(facts, loader):
                continue
            if loader.has_arg("batch_size", 1) and loader.literal("batch_size", 1) is None:
                continue
            if shuffle is False and (recurrent or _ordered_data(loader)):
                continue
            how = "with `shuffle=False` and no sampler" if shuffle is False else "without `shuffle=True` or a sampler"
            loop = next(c for c in facts.loops if c.iterates is loader and c.kind == "batch")
            yield ctx.finding(
                loader.node,
                f"`{loader.name}` feeds the training loop at {where(facts, loop)} but is created {how}: "
                f"every epoch presents the same batches in the same order",
                evidence={"loader": loader.name, "loop_line": loop.line,
                          "shuffle": None if shuffle is MISSING else shuffle},
                fixes=[FixRef("shuffle-train", self._fix_params(loader))],
            )

    def _conditional_shuffle(self, ctx, loader: Obj):
        # The official MNIST example's pattern: shuffle=True arrives with the CUDA-only kwargs.
        facts = ctx.facts
        test = " and ".join(source(g) for g in loader.kwarg_guards["shuffle"])
        loop = next(c for c in facts.loops if c.iterates is loader and c.kind == "batch")
        return ctx.finding(
            loader.node,
            f"`{loader.name}` feeds the training loop at {where(facts, loop)} but gets `shuffle=True` "
            f"only when `{test}` holds (from a `**kwargs` dict filled under that `if`): otherwise every "
            f"epoch presents the same batches in the same order",
            evidence={"loader": loader.name, "loop_line": loop.line, "shuffle": "conditional",
                      "condition": test},
            fixes=[FixRef("shuffle-train", self._fix_params(loader))],
        )

    @staticmethod
    def _fix_params(loader: Obj) -> dict[str, object]:
        params: dict[str, object] = {"train_loader": loader.name}
        dataset = loader.arg("dataset", 0)
        if isinstance(dataset, (ast.Name, ast.Attribute)):
            params["dataset"] = source(dataset)
        batch_size = loader.literal("batch_size", 1)
        if isinstance(batch_size, int) and not isinstance(batch_size, bool):
            params["batch_size"] = batch_size
        return params
