"""What the schedule, optimizer, loop, model and regularization rules ask of a training script.

Built on the static facts: which optimizer steps where, which model an optimizer trains, which
forward passes evaluate, what mode (train/eval) a model is in at each event, and how arguments
read in the user's own words. Every helper answers None or "unknown" rather than guess, so the
rules built on them stay quiet when the facts cannot tell.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator

from trainlint.static import MISSING, Event, FileFacts, LoopCtx, Obj
from trainlint.static import kinds

from trainlint.rules._heldout import role
from trainlint.rules._source_index import dotted, index_of

TRAIN, EVAL, UNKNOWN = "train", "eval", "unknown"

# Function names that say "this evaluates" in real scripts (evaluate, validate, test, predict...).
EVAL_FUNCTION_RE = re.compile(r"(^|_)(eval|evaluate|evaluation|valid|validate|validation|val|test|"
                              r"testing|predict|prediction|inference|infer|score)(_|$)", re.I)
# PyTorch's defaults for the learning rate, shown when the call leaves lr out.
DEFAULT_LR = {"Adam": 0.001, "AdamW": 0.001, "Adamax": 0.002, "NAdam": 0.002, "RAdam": 0.001,
              "Adagrad": 0.01, "Adadelta": 1.0, "RMSprop": 0.01, "Rprop": 0.01, "ASGD": 0.01,
              "SGD": 0.001, "SparseAdam": 0.001}
RECURRENT = kinds.LAYERS_RECURRENT
MODE_LAYERS = kinds.LAYERS_DROPOUT | kinds.LAYERS_NORM


def source(node: ast.AST | None, limit: int = 60) -> str:
    """The user's own spelling of an expression, shortened for a message."""
    if node is None:
        return "?"
    text = ast.unparse(node)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def all_nodes(facts: FileFacts) -> Iterable[ast.AST]:
    """Every node of the file's tree (none for a file that did not parse). Read from the
    shared source index, which has walked the tree once for every rule: ast.walk is the slow
    part of a check."""
    if facts.tree is None:
        return ()
    return index_of(facts).parents.keys()


def where(facts: FileFacts, at) -> str:
    """"line 12", or "cell 3, line 4" in a notebook, for a node, event, loop or object."""
    loc = facts.location_of(at)
    return f"line {loc.line}" if loc.cell is None else f"cell {loc.cell}, line {loc.line}"


def event_index(facts: FileFacts) -> dict[int, int]:
    """Position of each event (by id) in execution order."""
    return {id(e): i for i, e in enumerate(facts.events)}


def created(objs: Iterable[Obj]) -> list[Obj]:
    """Objects the file really creates (not guessed from a parameter's name)."""
    return [o for o in objs if not o.inferred and o.node is not None]


# -- optimizers and what they train ---------------------------------------------------------------

def optimizer_steps(facts: FileFacts, opt: Obj | None = None) -> list[Event]:
    """``opt.step()`` events, and AMP's ``scaler.step(opt)``; every optimizer's when opt is None."""
    out = []
    for e in facts.events:
        if e.method != "step":
            continue
        if e.receiver is not None and e.receiver.kind == "optimizer":
            if opt is None or e.receiver is opt:
                out.append(e)
        elif any(a is not None and a.kind == "optimizer" and (opt is None or a is opt) for a in e.args):
            out.append(e)
    return out


def stepped_optimizer(e: Event) -> Obj | None:
    if e.receiver is not None and e.receiver.kind == "optimizer":
        return e.receiver
    return next((a for a in e.args if a is not None and a.kind == "optimizer"), None)


def is_backward(e: Event) -> bool:
    """A call that computes gradients: ``loss.backward()``, ``accelerator.backward(loss)``,
    ``torch.autograd.grad(...)``."""
    return e.method == "backward" or (e.qualname or "").endswith(("autograd.backward", "autograd.grad"))


def backward_events(facts: FileFacts) -> list[Event]:
    return [e for e in facts.events if is_backward(e)]


