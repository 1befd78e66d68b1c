"""Validation data: is there any, and is the test set kept out of the decisions?"""

from __future__ import annotations

import ast
import weakref

from trainlint.rules._heldout import (
    TEST, VAL, dataset_role, identifiers, is_train_name, role, string_role, strings, tokens,
)
from trainlint.rules._source_index import dotted, index_of, target_names
from trainlint.model import FixRef, Severity
from trainlint.rule import Rule
from trainlint.rules import _trace_checks
from trainlint.static import Event, FileFacts, Obj

CROSS_VALIDATION_SPLITS = {
    "KFold", "StratifiedKFold", "GroupKFold", "RepeatedKFold", "RepeatedStratifiedKFold",
    "StratifiedGroupKFold", "LeaveOneOut", "ShuffleSplit", "StratifiedShuffleSplit", "TimeSeriesSplit",
}
CROSS_VALIDATION_CALLS = ("cross_val_score", "cross_validate", "cross_val_predict")
# Splits whose parts the script names; an unnamed or neutrally named part may be validation.
NAMED_PART_SPLITS = {"random_split", "train_test_split"}


def training_steps(facts: FileFacts) -> list[Event]:
    """``optimizer.step()`` calls made inside a loop: the script trains."""
    return [e for e in facts.events
            if e.method == "step" and e.receiver is not None and e.receiver.kind == "optimizer" and e.loops]


def training_loop(step: Event):
    """The loop that runs the epochs around a step: the outermost epoch loop, else the outermost loop."""
    epochs = [loop for loop in step.loops if loop.kind == "epoch"]
    return epochs[0] if epochs else step.loops[0]


def describe_optimizer(optimizer: Obj) -> str:
    """``optimizer `opt` (Adam, lr=0.001)``; the lr only when it is a constant."""
    lr = optimizer.literal("lr", pos=1, default=None)
    detail = optimizer.type_name or "optimizer"
    if isinstance(lr, (int, float)) and not isinstance(lr, bool):
        detail += f", lr={lr!r}"
    return f"optimizer `{optimizer.name}` ({detail})"


def first_name(facts: FileFacts, kind: str, default: str) -> str:
    for obj in facts.objects_of(kind):
        if obj.names and not obj.inferred:
            return obj.names[0]
    return default


def loop_params(facts: FileFacts, step: Event) -> dict:
    """The user's names for the fix templates of the training loop."""
    params = {
        "optimizer": step.receiver.name,
        "model": first_name(facts, "model", "model"),
        "loss_name": first_name(facts, "loss", "criterion"),
    }
    batch = step.in_loop("batch")
    if batch is not None and batch.iterates is not None and batch.iterates.names:
        params["train_loader"] = batch.iterates.names[0]
        size = batch.iterates.literal("batch_size", pos=1)
        if isinstance(size, int) and not isinstance(size, bool):
            params["batch_size"] = size
    count = training_loop(step).count
    if count:
        params["epochs"] = count
    for loader in facts.objects_of("loader"):
        part = loader_role(loader)
        key = {VAL: "val_loader", TEST: "test_loader"}.get(part)
        if key and key not in params and loader.names:
            params[key] = loader.names[0]
    return params


def validation_evidence(facts: FileFacts) -> str | None:
    """What in the file is validation data (or cross-validation), described for the docs of
    a quiet rule; None when the file has none."""
    index = index_of(facts)
    for obj in facts.objects_of("split"):
        if obj.type_name in CROSS_VALIDATION_SPLITS:
            return f"cross-validation with {obj.type_name}"
    if facts.calls_to(*CROSS_VALIDATION_CALLS):
        return "cross-validation"
    for obj in facts.objects_of("split"):
        if obj.type_name not in NAMED_PART_SPLITS:
            continue
        parts = [n for n in index.bound_names(obj.node) if not is_train_name(n)]
        if any(role(n) != TEST for n in parts):
            # ``train, rest = random_split(...)``: a part that is not the test set.
            return f"a split of the data into {', '.join(index.bound_names(obj.node))}"
    for obj in facts.objects_of("dataset"):
        r, why = dataset_role(obj)
        if r == VAL:
            return f"validation dataset ({why})"
    for name, node in identifiers(facts):
        if role(name) == VAL:
            return f"`{name}`"
    for text, node in strings(facts):
        if string_role(text) == VAL:
            return f"{text!r}"
    return None


