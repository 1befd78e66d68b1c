"""Learning-rate schedules: a constant rate over a long run, schedulers that never step, step
out of order, or step at the wrong granularity (per batch vs per epoch)."""

from __future__ import annotations

import ast
import re

from trainlint.model import FixRef, Severity
from trainlint.rule import Rule
from trainlint.rules import _trace_checks
from trainlint.rules._source_index import dotted, index_of
from trainlint.rules._training import (
    adversarial, all_nodes, backward_events, counts_epochs, created, epoch_loop, epochs_of, event_index, first_step,
    loop_names, lr_text, lr_value, optimizer_steps, reinforcement_learning, scheduler_optimizer, source,
    stepped_optimizer, where,
)
from trainlint.static import MISSING, FileFacts, Obj

# A helper that sets the learning rate by hand: adjust_learning_rate(), set_lr(), lr_decay()...
LR_HELPER_RE = re.compile(r"(adjust|update|set|decay|change|schedule|warmup|anneal)_?(the_)?(lr|learning_rate)"
                          r"|(lr|learning_rate)_?(schedule|decay|step|update|warmup|policy)", re.I)
# Schedule builders that are not torch classes (transformers, timm, custom factories).
SCHEDULE_FACTORY_RE = re.compile(r"sched|warmup|lr_lambda|LRPolicy", re.I)
SCHEDULER_TECHNIQUE = {"StepLR": "step-lr", "MultiStepLR": "step-lr", "ExponentialLR": "exponential-lr",
                       "OneCycleLR": "one-cycle-lr", "CyclicLR": "cyclic-lr",
                       "ReduceLROnPlateau": "reduce-lr-on-plateau"}
# Scheduler arguments that fill the fix template of the same technique: (keyword, position).
SCHEDULER_ARGS = {"StepLR": (("step_size", 1), ("gamma", 2)), "ExponentialLR": (("gamma", 1),),
                  "OneCycleLR": (("max_lr", 1),), "CyclicLR": (("base_lr", 1), ("max_lr", 2)),
                  "ReduceLROnPlateau": (("factor", None), ("patience", None))}
# Attribute reads of a scheduler that do not drive it.
PASSIVE_SCHEDULER_USES = {"get_last_lr", "get_lr", "state_dict", "load_state_dict", "last_epoch",
                          "base_lrs", "optimizer", "print_lr"}
# Step sizes and milestones up to this count epochs when the epoch count is unknown.
EPOCH_LIKE_LIMIT = 50
# A loop of single optimizer steps (no batch loop inside) counts steps, not epochs: it is
# judged against this many steps per epoch times min_epochs.
STEPS_PER_EPOCH_GUESS = 100


def manual_lr_updates(facts: FileFacts) -> list[ast.AST]:
    """Statements that set a learning rate by hand: ``g["lr"] = ...``, ``g.update(lr=...)``,
    or calls of a helper named like ``adjust_learning_rate``."""
    found: list[ast.AST] = []
    for node in all_nodes(facts):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign):
            targets = [node.target]
        for t in targets:
            if isinstance(t, ast.Subscript) and isinstance(t.slice, ast.Constant) \
                    and t.slice.value in ("lr", "learning_rate", "initial_lr"):
                found.append(node)
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "update" and any(k.arg == "lr" for k in node.keywords):
                found.append(node)
            elif name and LR_HELPER_RE.search(name):
                found.append(node)
    return found


def foreign_schedules(facts: FileFacts) -> bool:
    """The file builds or defines a schedule trainlint does not model (a transformers
    ``get_linear_schedule_with_warmup``, a subclass of LRScheduler, a LambdaLR-like factory)."""
    for e in facts.events:
        name = (e.qualname or e.method or "").rsplit(".", 1)[-1]
        known = e.result is not None and e.result.kind == "scheduler"
        if SCHEDULE_FACTORY_RE.search(name) and not known and e.method != "step":
            return True
    return any(any("LRScheduler" in b or "lr_scheduler" in b for b in info.bases)
               for info in facts.classes.values())


def schedulers_of(facts: FileFacts, opt: Obj) -> list[Obj]:
    """Schedulers created for ``opt``, or whose optimizer the facts cannot tell."""
    return [s for s in facts.objects_of("scheduler") if scheduler_optimizer(s) in (opt, None)]