def adversarial(facts: FileFacts, steps) -> bool:
    """GAN-style training: another optimizer steps and a second backward runs in the same loop,
    and one of the two models is fed the other's output (``D(G(z))``) or their models are
    unknown. Constant learning rates and no regularisation are the norm there (DCGAN, WGAN),
    so TL401 and TL202 would only be noise. Two independent models trained side by side (a
    tutorial comparing dropout with none) are not adversarial."""
    backward = backward_events(facts)
    for step in steps:
        if not step.loops:
            continue
        loop = step.loops[-1]
        mine = stepped_optimizer(step)
        others = [s for s in optimizer_steps(facts) if loop in s.loops and stepped_optimizer(s) is not mine]
        if not others or sum(1 for b in backward if loop in b.loops) < 2:
            continue
        models = [trained_model(facts, o) if o is not None else None
                  for o in [mine] + [stepped_optimizer(s) for s in others]]
        if any(m is None for m in models):
            return True
        if any(_feeds(facts, a, b) for a in models for b in models if a is not b):
            return True
    return False


def _feeds(facts: FileFacts, consumer: Obj, producer: Obj) -> bool:
    """Some call of ``consumer`` takes an input computed from ``producer``'s output."""
    for e in facts.events:
        out = e.result
        if out is None or out.called is not consumer:
            continue
        for obj in out.lineage():
            if obj is not out and obj.kind == "value" and obj.called is producer:
                return True
    return False


RL_MODULES = ("gym", "gymnasium", "stable_baselines3", "pettingzoo", "dm_control")


def reinforcement_learning(facts: FileFacts) -> bool:
    """Policy-gradient and other RL loops: an environment, not a dataset, supplies the data,
    so epochs, schedules, validation splits and regularisation do not mean what they do in
    supervised training."""
    if any(q.split(".")[0] in RL_MODULES for q in facts.imports.values()):
        return True
    return any(e.method == "log_prob" for e in facts.events) and any(
        (e.qualname or "").startswith("torch.distributions.") for e in facts.events)


def trained_model(facts: FileFacts, opt: Obj) -> Obj | None:
    """The model whose ``parameters()`` the optimizer was given, when the facts show it."""
    params = opt.arg_obj("params", 0)
    if params is None:
        return None
    lineage = list(params.lineage())
    for kind in ("model", "layer"):  # a bare nn.Linear is the whole model of many tutorials
        for obj in lineage:
            if obj.kind == kind:
                return obj
    return None


def scheduler_optimizer(sched: Obj) -> Obj | None:
    opt = sched.arg_obj("optimizer", 0)
    return opt if opt is not None and opt.kind == "optimizer" else None


def lr_text(opt: Obj) -> str:
    """``0.001`` / ``args.lr``: the learning rate as the call gives it (or PyTorch's default)."""
    value = opt.literal("lr", 1)
    if value is not MISSING:
        return repr(value) if not isinstance(value, str) else value
    node = opt.arg("lr", 1)
    if node is not None:
        return source(node)
    if _group_lrs(opt):
        return "per parameter group"
    default = DEFAULT_LR.get(opt.type_name)
    return repr(default) if default is not None else "default"


def _group_lrs(opt: Obj) -> bool:
    """The optimizer gets parameter groups that set their own ``"lr"``."""
    groups = opt.arg("params", 0)
    return isinstance(groups, (ast.List, ast.Tuple)) and any(
        isinstance(g, ast.Dict) and any(isinstance(k, ast.Constant) and k.value == "lr" for k in g.keys)
        for g in groups.elts)


def lr_value(opt: Obj):
    """The learning rate as a number, when the call (or PyTorch's default) fixes one."""
    value = opt.literal("lr", 1)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if opt.arg("lr", 1) is None and not _group_lrs(opt):
        return DEFAULT_LR.get(opt.type_name)
    return None


def says_epoch(loop: LoopCtx) -> bool:
    """The loop's header mentions epochs: ``for epoch in range(args.epochs)``."""
    node = loop.node
    if not isinstance(node, (ast.For, ast.AsyncFor)):
        return False
    return "epoch" in (ast.unparse(node.target) + ast.unparse(node.iter)).lower()