def test_data(facts: FileFacts) -> list[tuple[str, str]]:
    """(name, why it is test data) for each test set the file builds, loaders first."""
    found: list[tuple[str, str]] = []
    test_datasets: set[int] = set()
    for obj in facts.objects_of("dataset"):
        r, why = dataset_role(obj)
        if r == TEST:
            test_datasets.add(id(obj))
            found.append((obj.name, why))
    for obj in facts.objects_of("loader"):
        source = obj.arg_obj(pos=0)
        if any(role(n) == TEST for n in obj.names):
            found.insert(0, (obj.name, f"`{obj.name}`"))
        elif source is not None and any(id(o) in test_datasets for o in source.lineage()):
            found.insert(0, (obj.name, "a loader of the test dataset"))
    index = index_of(facts)
    for obj in facts.objects_of("split"):
        for name in index.bound_names(obj.node):
            if role(name) == TEST:
                found.append((name, f"a split part named `{name}`"))
    # Held out by hand: ``X_test = X[800:]``, ``test = data[train_size:]``.
    for name, assignments in index.assignments.items():
        if role(name) == TEST and is_data_name(name):
            found.append((name, f"`{name}`, assigned at line {assignments[0].line}"))
    return found


HAND_SPLIT_WORDS = {"x", "y", "data", "set", "dataset", "ds", "df", "loader", "dataloader", "images",
                    "imgs", "labels", "targets", "inputs", "features", "samples", "tensor", "tensors"}


def is_data_name(name: str) -> bool:
    """``X_test``, ``test_data``, ``testset``, a bare ``test``: data, not a setting or a metric."""
    words = tokens(name.rsplit(".", 1)[-1])
    if len(words) == 1 and role(words[0]):
        return True
    return any(w in HAND_SPLIT_WORDS or w.endswith(("set", "loader", "data")) or w[:1] in ("x", "y") and role(w)
               for w in words)


def is_test_name_in(node: ast.AST) -> str | None:
    """A name with the test role used in ``node`` (call arguments, operands); the called
    function itself does not count (``test(model)`` calls a function named test)."""
    roots = [*node.args, *(k.value for k in node.keywords)] if isinstance(node, ast.Call) else [node]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        roots.append(node.func.value)
    for sub in (n for root in roots for n in ast.walk(root)):
        name = dotted(sub) if isinstance(sub, (ast.Name, ast.Attribute)) else None
        if name and role(name) == TEST:
            return name
    return None


def loader_role(obj: Obj | None) -> str | None:
    if obj is None:
        return None
    for name in obj.names:
        if role(name):
            return role(name)
    source = obj.arg_obj(pos=0)
    if source is not None:
        for o in source.lineage():
            if o.kind == "dataset":
                return dataset_role(o)[0]
    return None


def test_used_in_loop(facts: FileFacts, loop) -> str | None:
    """The test data evaluated inside ``loop`` (a test loader iterated, or a test-named value
    passed to a call), through inlined functions too."""
    for event in facts.events:
        if loop not in event.loops:
            continue
        batch = event.in_loop("batch")
        if batch is not None and batch.iterates is not None and loader_role(batch.iterates) == TEST:
            return batch.iterates.name
        name = is_test_name_in(event.node)
        if name:
            return name
    return None


