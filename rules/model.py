"""The model's output and the loss that reads it: probabilities fed to a loss that expects
logits."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from trainlint.model import FixRef, Severity
from trainlint.rule import Rule
from trainlint.rules import _trace_checks
from trainlint.rules._training import where
from trainlint.static import Event, FileFacts, Obj


@dataclass(frozen=True)
class Squash:
    """One squashing activation and the losses it must not feed."""

    layers: tuple[str, ...]  # nn.Softmax ...
    function: str  # softmax: torch.softmax, F.softmax, x.softmax()
    losses: tuple[str, ...]  # loss classes
    functional: tuple[str, ...]  # functional losses


SOFTMAX = Squash(("Softmax", "Softmax2d"), "softmax", ("CrossEntropyLoss", "NLLLoss"),
                 ("cross_entropy", "nll_loss"))
SIGMOID = Squash(("Sigmoid",), "sigmoid", ("BCEWithLogitsLoss",), ("binary_cross_entropy_with_logits",))


@dataclass
class Ending:
    """Where a squashed output comes from: the node to change and how to name it."""

    node: ast.AST
    what: str


def _is_squash_call(facts: FileFacts, call: ast.AST, squash: Squash) -> bool:
    if not isinstance(call, ast.Call):
        return False
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == squash.function:
        if isinstance(func.value, ast.Name) and func.value.id == "self":
            return False  # a layer attribute: judged by the layer's type, not by its name
        name = facts.qualname(func) or ""
        return name in (f"torch.{squash.function}", f"torch.nn.functional.{squash.function}") \
            or not name.startswith("torch.")  # a tensor method: logits.softmax(dim=1)
    return (facts.qualname(func) or "") in (f"torch.{squash.function}", f"torch.nn.functional.{squash.function}")


def _sequential_end(model: Obj, squash: Squash, depth: int = 0) -> Ending | None:
    if model.type_name != "Sequential" or not model.args or depth > 3:
        return None
    last = model.arg_obj(pos=len(model.args) - 1)
    if last is None:
        return None
    if last.type_name in squash.layers and last.node is not None:
        return Ending(last.node, f"nn.{last.type_name}")
    return _sequential_end(last, squash, depth + 1)


def _forward_end(facts: FileFacts, model: Obj, squash: Squash) -> Ending | None:
    """The squashing call that forward() returns, when forward has one unconditional return."""
    info = model.class_info
    forward = info.methods.get("forward") if info is not None else None
    if forward is None:
        return None
    returns = [n for n in ast.walk(forward) if isinstance(n, ast.Return)]
    if len(returns) != 1 or returns[0] not in forward.body or returns[0].value is None:
        return None
    expr = returns[0].value
    statements = forward.body[: forward.body.index(returns[0])]
    for _ in range(3):
        if not isinstance(expr, ast.Name):
            break
        assigned = [s for s in statements if isinstance(s, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == expr.id for t in s.targets)]
        if not assigned:
            return None
        expr = assigned[-1].value
        statements = statements[: statements.index(assigned[-1])]
    if _is_squash_call(facts, expr, squash):
        return Ending(expr, ast.unparse(expr.func))
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) \
            and isinstance(expr.func.value, ast.Name) and expr.func.value.id == "self":
        layer = model.attrs.get(expr.func.attr)
        if layer is not None and layer.type_name in squash.layers:
            return Ending(expr, f"self.{expr.func.attr} (nn.{layer.type_name})")
        if layer is not None:
            return _sequential_end(layer, squash)
    return None


def model_ending(facts: FileFacts, model: Obj, squash: Squash) -> Ending | None:
    return _sequential_end(model, squash) or _forward_end(facts, model, squash)


@dataclass
class LossCall:
    event: Event
    kind: str  # the loss class or functional name: "CrossEntropyLoss", "nll_loss"
    shown: str  # how the message names it
    variable: str | None  # the user's variable for it, when it has one


def loss_calls(facts: FileFacts, squash: Squash):
    """Every call of a loss that expects logits (or log-probabilities)."""
    for e in facts.events:
        called = e.result.called if e.result is not None else None
        qualname = e.qualname or ""
        if called is not None and called.kind == "loss" and called.type_name in squash.losses:
            yield LossCall(e, called.type_name, f"`{called.name}` ({called.type_name})",
                           called.names[0] if called.names else None)
        elif qualname.startswith("torch.nn.functional") and qualname.rsplit(".", 1)[-1] in squash.functional:
            kind = qualname.rsplit(".", 1)[-1]
            yield LossCall(e, kind, f"F.{kind}", None)
        elif isinstance(e.node.func, ast.Call):  # nn.CrossEntropyLoss()(output, target)
            kind = (facts.qualname(e.node.func.func) or "").rsplit(".", 1)[-1]
            if (facts.qualname(e.node.func.func) or "").startswith("torch.nn") and kind in squash.losses:
                yield LossCall(e, kind, f"nn.{kind}()", None)


def squashed_input(facts: FileFacts, arg: Obj | None, squash: Squash, endings: dict[int, Ending],
                   depth: int = 8) -> tuple[Ending, Obj | None] | None:
    """Follow the loss input back through plain operations to a squashing call made in the
    loop, or to a model whose output is squashed: (ending, model or None)."""
    obj = arg
    for _ in range(depth):
        if obj is None:
            return None
        if obj.called is not None:
            ending = endings.get(id(obj.called))
            return (ending, obj.called) if ending is not None else None
        if obj.kind not in ("value", "part"):
            return None
        if obj.node is not None and _is_squash_call(facts, obj.node, squash):
            return Ending(obj.node, ast.unparse(obj.node.func)), None
        obj = obj.origin if obj.kind == "part" else (obj.inputs[0] if obj.inputs else None)
    return None


def squash_findings(ctx, squash: Squash, consequence, technique: str):
    """Findings for squashed outputs fed to the squash's losses; ``consequence(kind)`` says
    what goes wrong for that loss."""
    facts = ctx.facts
    endings = {}
    for model in facts.objects_of("model"):
        ending = model_ending(facts, model, squash)
        if ending is not None:
            endings[id(model)] = ending
    reported = set()
    for call in loss_calls(facts, squash):
        e = call.event
        arg = e.args[0] if e.args else e.kwargs.get("input")
        found = squashed_input(facts, arg, squash, endings)
        if found is None:
            continue
        ending, model = found
        if id(ending.node) in reported:
            continue
        reported.add(id(ending.node))
        subject = f"`{model.name}` ends in `{ending.what}`" if model is not None else f"`{ending.what}` is applied"
        params = {"loss_name": call.variable} if call.variable else {}
        if model is not None:
            params["model"] = model.name
        yield ctx.finding(
            ending.node,
            f"{subject} and its output goes into {call.shown} at {where(facts, e)}, {consequence(call.kind)}",
            evidence={"activation": ending.what, "loss": call.kind, "loss_line": e.line,
                      "model": model.name if model is not None else None},
            fixes=[FixRef(technique, params)],
        )


class SoftmaxBeforeCrossEntropy(Rule):
    """
    ## What it does
    Flags a softmax whose output is fed to `nn.CrossEntropyLoss` / `F.cross_entropy` (or to
    `NLLLoss`, which expects log-probabilities): a model that ends in `nn.Softmax` or returns
    `F.softmax(...)` from `forward()`, or a softmax applied in the loop before the loss.
    `log_softmax` followed by `NLLLoss` is the correct pairing and is not flagged (nor is
    `log_softmax` into `CrossEntropyLoss`, which is redundant but harmless, since log-softmax of
    log-probabilities changes nothing).

    ## Why is this bad?
    CrossEntropyLoss applies log-softmax itself. Given probabilities it squashes them a second
    time: the outputs the loss sees all lie in [0, 1], so even a perfect prediction keeps a large
    loss, gradients shrink towards zero and training stalls at a poor accuracy with no error.

    ## Example
    ```python
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(64, 10), torch.nn.Softmax(dim=1))
    criterion = torch.nn.CrossEntropyLoss()
    for x, y in loader:
        loss = criterion(model(x), y)
    ```

    ## Use instead
    ```python
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(64, 10))
    criterion = torch.nn.CrossEntropyLoss()
    for x, y in loader:
        loss = criterion(model(x), y)
    ```

    ## Fix safety
    Code that reads the model's output as probabilities (thresholds, `torch.max` of the
    confidence) must then apply `softmax` itself; `argmax` predictions are unchanged.
    """

    code = "TL601"
    name = "softmax-before-cross-entropy"
    severity = Severity.ERROR
    techniques = ("raw-logits",)

    def check_trace(self, ctx):
        return _trace_checks.softmax_before_cross_entropy(self, ctx)

    def check_static(self, ctx):
        yield from squash_findings(ctx, SOFTMAX, self._consequence, "raw-logits")

    @staticmethod
    def _consequence(kind: str) -> str:
        if kind in ("NLLLoss", "nll_loss"):
            return ("which expects log-probabilities: it reads the probabilities as if they were "
                    "logs, so the loss is meaningless and its gradients barely move the model")
        return ("which applies log-softmax itself: the loss sees probabilities squashed twice, "
                "so its gradients shrink and training stalls")


class SigmoidBeforeBceWithLogits(Rule):
    """
    ## What it does
    Flags a sigmoid whose output is fed to `nn.BCEWithLogitsLoss` /
    `F.binary_cross_entropy_with_logits`: a model ending in `nn.Sigmoid`, a `forward()` that
    returns `torch.sigmoid(...)`, or a sigmoid applied in the loop before the loss. A sigmoid
    followed by `nn.BCELoss` is consistent and is not flagged.

    ## Why is this bad?
    BCEWithLogitsLoss applies the sigmoid itself. Fed probabilities, it computes
    sigmoid(sigmoid(x)), which only spans [0.5, 0.73]: the loss can never reach its minimum,
    the gradients are weak, and predicted probabilities are meaningless.

    ## Example
    ```python
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(30, 1), torch.nn.Sigmoid())
    criterion = torch.nn.BCEWithLogitsLoss()
    for x, y in loader:
        loss = criterion(model(x), y)
    ```

    ## Use instead
    ```python
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(30, 1))
    criterion = torch.nn.BCEWithLogitsLoss()
    for x, y in loader:
        loss = criterion(model(x), y)
    ```

    ## Fix safety
    Code that thresholds the model's output at 0.5 must then threshold `torch.sigmoid(output)`
    (or the raw output at 0).
    """

    code = "TL602"
    name = "sigmoid-before-bce-with-logits"
    severity = Severity.ERROR
    techniques = ("raw-logits",)

    def check_static(self, ctx):
        yield from squash_findings(
            ctx, SIGMOID,
            lambda kind: ("which applies the sigmoid itself: the loss sees sigmoid(sigmoid(x)), which "
                          "cannot get below 0.5 or above 0.73, so it can never fit the labels"),
            "raw-logits",
        )