def counts_epochs(loop: LoopCtx) -> bool:
    """The loop runs over epochs (it holds a batch loop, or says "epoch"), not over single
    optimizer steps that draw their own batches (``for step in range(10000): next(it)``)."""
    stack = list(loop.inner)
    while stack:
        inner = stack.pop()
        if inner.kind == "batch":
            return True
        stack.extend(inner.inner)
    return says_epoch(loop)


def epoch_loop(e: Event) -> LoopCtx | None:
    """The loop that counts epochs around an event. Folds of a cross-validation and the
    train/val phase loop of the transfer-learning tutorial are "epoch" loops to the facts too,
    so prefer the innermost loop that says "epoch", then the innermost with a known count."""
    candidates = [loop for loop in e.loops if loop.kind == "epoch"]
    for choose in (says_epoch, lambda loop: loop.count is not None, lambda loop: True):
        chosen = [loop for loop in candidates if choose(loop)]
        if chosen:
            return chosen[-1]
    return None


def epochs_of(steps: Iterable[Event]) -> tuple[LoopCtx | None, int | None]:
    """The epoch loop around optimizer steps and its iteration count (None when unknown)."""
    loop = None
    for e in steps:
        candidate = epoch_loop(e)
        if candidate is not None:
            loop = candidate
            if candidate.count is not None:
                return candidate, candidate.count
    return loop, None


def opaque_kwargs(facts: FileFacts, call: ast.Call) -> bool:
    """The call spreads ``**something`` whose keys the facts cannot list (a parameter, a
    ``dict(...)`` call, a conditional). Only names bound solely to ``{...}`` displays are known."""
    index = index_of(facts)
    for kw in call.keywords:
        if kw.arg is not None:
            continue
        if not isinstance(kw.value, ast.Name):
            return True
        assigned = index.assignments.get(kw.value.id, [])
        if not assigned or any(a.unpacked or not isinstance(a.value, ast.Dict) for a in assigned):
            return True
        scope = index.scope_of(call)
        if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
            params = {a.arg for a in scope.args.args + scope.args.kwonlyargs + scope.args.posonlyargs}
            if scope.args.kwarg is not None:
                params.add(scope.args.kwarg.arg)
            if kw.value.id in params:
                return True
    return False


# -- models -----------------------------------------------------------------------------------------

def mode_layers(model: Obj) -> list[Obj] | None:
    """Layers that behave differently in train and eval mode (dropout, batch norm, recurrent
    layers with dropout); None when the model's layers are unknown (an import, a hub model)."""
    if model.type_name != "Sequential" and model.class_info is None:
        if (model.qualname or "").startswith(("torchvision.models", "timm.")):
            return []  # all of them carry batch norm or dropout, but not as layers we can name
        return None
    out = []
    for layer in model.layers:
        if layer.type_name in MODE_LAYERS:
            out.append(layer)
        elif layer.type_name in RECURRENT:
            dropout = layer.literal("dropout", default=0)
            if isinstance(dropout, (int, float)) and dropout > 0:
                out.append(layer)
    return out


def has_mode_layers(model: Obj) -> bool:
    layers = mode_layers(model)
    if layers is None:
        return False
    return bool(layers) or (model.qualname or "").startswith(("torchvision.models", "timm."))


def forward_events(facts: FileFacts, model: Obj) -> list[Event]:
    """Calls of the model itself (``model(x)``, ``self.model(x)``, ``model.forward(x)``)."""
    return [e for e in facts.events
            if (e.result is not None and e.result.called is model)
            or (e.method == "forward" and e.receiver is model)]