class MissingValidationSplit(Rule):
    """
    ## What it does
    Reports a training loop when the script holds out no validation data: either nothing is
    held out at all, or the only held-out data is the test set (a `train=False` dataset,
    `test_loader`, `X_test`), typically evaluated after every epoch. The finding is reported
    at the line that creates the optimizer (at the training loop when the optimizer comes from
    elsewhere).

    It stays quiet as soon as the file has any validation data: a split of the training data
    into parts that are not all test (`random_split`, `train_test_split`, `Subset`), names such
    as `val_loader`, `X_valid` or `dev_set`, a `split="val"` dataset, or cross-validation
    (`KFold`, `cross_val_score`).

    ## Why is this bad?
    Without a validation split nothing shows overfitting while it happens, and every choice of
    epochs, learning rate or regularisation is made either blind or by looking at the test set.
    A test set watched during training stops being a test set: its score steers the choices and
    ends up optimistic.

    ## Example
    ```python
    import torch
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    train_set = datasets.MNIST("data", train=True, transform=transforms.ToTensor())
    test_set = datasets.MNIST("data", train=False, transform=transforms.ToTensor())
    train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=1000)
    model = torch.nn.Linear(784, 10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for epoch in range(10):
        for x, y in train_loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x.flatten(1)), y).backward()
            optimizer.step()
        with torch.no_grad():
            for x, y in test_loader:
                print((model(x.flatten(1)).argmax(1) == y).float().mean())
    ```

    ## Use instead
    ```python
    import torch
    from torch.utils.data import DataLoader, random_split
    from torchvision import datasets, transforms

    full_train = datasets.MNIST("data", train=True, transform=transforms.ToTensor())
    train_set, val_set = random_split(full_train, [54000, 6000], generator=torch.Generator().manual_seed(0))
    train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=1000)
    model = torch.nn.Linear(784, 10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for epoch in range(10):
        for x, y in train_loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x.flatten(1)), y).backward()
            optimizer.step()
        with torch.no_grad():
            for x, y in val_loader:
                print((model(x.flatten(1)).argmax(1) == y).float().mean())
    ```
    """

    code = "TL101"
    name = "missing-validation-split"
    severity = Severity.WARNING
    techniques = ("validation-split", "test-set-once")

    def check_trace(self, ctx):
        return _trace_checks.missing_validation(self, ctx)

    def check_static(self, ctx):
        facts = ctx.facts
        steps = training_steps(facts)
        if not steps or validation_evidence(facts) is not None:
            return
        built_data = [o for o in facts.objects_of("dataset", "loader", "split") if not o.inferred]
        tests = test_data(facts)
        step = steps[0]
        if not tests:
            if not built_data:
                return  # the data comes from elsewhere: nothing to say about how it was split
            if len({id(e.receiver) for e in steps}) > 1 or not labelled_batches(step):
                return  # adversarial or unsupervised training (GANs, autoencoders): no labels to validate
        optimizer = step.receiver
        loop = training_loop(step)
        at = loop.node if optimizer.inferred else optimizer.node
        what = describe_optimizer(optimizer)
        span = f" for {loop.count} epochs" if loop.count else ""
        params = loop_params(facts, step)
        evidence = {"optimizer": optimizer.name, "training_loop_line": loop.line}
        if tests:
            test_name, why = tests[0]
            used = test_used_in_loop(facts, loop)
            evidence["test_data"] = test_name
            if used:
                evidence["test_evaluated_in_training_loop"] = used
                message = (f"{what} trains{span} with the test set `{used}` evaluated inside the training "
                           f"loop (line {loop.line}) and no validation split: hold out validation data "
                           "for the choices and score the test set once at the end")
            else:
                because = "" if why == f"`{test_name}`" else f" ({why})"
                message = (f"{what} trains{span} and the only held-out data is the test set `{test_name}`"
                           f"{because}: there is no validation split to tune epochs and hyperparameters on")
        else:
            message = (f"{what} trains{span} on all the data: nothing is held out, so no score "
                       "shows how the model does on examples it has not seen")
        features, labels = split_inputs(facts)
        split_params = {k: v for k, v in params.items() if k in ("train_loader", "test_loader", "batch_size")}
        if features:
            split_params["features"] = features
        if labels:
            split_params["labels"] = labels
        yield ctx.finding(at, message, evidence=evidence, fixes=[
            FixRef("validation-split", split_params),
            FixRef("test-set-once", params),
        ])