class UnscheduledLearningRate(Rule):
    """
    ## What it does
    Flags an optimizer that is stepped over many epochs (option `min_epochs`, default 5) while
    nothing changes its learning rate: no scheduler is created for it, no `param_group["lr"]` is
    assigned, and no `adjust_learning_rate`-style helper is called. Stays quiet when the number
    of epochs cannot be read from the script (a `while` loop, a count from a config file), and
    for GAN-style loops where two optimizers take turns (constant rates are the norm there). A
    loop of single steps that draws its own batches (`for step in range(20000)`) needs 100 steps
    per `min_epochs`.

    ## Why is this bad?
    A learning rate that is large enough to make fast progress early on is too large to settle
    into a good minimum later: the loss plateaus while the weights keep bouncing around it.
    Decaying the rate (step decay, cosine, one-cycle, or on a validation plateau) typically buys
    a few points of accuracy for free.

    ## Example
    ```python
    import torch

    model = torch.nn.Linear(10, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.001)
    for epoch in range(30):
        for x, y in loader:
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
    ```

    ## Use instead
    ```python
    import torch

    model = torch.nn.Linear(10, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.001)
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.1)
    for epoch in range(30):
        for x, y in loader:
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        scheduler.step()
    ```
    """

    code = "TL401"
    name = "unscheduled-learning-rate"
    severity = Severity.WARNING
    options = {"min_epochs": 5}
    techniques = ("step-lr", "reduce-lr-on-plateau", "one-cycle-lr")

    def check_trace(self, ctx):
        return _trace_checks.constant_learning_rate(self, ctx)

    def check_static(self, ctx):
        facts = ctx.facts
        min_epochs = int(ctx.options.get("min_epochs", self.options["min_epochs"]))
        if manual_lr_updates(facts) or foreign_schedules(facts):
            return
        for opt in created(facts.objects_of("optimizer")):
            if opt.type_name == "LBFGS" or schedulers_of(facts, opt):
                continue
            steps = optimizer_steps(facts, opt)
            loop, epochs = epochs_of(steps)
            if loop is None or epochs is None:
                continue
            if epochs < (min_epochs if counts_epochs(loop) else STEPS_PER_EPOCH_GUESS * min_epochs):
                continue
            if any(epoch_loop(e) is loop for e in facts.events if e.result is opt):
                continue  # re-created every epoch, presumably with a new learning rate
            if adversarial(facts, steps) or reinforcement_learning(facts):
                continue
            lr = lr_text(opt)
            params = {**loop_names(facts, steps[0]), "optimizer": opt.name, "epochs": epochs}
            if lr_value(opt) is not None:
                params["lr"] = lr_value(opt)
                params["max_lr"] = lr_value(opt) * 10
            yield ctx.finding(
                opt.node,
                f"optimizer `{opt.name}` ({opt.type_name}, lr={lr}) is stepped for {epochs} "
                f"{'epochs' if counts_epochs(loop) else 'iterations'} at a constant learning rate",
                evidence={"optimizer": opt.name, "type": opt.type_name, "lr": lr, "epochs": epochs,
                          "epoch_loop_line": loop.line},
                fixes=[FixRef("step-lr", {**params, "step_size": max(1, epochs // 3)}),
                       FixRef("reduce-lr-on-plateau", params),
                       FixRef("one-cycle-lr", params)],
            )


def scheduler_mentions(facts: FileFacts, sched: Obj) -> tuple[bool, bool]:
    """(stepped by name, used in a way the facts do not follow) for the scheduler's names."""
    index = index_of(facts)
    names = set(sched.names)
    stepped = opaque = False
    for node in all_nodes(facts):
        if not isinstance(node, (ast.Name, ast.Attribute)) or not isinstance(node.ctx, ast.Load):
            continue
        if dotted(node) not in names:
            continue
        parent = index.parents.get(node)
        if isinstance(parent, ast.Attribute) and parent.value is node:
            if parent.attr == "step":
                stepped = True
            elif parent.attr not in PASSIVE_SCHEDULER_USES:
                opaque = True
        elif isinstance(parent, ast.Attribute):
            continue  # the name is a prefix of a longer dotted name already handled
        else:
            opaque = True  # passed on, returned, stored: someone else may step it
    return stepped, opaque


def scheduler_fixes(facts: FileFacts, sched: Obj, opt_name: str, epochs: int | None = None,
                    order: bool = True) -> list[FixRef]:
    """The loop-order fix and the technique of the scheduler's own type, in the user's names
    and with the scheduler's own arguments where they are constants."""
    opt = scheduler_optimizer(sched)
    params = {**loop_names(facts, first_step(facts, opt)), "scheduler": sched.name, "optimizer": opt_name}
    if epochs is not None:
        params["epochs"] = epochs
    for arg, pos in SCHEDULER_ARGS.get(sched.type_name, ()):
        value = sched.literal(arg, pos)
        if value is not MISSING:
            params[arg] = value
    fixes = [FixRef("scheduler-order", params)] if order else []
    if sched.type_name in SCHEDULER_TECHNIQUE:
        fixes.append(FixRef(SCHEDULER_TECHNIQUE[sched.type_name], params))
    return fixes


class SchedulerNeverStepped(Rule):
    """
    ## What it does
    Flags a learning-rate scheduler that is created but whose `step()` is never called, and that
    is not handed to anything else that could step it (a `SequentialLR`, a trainer, a return
    value).

    ## Why is this bad?
    Creating a scheduler does nothing by itself: the learning rate only changes when
    `scheduler.step()` runs. The script reads as if it decays the learning rate, but trains at
    the initial rate from the first epoch to the last.

    ## Example
    ```python
    import torch

    model = torch.nn.Linear(10, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10)
    for epoch in range(30):
        for x, y in loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
    ```

    ## Use instead
    ```python
    import torch

    model = torch.nn.Linear(10, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10)
    for epoch in range(30):
        for x, y in loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        scheduler.step()
    ```
    """

    code = "TL402"
    name = "scheduler-never-stepped"
    severity = Severity.WARNING
    techniques = ("scheduler-order", "step-lr", "exponential-lr", "one-cycle-lr", "cyclic-lr",
                  "reduce-lr-on-plateau")

    def check_static(self, ctx):
        facts = ctx.facts
        for sched in created(facts.objects_of("scheduler")):
            if not sched.names or facts.events_on(sched, "step"):
                continue
            stepped, opaque = scheduler_mentions(facts, sched)
            if stepped or opaque:
                continue
            opt = scheduler_optimizer(sched)
            opt_name = opt.name if opt is not None else source(sched.arg("optimizer", 0))
            lr = f" at lr={lr_text(opt)}" if opt is not None else ""
            fixes = scheduler_fixes(facts, sched, opt_name)
            yield ctx.finding(
                sched.node,
                f"scheduler `{sched.name}` ({sched.type_name}) is created but `{sched.name}.step()` "
                f"is never called, so `{opt_name}` trains{lr} for the whole run",
                evidence={"scheduler": sched.name, "type": sched.type_name, "optimizer": opt_name},
                fixes=fixes,
            )


class SchedulerBeforeOptimizer(Rule):
    """
    ## What it does
    Flags `scheduler.step()` that runs before the first `optimizer.step()` of the same loop
    iteration, for example at the top of the epoch loop, before the batches are trained.
    `ReduceLROnPlateau` is left alone: it steps on a metric, not on a count.

    ## Why is this bad?
    Since PyTorch 1.1 the optimizer must step first. Stepping the scheduler first moves the
    schedule forward before any training has happened, so its first learning rate is skipped and
    every later decay happens one epoch early (PyTorch warns about it at run time).

    ## Example
    ```python
    import torch

    model = torch.nn.Linear(10, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=7, gamma=0.1)
    for epoch in range(25):
        scheduler.step()
        for x, y in loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
    ```

    ## Use instead
    ```python
    import torch

    model = torch.nn.Linear(10, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=7, gamma=0.1)
    for epoch in range(25):
        for x, y in loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        scheduler.step()
    ```
    """

    code = "TL403"
    name = "scheduler-before-optimizer"
    severity = Severity.WARNING
    techniques = ("scheduler-order",)

    def check_trace(self, ctx):
        return _trace_checks.scheduler_before_optimizer(self, ctx)

    def check_static(self, ctx):
        facts = ctx.facts
        order = event_index(facts)
        for sched in created(facts.objects_of("scheduler")):
            if sched.type_name in ("ReduceLROnPlateau",):
                continue
            opt = scheduler_optimizer(sched)
            opt_steps = optimizer_steps(facts, opt)
            for e in facts.events_on(sched, "step"):
                if not e.loops or any(isinstance(g, ast.Compare) for g in e.guards):
                    continue
                if e.node.args or e.node.keywords:
                    continue  # step(epoch) sets the schedule's position explicitly: nothing skipped
                here = order[id(e)]
                for loop in reversed(e.loops):
                    inside = [s for s in opt_steps if loop in s.loops]
                    if not inside:
                        continue
                    if all(order[id(s)] > here for s in inside):
                        first = min(inside, key=lambda s: order[id(s)])
                        opt_obj = stepped_optimizer(first)
                        opt_name = opt_obj.name if opt_obj is not None else "optimizer"
                        yield ctx.finding(
                            e.node,
                            f"`{source(e.node.func)}()` runs before `{opt_name}.step()` ({where(facts, first)}) "
                            f"in each iteration of the loop at {where(facts, loop)}: "
                            f"the optimizer must step first, otherwise the schedule's first "
                            f"learning rate is skipped",
                            evidence={"scheduler": sched.name, "scheduler_step_line": e.line,
                                      "optimizer_step_line": first.line, "loop_line": loop.line},
                            fixes=scheduler_fixes(facts, sched, opt_name, loop.count)[:1],
                        )
                    break


def epoch_like(value, epochs: int | None) -> bool:
    """A scheduler argument that counts epochs: at most the epoch count when that is known."""
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return False
    return value <= (epochs if epochs is not None else EPOCH_LIKE_LIMIT)


def mentions_epochs_only(node: ast.AST | None) -> bool:
    if node is None:
        return False
    text = ast.unparse(node).lower()
    return "epoch" in text and not any(w in text for w in ("len(", "step", "iter", "batch"))


def per_epoch_consequence(sched: Obj, epochs: int | None) -> str | None:
    """Why stepping this epoch schedule per batch is clearly wrong, or None when its arguments
    could as well count batches."""
    kind = sched.type_name
    if kind == "StepLR":
        size = sched.literal("step_size", 1)
        gamma = sched.literal("gamma", 2, default=0.1)
        if epoch_like(size, epochs):
            return (f"the learning rate is multiplied by {gamma} every {size} batches instead of "
                    f"every {size} epochs")
    elif kind == "MultiStepLR":
        milestones = sched.literal("milestones", 1)
        if isinstance(milestones, (list, tuple)) and milestones and all(epoch_like(m, epochs) for m in milestones):
            return f"all milestones {list(milestones)} are passed within the first epoch"
    elif kind == "ExponentialLR":
        gamma = sched.literal("gamma", 1)
        if isinstance(gamma, (int, float)) and 0 < gamma <= 0.99:
            return (f"the learning rate is multiplied by {gamma} after every batch and is close to "
                    f"zero within a few hundred batches")
    elif kind == "CosineAnnealingLR":
        t_max = sched.literal("T_max", 1)
        if epoch_like(t_max, epochs) or (t_max is MISSING and mentions_epochs_only(sched.arg("T_max", 1))):
            shown = t_max if t_max is not MISSING else source(sched.arg("T_max", 1))
            return (f"the cosine cycle of T_max={shown} ends after {shown} batches and then climbs "
                    f"back to the initial learning rate")
    return None


class EpochSchedulerSteppedPerBatch(Rule):
    """
    ## What it does
    Flags an epoch-based scheduler (`StepLR`, `MultiStepLR`, `ExponentialLR`,
    `CosineAnnealingLR`) whose arguments are sized in epochs (a step size or milestones no larger
    than the number of epochs, a T_max written in epochs, a per-epoch decay factor) but whose
    `step()` runs inside the batch loop.

    ## Why is this bad?
    A scheduler counts calls to `step()`, not epochs. Stepped after every batch, a
    `StepLR(step_size=10)` decays every ten batches: the learning rate collapses towards zero in
    the first epoch and the rest of the run barely learns.

    ## Example
    ```python
    import torch
    from torch.utils.data import DataLoader

    loader = DataLoader(train_set, batch_size=32, shuffle=True)
    model = torch.nn.Linear(10, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.1)
    for epoch in range(30):
        for x, y in loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
            scheduler.step()
    ```

    ## Use instead
    ```python
    import torch
    from torch.utils.data import DataLoader

    loader = DataLoader(train_set, batch_size=32, shuffle=True)
    model = torch.nn.Linear(10, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.1)
    for epoch in range(30):
        for x, y in loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        scheduler.step()
    ```
    """

    code = "TL404"
    name = "epoch-scheduler-stepped-per-batch"
    severity = Severity.ERROR
    techniques = ("scheduler-order", "step-lr", "exponential-lr")

    def check_trace(self, ctx):
        return _trace_checks.epoch_scheduler_per_batch(self, ctx)

    def check_static(self, ctx):
        facts = ctx.facts
        for sched in created(facts.objects_of("scheduler")):
            for e in facts.events_on(sched, "step"):
                batch = e.in_loop("batch")
                if batch is None or e.guards:
                    continue
                counter = epoch_loop(e)
                epochs = counter.count if counter is not None else None
                consequence = per_epoch_consequence(sched, epochs)
                if consequence is None:
                    continue
                opt = scheduler_optimizer(sched)
                fixes = scheduler_fixes(facts, sched, opt.name if opt else "optimizer", epochs)
                yield ctx.finding(
                    e.node,
                    f"`{sched.name}` ({sched.type_name}) is sized in epochs but `{sched.name}.step()` "
                    f"runs after every batch of the loop at {where(facts, batch)}: {consequence}",
                    evidence={"scheduler": sched.name, "type": sched.type_name, "batch_loop_line": batch.line,
                              "epochs": epochs},
                    fixes=fixes,
                )
                break


def sized_per_epoch(sched: Obj, epochs: int | None) -> bool:
    """A batch scheduler deliberately sized to step once per epoch."""
    if sched.type_name == "OneCycleLR":
        if sched.has_arg("steps_per_epoch"):
            return sched.literal("steps_per_epoch") == 1
        total = sched.literal("total_steps", 2)
        if total is not MISSING:
            return epochs is not None and isinstance(total, int) and total <= epochs
        return mentions_epochs_only(sched.arg("total_steps", 2))
    if sched.type_name == "CyclicLR":
        up = sched.literal("step_size_up", 3, default=2000)
        return epochs is not None and isinstance(up, int) and 2 * up <= epochs
    return True


class BatchSchedulerSteppedPerEpoch(Rule):
    """
    ## What it does
    Flags a per-batch scheduler (`OneCycleLR`, `CyclicLR`) whose `step()` runs once per epoch,
    outside the batch loop in which its optimizer steps, unless it was sized for that
    (`steps_per_epoch=1`, `total_steps` equal to the epoch count).

    ## Why is this bad?
    These schedules are laid out over optimizer steps: a OneCycleLR built with
    `steps_per_epoch=len(train_loader)` expects one call per batch. Stepped per epoch it walks
    only the first sliver of its cycle, so training runs almost entirely at the warm-up
    learning rate and never anneals.

    ## Example
    ```python
    import torch
    from torch.utils.data import DataLoader

    loader = DataLoader(train_set, batch_size=32, shuffle=True)
    model = torch.nn.Linear(10, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=0.1, epochs=20, steps_per_epoch=len(loader))
    for epoch in range(20):
        for x, y in loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        scheduler.step()
    ```

    ## Use instead
    ```python
    import torch
    from torch.utils.data import DataLoader

    loader = DataLoader(train_set, batch_size=32, shuffle=True)
    model = torch.nn.Linear(10, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=0.1, epochs=20, steps_per_epoch=len(loader))
    for epoch in range(20):
        for x, y in loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
            scheduler.step()
    ```
    """

    code = "TL405"
    name = "batch-scheduler-stepped-per-epoch"
    severity = Severity.ERROR
    techniques = ("one-cycle-lr", "cyclic-lr")

    def check_static(self, ctx):
        facts = ctx.facts
        for sched in created(facts.objects_of("scheduler")):
            if sched.type_name not in ("OneCycleLR", "CyclicLR"):
                continue
            steps = facts.events_on(sched, "step")
            if not steps or any(e.in_loop("batch") is not None for e in steps):
                continue
            opt_steps = optimizer_steps(facts, scheduler_optimizer(sched))
            for e in steps:
                outer = e.loops[-1] if e.loops else None
                if outer is None:
                    continue
                batch_steps = [s for s in opt_steps if outer in s.loops and s.in_loop("batch") is not None]
                if not batch_steps or sized_per_epoch(sched, outer.count):
                    continue
                epochs = outer.count
                opt = scheduler_optimizer(sched)
                opt_name = opt.name if opt else "optimizer"
                yield ctx.finding(
                    e.node,
                    f"`{sched.name}` ({sched.type_name}) is laid out over optimizer steps but "
                    f"`{sched.name}.step()` runs once per epoch, outside the batch loop where "
                    f"`{opt_name}.step()` runs ({where(facts, batch_steps[0])}): the schedule "
                    f"hardly advances and the learning rate stays near its starting value",
                    evidence={"scheduler": sched.name, "type": sched.type_name,
                              "optimizer_step_line": batch_steps[0].line, "epochs": epochs},
                    fixes=scheduler_fixes(facts, sched, opt_name, epochs, order=False),
                )
                break