def mode_set(e: Event, model: Obj) -> str | None:
    """What a ``model.train()`` / ``model.eval()`` event sets: train, eval, unknown (a
    non-literal ``train(flag)``, or a call under an ``if``); None for other events."""
    if e.receiver is not model or e.method not in ("train", "eval"):
        return None
    if e.method == "eval":
        mode = EVAL
    else:
        args = list(e.node.args) + [k.value for k in e.node.keywords if k.arg == "mode"]
        if not args:
            mode = TRAIN
        elif isinstance(args[0], ast.Constant) and isinstance(args[0].value, bool):
            mode = TRAIN if args[0].value else EVAL
        else:
            mode = UNKNOWN
    return UNKNOWN if e.guards else mode


def walk_roots(facts: FileFacts) -> list[int]:
    """Indices where the walk of an uncalled function begins: the mode a model is in there is
    unknown, since the caller lives in another file."""
    starts = []
    current = None
    for i, e in enumerate(facts.events):
        if not e.via and e.function is not None:
            if e.function != current:
                starts.append(i)
                current = e.function
        elif not e.via and e.function is None:
            current = None
    return starts


def modes_before(facts: FileFacts, model: Obj) -> list[str]:
    """For each event, the mode ``model`` is in when it runs (linear order, first pass)."""
    resets = set(walk_roots(facts))
    state = TRAIN  # modules are created in training mode
    out = []
    for i, e in enumerate(facts.events):
        if i in resets:
            state = UNKNOWN
        out.append(state)
        change = mode_set(e, model)
        if change is not None:
            state = change
        elif e.result is model:
            state = TRAIN  # created here, inside a function run from elsewhere (fire.Fire(main))
    return out


def loop_span(facts: FileFacts, loop: LoopCtx) -> tuple[int, int] | None:
    """First and last event index inside ``loop`` (events of one loop are contiguous)."""
    idx = [i for i, e in enumerate(facts.events) if loop in e.loops]
    return (idx[0], idx[-1]) if idx else None


def training_loops(facts: FileFacts) -> list[LoopCtx]:
    """Loops whose body steps an optimizer (directly or through an inlined call)."""
    out: list[LoopCtx] = []
    for e in optimizer_steps(facts):
        for loop in e.loops:
            if loop not in out:
                out.append(loop)
    return out


def train_loaders(facts: FileFacts) -> list[Obj]:
    """Loaders iterated by a batch loop in which an optimizer steps. A helper called with the
    training and the validation loader, stepping only under ``if train:``, trains on neither
    for sure: when one loop iterates several loaders, only unconditional steps count."""
    loaders_of_node: dict[int, set[int]] = {}
    for loop in facts.loops:
        if loop.kind == "batch" and loop.iterates is not None:
            loaders_of_node.setdefault(id(loop.node), set()).add(id(loop.iterates))
    out: list[Obj] = []
    for step in optimizer_steps(facts):
        for loop in step.loops:
            if loop.kind != "batch" or loop.iterates is None or loop.iterates in out:
                continue
            if step.guards and len(loaders_of_node.get(id(loop.node), ())) > 1:
                continue
            out.append(loop.iterates)
    return out


def input_loader(e: Event, limit: int = 40) -> Obj | None:
    """The loader a call's inputs come from (``model(xb) for xb, yb in val_loader``,
    ``images, _ = next(iter(test_loader))``), looking a bounded way back."""
    for arg in e.args:
        if arg is None:
            continue
        for n, obj in enumerate(arg.lineage()):
            if obj.kind == "loader":
                return obj
            if n >= limit or obj.kind == "model":
                break
    return None


def heldout_named(call: ast.Call) -> bool:
    """An argument names held-out data: ``model(X_val)``, ``net(test_images)``."""
    for arg in call.args:
        for node in ast.walk(arg):
            if isinstance(node, (ast.Name, ast.Attribute)) and role(dotted(node)):
                return True
    return False