LABEL_KEYS = {"label", "labels", "target", "targets", "y"}


def labelled_batches(step: Event) -> bool:
    """The batch loop around ``step`` unpacks (inputs, labels) pairs: supervised training.
    Full-batch training (no batch loop) counts as labelled."""
    loop = step.in_loop("batch")
    if loop is None or not isinstance(loop.node, (ast.For, ast.AsyncFor)):
        return True
    target = loop.node.target
    it = loop.node.iter
    if isinstance(it, ast.Call) and getattr(it.func, "id", None) == "enumerate" \
            and isinstance(target, ast.Tuple) and len(target.elts) == 2:
        target = target.elts[1]
    if isinstance(target, (ast.Tuple, ast.List)):
        return len(target.elts) >= 2 and not (isinstance(target.elts[1], ast.Name) and target.elts[1].id == "_")
    if not isinstance(target, ast.Name):
        return False
    for node in (n for stmt in loop.node.body for n in ast.walk(stmt)):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name) and node.value.id == target.id \
                and isinstance(node.targets[0], (ast.Tuple, ast.List)) and len(node.targets[0].elts) >= 2:
            second = node.targets[0].elts[1]
            return not (isinstance(second, ast.Name) and second.id == "_")
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == target.id:
            key = node.slice
            if isinstance(key, ast.Constant) and (key.value == 1 or key.value in LABEL_KEYS):
                return True
    return False


def split_inputs(facts: FileFacts) -> tuple[str | None, str | None]:
    """The feature and label variables the script splits or wraps (``train_test_split(X, y)``,
    ``TensorDataset(X_t, y_t)``), for the validation-split template."""
    for obj in facts.objects_of("split", "dataset"):
        if obj.type_name in ("train_test_split", "TensorDataset") and len(obj.args) >= 2:
            names = [dotted(a) for a in obj.args[:2]]
            if all(names):
                return names[0], names[1]
    return None, None


# -- TL102 ---------------------------------------------------------------------------------

SAVE_CALLS = ("save", "save_checkpoint", "save_model", "save_pretrained", "save_state_dict",
              "deepcopy", "load_state_dict")
COUNTER_WORDS = ("patience", "counter", "wait", "bad", "no_improve", "stale", "stop", "trigger")
EARLY_STOP_WORDS = ("early", "stopper", "stopping")


# Names of data, settings and counters rather than of a measured number.
NOT_METRIC_WORDS = {
    "loader", "loaders", "dataloader", "set", "sets", "dataset", "datasets", "ds", "dl", "data",
    "x", "y", "idx", "indices", "images", "imgs", "labels", "targets", "inputs", "features", "files",
    "paths", "dir", "batch", "size", "every", "interval", "freq", "frequency", "period", "kwargs",
    "transform", "transforms", "split", "frac", "fraction", "ratio", "num", "steps", "epochs", "mode",
    "code", "exit", "id", "ids", "name", "names", "path", "file", "flag", "case", "cases", "type",
}
SETTINGS_ROOTS = {"args", "opt", "opts", "config", "cfg", "conf", "hparams", "hp", "params", "flags", "FLAGS"}


METRIC_WORDS = {
    "acc", "accs", "accuracy", "accuracies", "loss", "losses", "score", "scores", "f1", "auc", "roc",
    "error", "err", "errors", "mse", "rmse", "mae", "metric", "metrics", "precision", "recall", "prec",
    "correct", "iou", "miou", "map", "ppl", "perplexity", "result", "results", "top1", "top5", "r2",
    "bleu", "dice", "nll", "mape",
}


def is_metric_name(name: str) -> bool:
    """``test_acc``, ``testloss``, ``self.best_test_f1``, ``acc``; not ``test_loader``,
    ``args.test_every``, or a module attribute (``torch.testing.x``)."""
    parts = name.split(".")
    if parts[0] in SETTINGS_ROOTS or (parts[0] == "self" and len(parts) > 2 and parts[1] in SETTINGS_ROOTS):
        return False
    if parts[-1].isupper():
        return False  # a constant (TEST_ERROR_CODE), not a measured number
    words = tokens(parts[-1])
    return not any(w in NOT_METRIC_WORDS or w.endswith(("loader", "set", "data")) for w in words)


def names_a_measurement(name: str) -> bool:
    """A test-named variable that holds a score: ``test_acc``, ``testloss``, ``acc_test``."""
    words = tokens(name.rsplit(".", 1)[-1])
    return any(w in METRIC_WORDS or (w.startswith("test") and w[4:] in METRIC_WORDS) for w in words)


def metric_candidates(operand: ast.expr) -> list[str]:
    """The names a compared operand reads its number from: ``test_acc``, ``self.test_loss``,
    ``test_loss.item()``, ``history["test_acc"]``, ``test_accs[-1]``, ``test_loss - delta``."""
    if isinstance(operand, (ast.Name, ast.Attribute)):
        name = dotted(operand)
        return [name] if name else []
    if isinstance(operand, ast.Subscript):
        key = operand.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return [key.value]
        return metric_candidates(operand.value)
    if isinstance(operand, ast.Call):
        if isinstance(operand.func, ast.Attribute):
            return metric_candidates(operand.func.value)
        return [n for a in operand.args for n in metric_candidates(a)]
    if isinstance(operand, ast.BinOp):
        return metric_candidates(operand.left) + metric_candidates(operand.right)
    return []


def test_metric(facts: FileFacts, expr: ast.AST, at: ast.AST) -> str | None:
    """The name in ``expr`` that holds a number measured on the test set: test-named
    (``test_acc``), or assigned from a call that is given test data (``acc = test(model,
    test_loader)``) or that iterates a test loader (``acc = self.evaluate()``)."""
    index = index_of(facts)
    for name in metric_candidates(expr):
        if not is_metric_name(name) or name.split(".")[0] in facts.imports:
            continue
        r = role(name)
        if r == TEST:
            if names_a_measurement(name):
                return name
            continue
        if r == VAL:
            continue
        assignment = index.last_assignment(name, at)
        if assignment is None:
            continue
        scope = assignment.scope
        if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) and scope.name in test_loop_functions(facts):
            return name  # acc = 100. * correct / total after the loop over the test loader
        value = assignment.value
        if is_test_name_in(value):
            return name
        for call in (n for n in ast.walk(value) if isinstance(n, ast.Call)):
            if evaluates_test_loader(facts, call):
                return name
    return None


_TEST_FUNCTIONS: weakref.WeakKeyDictionary[FileFacts, set[str]] = weakref.WeakKeyDictionary()


def test_loop_functions(facts: FileFacts) -> set[str]:
    """Functions whose batch loops all iterate test loaders: what they compute is measured on
    the test set (``def test(epoch): for x, y in testloader: ...``)."""
    found = _TEST_FUNCTIONS.get(facts)
    if found is None:
        roles: dict[str, set[str | None]] = {}
        for loop in facts.loops:
            if loop.kind == "batch" and loop.function:
                roles.setdefault(loop.function, set()).add(loader_role(loop.iterates))
        found = {name for name, seen in roles.items() if seen == {TEST}}
        _TEST_FUNCTIONS[facts] = found
    return found


def evaluates_test_loader(facts: FileFacts, call: ast.Call) -> bool:
    """Calling ``call`` runs a batch loop over a test loader (through inlined functions)."""
    return id(call) in test_evaluating_calls(facts)