def evaluation_forwards(facts: FileFacts, model: Obj) -> Iterator[tuple[Event, LoopCtx | None]]:
    """Forward passes of ``model`` that evaluate it: over a loader the optimizer does not train
    on (in a loop or a comprehension), on inputs named as held-out data, or in a function named
    like ``evaluate``. Inside a loop that trains (steps an optimizer, computes gradients) only a
    no_grad forward on held-out data counts: the full-batch validation of an epoch loop.
    Sampling a GAN generator from noise under no_grad is not evaluation. Yields (event, its
    batch loop or None)."""
    training = set(map(id, training_loops(facts))) | {id(loop) for e in backward_events(facts) for loop in e.loops}
    trainers = set(map(id, train_loaders(facts)))
    for e in forward_events(facts, model):
        batch = e.in_loop("batch")
        if batch is not None and (id(batch) in training or id(batch.iterates) in trainers):
            continue
        loader = batch.iterates if batch is not None else input_loader(e)
        if loader is not None and id(loader) in trainers:
            continue
        heldout = loader is not None or heldout_named(e.node)
        inner = e.loops[-1] if e.loops else None
        if inner is not None and id(inner) in training:
            if e.no_grad and heldout and batch is None:
                yield e, None
            continue
        functions = [e.function] + [c.func.id for c in e.via if isinstance(c.func, ast.Name)]
        named_eval = any(f and EVAL_FUNCTION_RE.search(f) for f in functions)
        if heldout or named_eval:
            yield e, batch


def grad_mode_unknown(facts: FileFacts, node: ast.AST) -> bool:
    """The node runs under ``torch.set_grad_enabled(flag)`` / ``torch.enable_grad()`` whose
    effect the facts cannot decide (the phase loop of the transfer-learning tutorial)."""
    index = index_of(facts)
    current = index.parents.get(node)
    while current is not None:
        if isinstance(current, (ast.With, ast.AsyncWith)):
            for item in current.items:
                expr = item.context_expr
                if isinstance(expr, ast.Call):
                    name = facts.qualname(expr.func) or ""
                    if name.endswith(("set_grad_enabled", "enable_grad")):
                        return True
        if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return False
        current = index.parents.get(current)
    return False


def submodules(facts: FileFacts) -> set[int]:
    """Ids of models that are parts of another model (a Sequential stored on a module, a
    Sequential inside a Sequential)."""
    out: set[int] = set()
    for m in facts.objects_of("model"):
        parts = list(m.attrs.values()) if m.class_info is not None else []
        if m.type_name == "Sequential":
            parts += list(m.arg_objs.values())
        out |= {id(p) for p in parts if p.kind == "model"}
    return out


def trained_models(facts: FileFacts) -> list[Obj]:
    """Created models that are not parts of another model, and layers an optimizer trains on
    their own (``model = nn.Linear(10, 1)``)."""
    inner = submodules(facts)
    out = [m for m in created(facts.objects_of("model")) if id(m) not in inner]
    for opt in facts.objects_of("optimizer"):
        trained = trained_model(facts, opt)
        if trained is not None and trained.kind == "layer" and trained not in out and not trained.inferred:
            out.append(trained)
    return out


def loop_names(facts: FileFacts, step: Event | None) -> dict[str, object]:
    """The user's names around an optimizer step, for fix templates: the training loader, the
    model, the optimizer, the loss and the epoch count (only those the facts know)."""
    out: dict[str, object] = {}
    if step is None:
        return out
    opt = stepped_optimizer(step)
    if opt is not None:
        out["optimizer"] = opt.name
        model = trained_model(facts, opt)
        if model is not None:
            out["model"] = model.name
    batch = step.in_loop("batch")
    if batch is not None and batch.iterates is not None:
        out["train_loader"] = batch.iterates.name
    counter = epoch_loop(step)
    if counter is not None and counter.count is not None:
        out["epochs"] = counter.count
    inner = step.loops[-1] if step.loops else None
    for e in facts.events:
        called = e.result.called if e.result is not None else None
        if inner is not None and inner in e.loops and called is not None and called.kind == "loss":
            out["loss_name"] = called.name
            break
    return out


def first_step(facts: FileFacts, opt: Obj | None) -> Event | None:
    """The optimizer's first step inside a loop (the one the fix rewrites)."""
    return next((s for s in optimizer_steps(facts, opt) if s.loops), None)