_TEST_CALLS: weakref.WeakKeyDictionary[FileFacts, set[int]] = weakref.WeakKeyDictionary()


def test_evaluating_calls(facts: FileFacts) -> set[int]:
    """Ids of the call nodes through which a batch loop over a test loader is reached."""
    found = _TEST_CALLS.get(facts)
    if found is None:
        found = set()
        for event in facts.events:
            batch = event.in_loop("batch")
            if event.via and batch is not None and loader_role(batch.iterates) == TEST:
                found.update(id(c) for c in event.via)
        _TEST_CALLS[facts] = found
    return found


def selection_action(body: list[ast.stmt]) -> tuple[str, str] | None:
    """(kind, detail) of the decision a block takes: keep a checkpoint, record a best value,
    count epochs without improvement, stop. None when it only reports."""
    found: list[tuple[str, str]] = []
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in SAVE_CALLS:
                    found.append(("checkpoint", f"{dotted(func) or name}()"))
            elif isinstance(node, ast.Break):
                found.append(("stop", "break"))
            elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for sub in ast.walk(target):
                        name = dotted(sub) if isinstance(sub, (ast.Name, ast.Attribute)) else None
                        if not name:
                            continue
                        low = name.lower()
                        if "best" in low:
                            found.append(("best", name))
                        elif any(w in low for w in COUNTER_WORDS):
                            found.append(("stop", name))
    if not found:
        return None
    order = {"checkpoint": 0, "stop": 1, "best": 2}
    kind = min((f[0] for f in found), key=order.__getitem__)
    details = list(dict.fromkeys(d for k, d in found if k == kind))
    return kind, ", ".join(details[:2])


def compared_exprs(test: ast.expr) -> list[ast.expr]:
    """The operands of the comparisons in an ``if`` test."""
    out: list[ast.expr] = []
    for node in ast.walk(test):
        if isinstance(node, ast.Compare):
            out += [node.left, *node.comparators]
    return out


def compares_phase_to_test(test: ast.expr) -> bool:
    """``phase == "test"``: the branch runs for the test split."""
    for node in ast.walk(test):
        if isinstance(node, ast.Compare) and any(isinstance(op, (ast.Eq, ast.Is)) for op in node.ops):
            for operand in [node.left, *node.comparators]:
                if isinstance(operand, ast.Constant) and isinstance(operand.value, str) \
                        and string_role(operand.value) == TEST:
                    return True
    return False


class ModelSelectionOnTestSet(Rule):
    """
    ## What it does
    Reports a decision driven by a number measured on the test set: keeping the checkpoint with
    the best test accuracy (`if test_acc > best: torch.save(...)`), early stopping on the test
    loss, `ReduceLROnPlateau.step(test_loss)`, or picking hyperparameters by test score.
    Printing the test score every epoch is not reported here (see TL101).

    ## Why is this bad?
    Every choice made by looking at a split fits the model to that split. When the test score
    chooses the epoch, the checkpoint or the learning rate, the reported test score is the
    best of many tries on the same data and overstates how the model does on new data.

    ## Example
    ```python
    best_acc = 0.0
    for epoch in range(epochs):
        train(model, train_loader, optimizer)
        test_acc = evaluate(model, test_loader)
        if test_acc > best_acc:
            best_acc = test_acc
            torch.save(model.state_dict(), "best.pt")
    ```

    ## Use instead
    ```python
    best_acc = 0.0
    for epoch in range(epochs):
        train(model, train_loader, optimizer)
        val_acc = evaluate(model, val_loader)
        if val_acc > best_acc:
            best_acc = val_acc
            torch.save(model.state_dict(), "best.pt")
    test_acc = evaluate(model, test_loader)
    ```
    """

    code = "TL102"
    name = "test-set-model-selection"
    severity = Severity.ERROR
    techniques = ("validation-split", "early-stopping", "test-set-once")

    def check_static(self, ctx):
        facts = ctx.facts
        if facts.tree is None:
            return
        reported: set[int] = set()
        for node, message, evidence in self.decisions(facts):
            if node.lineno in reported:
                continue
            reported.add(node.lineno)
            yield ctx.finding(node, message, evidence=evidence, fixes=self.fixes(facts))

    def decisions(self, facts: FileFacts):
        for node in index_of(facts).parents:  # every node of the file but the module itself
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Compare):
                # is_best = test_acc > best_acc; save_checkpoint(state, is_best)
                flags = [n for t in node.targets for n in target_names(t) if "best" in n.lower()]
                metric = next((m for o in compared_exprs(node.value) if (m := test_metric(facts, o, node))), None)
                if flags and metric:
                    yield node, (f"the test-set metric `{metric}` sets `{flags[0]}`, which marks the best "
                                 "checkpoint: the test score then measures the choice it made and is "
                                 "optimistic; decide on a validation split and test once"), \
                        {"metric": metric, "decision": "checkpoint", "detail": flags[0]}
                continue
            if not isinstance(node, ast.If):
                continue
            action = selection_action(node.body) or selection_action(node.orelse)
            if action is None:
                continue
            metric = None
            for operand in compared_exprs(node.test):
                metric = test_metric(facts, operand, node)
                if metric:
                    break
            if metric is None and compares_phase_to_test(node.test):
                names = [dotted(o) for o in compared_exprs(node.test) if isinstance(o, (ast.Name, ast.Attribute))]
                metric = next((n for n in names if n and n not in ("phase", "split", "mode")), None)
            if metric is None:
                continue
            kind, detail = action
            if kind == "checkpoint":
                what = f"decides which checkpoint is kept ({detail})"
            elif kind == "stop":
                what = f"decides when training stops ({detail})"
            elif "best" in detail and metric.split(".")[-1] not in detail:
                what = f"chooses `{detail}`"
            else:
                what = f"picks the best epoch (`{detail}`)"
            yield node, (f"the test-set metric `{metric}` {what}: the test score then measures the choice "
                         "it made and is optimistic; decide on a validation split and test once"), \
                {"metric": metric, "decision": kind, "detail": detail}
        seen: set[int] = set()
        for sched in facts.objects_of("scheduler"):
            if sched.type_name != "ReduceLROnPlateau":
                continue
            for event in facts.events_on(sched, "step"):
                if id(event.node) in seen:
                    continue
                seen.add(id(event.node))
                arg = event.node.args[0] if event.node.args else next(
                    (k.value for k in event.node.keywords if k.arg == "metrics"), None)
                metric = test_metric(facts, arg, event.node) if arg is not None else None
                if metric:
                    yield event.node, (f"ReduceLROnPlateau `{sched.name}` steps on the test-set metric "
                                       f"`{metric}`: the learning-rate schedule is tuned on the test set; "
                                       "step it on the validation loss"), \
                        {"metric": metric, "decision": "lr-schedule", "scheduler": sched.name}
        for event in facts.events:
            callee = dotted(event.node.func) or ""
            if id(event.node) in seen or not any(w in callee.lower() for w in EARLY_STOP_WORDS):
                continue
            seen.add(id(event.node))
            for arg in event.node.args:
                metric = test_metric(facts, arg, event.node)
                if metric:
                    yield event.node, (f"early stopping `{callee}` watches the test-set metric `{metric}`: "
                                       "the test set decides when training stops; watch a validation "
                                       "metric instead"), {"metric": metric, "decision": "stop", "detail": callee}
                    break

    def fixes(self, facts: FileFacts) -> list[FixRef]:
        steps = training_steps(facts)
        params = loop_params(facts, steps[0]) if steps else {}
        return [FixRef("validation-split", {k: v for k, v in params.items() if k in ("train_loader", "batch_size")}),
                FixRef("early-stopping", params), FixRef("test-set-once", params)]
