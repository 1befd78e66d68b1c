"""Samplers: what WeightedRandomSampler is given, and how it is handed to the DataLoader."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from trainlint.model import FixRef, Severity
from trainlint.rule import Rule
from trainlint.rules import _trace_checks
from trainlint.rules._heldout import tokens
from trainlint.rules._source_index import SourceIndex, dotted, index_of
from trainlint.static import MISSING, FileFacts, Obj

PER_CLASS = "per-class"
PER_SAMPLE = "per-sample"
MAX_DEPTH = 10

COUNT_CALLS = {"bincount", "Counter", "value_counts"}
CLASS_WEIGHT_CALLS = {"compute_class_weight"}
# Calls that hand their first argument (or receiver) through unchanged in length.
PASS_THROUGH = {
    "tensor", "Tensor", "FloatTensor", "DoubleTensor", "as_tensor", "from_numpy", "array", "asarray",
    "list", "tuple", "float", "double", "to", "cpu", "cuda", "numpy", "tolist", "astype", "type",
    "reciprocal", "sqrt", "log", "pow", "clone", "detach", "values", "squeeze", "flatten", "ravel",
}
# Calls that pick one entry per sample out of a per-class table.
GATHER_CALLS = {"gather", "index_select", "take", "choose", "where", "map", "vectorize"}


def _sampler_label(sampler) -> str:
    """`sampler` by its variable, or "the WeightedRandomSampler" when it is built inline."""
    if sampler.names:
        return f"WeightedRandomSampler `{sampler.names[0]}`"
    return "the WeightedRandomSampler"


@dataclass
class Shape:
    """What a weights expression holds: PER_CLASS, PER_SAMPLE or None (unknown), why, and the
    number of classes when it is a literal."""

    kind: str | None
    why: str = ""
    length: int | None = None
    counts: list | None = None
    # The label variable the class values were counted from (``y_train`` in bincount(y_train)).
    labels: str | None = None


UNKNOWN = Shape(None)


def is_class_name(name: str | None) -> bool:
    """``class_counts``, ``cls_weights``, ``weights_per_class``, ``class_freq``."""
    words = set(tokens(name or ""))
    return bool(words & {"class", "classes", "cls", "per_class"}) or "count" in words or "counts" in words


class WeightShapes:
    """Classifies an expression as one value per class or one per sample."""

    def __init__(self, facts: FileFacts):
        self.facts = facts
        self.index: SourceIndex = index_of(facts)

    def of(self, expr: ast.AST | None, at: ast.AST, depth: int = 0) -> Shape:
        if expr is None or depth > MAX_DEPTH:
            return UNKNOWN
        if isinstance(expr, ast.Name) or isinstance(expr, ast.Attribute) and dotted(expr):
            return self.of_name(dotted(expr), at, depth)
        if isinstance(expr, ast.Subscript):
            return self.of_subscript(expr, at, depth)
        if isinstance(expr, (ast.ListComp, ast.GeneratorExp)):
            return self.of_comprehension(expr, at, depth)
        if isinstance(expr, (ast.List, ast.Tuple)):
            if expr.elts and all(isinstance(e, ast.Constant) and isinstance(e.value, (int, float)) for e in expr.elts):
                return Shape(None, "a literal list", len(expr.elts), [e.value for e in expr.elts])
            return UNKNOWN
        if isinstance(expr, ast.BinOp):
            if isinstance(expr.op, (ast.Mult, ast.Add)) and any(
                    isinstance(side, (ast.List, ast.Tuple)) for side in (expr.left, expr.right)):
                return UNKNOWN  # [0] * len(dataset): Python repeats or joins lists
            shapes = [self.of(expr.left, at, depth + 1), self.of(expr.right, at, depth + 1)]
            for kind in (PER_SAMPLE, PER_CLASS):
                for shape in shapes:
                    if shape.kind == kind:
                        return shape
            literal = next((s for s in shapes if s.length is not None), None)
            return literal or UNKNOWN
        if isinstance(expr, ast.UnaryOp):
            return self.of(expr.operand, at, depth + 1)
        if isinstance(expr, ast.Call):
            return self.of_call(expr, at, depth)
        return UNKNOWN

    def of_name(self, name: str, at: ast.AST, depth: int) -> Shape:
        assignment = self.index.last_assignment(name, at)
        shape = UNKNOWN
        if assignment is not None and not assignment.unpacked:
            shape = self.of(assignment.value, assignment.value, depth + 1)
        elif assignment is not None and isinstance(assignment.value, ast.Call):
            # ``_, counts = np.unique(y, return_counts=True)``
            shape = self.of_call(assignment.value, assignment.value, depth + 1)
        if shape.kind is None and is_class_name(name):
            if shape.length is not None:
                return Shape(PER_CLASS, f"`{name}` lists {shape.length} class values", shape.length, shape.counts)
            return Shape(PER_CLASS, f"`{name}` holds one value per class")
        return shape

    def of_subscript(self, expr: ast.Subscript, at: ast.AST, depth: int) -> Shape:
        base = self.of(expr.value, at, depth + 1)
        index = expr.slice
        if isinstance(index, (ast.Constant, ast.Slice)):
            # np.unique(..., return_counts=True)[1] stays per class; weights[:n] keeps its shape
            return base if base.kind else UNKNOWN
        if base.kind in (PER_CLASS, PER_SAMPLE):
            return Shape(PER_SAMPLE, f"looked up by `{ast.unparse(index)}`")
        return UNKNOWN

    def of_comprehension(self, expr, at: ast.AST, depth: int) -> Shape:
        targets = {n.id for g in expr.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}
        for node in ast.walk(expr.elt):
            if isinstance(node, ast.Subscript) and any(
                    isinstance(n, ast.Name) and n.id in targets for n in ast.walk(node.slice)):
                return Shape(PER_SAMPLE, "looked up for each sample")
        iterated = self.of(expr.generators[0].iter, at, depth + 1)
        if iterated.kind == PER_CLASS:
            return Shape(PER_CLASS, iterated.why, iterated.length, iterated.counts, iterated.labels)
        return UNKNOWN

    def of_call(self, call: ast.Call, at: ast.AST, depth: int) -> Shape:
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in CLASS_WEIGHT_CALLS:
            positional = call.args[2] if len(call.args) > 2 else None
            labels = next((k.value for k in call.keywords if k.arg == "y"), positional)
            return Shape(PER_CLASS, f"`{name}` returns one weight per class", labels=dotted(labels) if labels else None)
        if name in COUNT_CALLS or (name == "unique" and any(
                k.arg == "return_counts" for k in call.keywords)):
            counted = call.args[0] if call.args else (func.value if isinstance(func, ast.Attribute) else None)
            return Shape(PER_CLASS, f"`{name}` counts each class", labels=dotted(counted) if counted else None)
        if name in GATHER_CALLS:
            return Shape(PER_SAMPLE, f"`{name}` picks a value per sample")
        if name in PASS_THROUGH:
            base = func.value if isinstance(func, ast.Attribute) else None
            root = dotted(base).split(".")[0] if base is not None and dotted(base) else None
            if base is None or root in self.facts.imports:
                # tensor(x), np.array(x), torch.from_numpy(x): a function of its argument
                return self.of(call.args[0], at, depth + 1) if call.args else UNKNOWN
            return self.of(base, at, depth + 1)  # x.float(), x.to(device): a method of its receiver
        return UNKNOWN


def num_classes_name(expr: ast.AST | None) -> str | None:
    """``num_classes`` / ``n_classes``: a name for the number of classes."""
    name = dotted(expr) if isinstance(expr, (ast.Name, ast.Attribute)) else None
    if name:
        words = tokens(name.rsplit(".", 1)[-1])
        if ("classes" in words or "class" in words) and (set(words) & {"num", "n", "nb", "number", "count"}):
            return name
    return None


def loader_of(facts: FileFacts, sampler: Obj) -> Obj | None:
    for loader in facts.objects_of("loader"):
        if loader.arg_obj("sampler", pos=3) is sampler:
            return loader
    return None


class PerClassSamplerWeights(Rule):
    """
    ## What it does
    Reports a `WeightedRandomSampler` given one weight per class (inverse class counts,
    `compute_class_weight(...)`, a literal list as long as `num_samples`) instead of one
    weight per sample, or drawing `num_samples` equal to the number of classes.

    ## Why is this bad?
    The sampler draws dataset *indices* with probability proportional to the weight at each
    index. With per-class weights `[0.001, 0.005]` it only ever draws sample 0 and sample 1,
    and `len(weights)` makes an epoch two samples long: the model trains on two examples over
    and over, without any error message.

    ## Example
    ```python
    import torch
    from torch.utils.data import DataLoader, WeightedRandomSampler

    class_counts = [1000, 200]
    weights = 1. / torch.tensor(class_counts, dtype=torch.float)
    sampler = WeightedRandomSampler(weights, len(weights))
    train_loader = DataLoader(dataset, batch_size=32, sampler=sampler)
    ```

    ## Use instead
    ```python
    import torch
    from torch.utils.data import DataLoader, WeightedRandomSampler

    labels = torch.as_tensor(targets)
    class_weights = 1. / torch.bincount(labels).float()
    sample_weights = class_weights[labels]
    sampler = WeightedRandomSampler(sample_weights, num_samples=len(sample_weights))
    train_loader = DataLoader(dataset, batch_size=32, sampler=sampler)
    ```

    ## Fix safety
    The fix changes what an epoch contains: `num_samples=len(dataset)` draws a full epoch with
    the classes about balanced, so epoch counts and schedules tuned on the broken sampler change.
    """

    code = "TL302"
    name = "per-class-sampler-weights"
    severity = Severity.ERROR
    techniques = ("weighted-sampler",)

    def check_trace(self, ctx):
        return _trace_checks.per_class_sampler(self, ctx)

    def check_static(self, ctx):
        facts = ctx.facts
        shapes = WeightShapes(facts)
        for sampler in facts.objects_of("sampler"):
            if sampler.type_name != "WeightedRandomSampler":
                continue
            weights = sampler.arg("weights", pos=0)
            num_samples = sampler.arg("num_samples", pos=1)
            shape = shapes.of(weights, sampler.node)
            n = sampler.literal("num_samples", pos=1, default=None)
            if shape.kind is None and shape.length is not None and isinstance(n, int) and n == shape.length:
                shape = Shape(PER_CLASS, f"a literal list of {n} weights, as many as num_samples", n, shape.counts)
            draws = self.per_class_draws(shapes, num_samples, sampler.node)
            if shape.kind != PER_CLASS and draws is None:
                continue
            weights_text = ast.unparse(weights) if weights is not None else "weights"
            parts = []
            if shape.kind == PER_CLASS:
                last = shape.length - 1 if shape.length else "n_classes-1"
                parts.append(f"{_sampler_label(sampler)} gets per-class weights `{weights_text}` "
                             f"({shape.why}) but needs one weight per sample: it only ever draws the "
                             f"indices 0..{last}")
            if draws is not None:
                size = f" = {shape.length}" if shape.length and shape.kind == PER_CLASS else ""
                parts.append(f"num_samples={draws}{size} is the number of classes, so an epoch is that many samples")
            if shape.kind != PER_CLASS:
                parts[0] = f"{_sampler_label(sampler)}: " + parts[0]
            message = "; ".join(parts) + "; look the class weights up by each sample's label"
            yield ctx.finding(sampler.node, message,
                              evidence={"weights": weights_text, "weights_shape": shape.kind,
                                        "num_classes": shape.length, "num_samples": draws},
                              fixes=[self.fix(facts, sampler, shape)])

    @staticmethod
    def per_class_draws(shapes: WeightShapes, expr: ast.AST | None, at: ast.AST) -> str | None:
        """``len(weights)`` of per-class weights, or ``num_classes``: the draws per epoch."""
        if expr is None:
            return None
        if isinstance(expr, ast.Call) and getattr(expr.func, "id", None) == "len" and expr.args:
            inner = shapes.of(expr.args[0], at)
            if inner.kind == PER_CLASS:
                return ast.unparse(expr)
        return num_classes_name(expr)

    @staticmethod
    def fix(facts: FileFacts, sampler: Obj, shape: Shape) -> FixRef:
        params: dict = {}
        loader = loader_of(facts, sampler)
        if loader is not None:
            dataset = loader.arg("dataset", pos=0)
            if dotted(dataset):
                params["dataset"] = dotted(dataset)
            if loader.names and "." not in loader.names[0]:
                params["train_loader"] = loader.names[0]
            size = loader.literal("batch_size", pos=1, default=None)
            if isinstance(size, int) and not isinstance(size, bool):
                params["batch_size"] = size
        if shape.counts and all(isinstance(c, int) for c in shape.counts):
            params["class_counts"] = shape.counts
        if shape.labels:
            params["labels"] = shape.labels
        return FixRef("weighted-sampler", params)


def shuffle_changed(facts: FileFacts, name: str) -> bool:
    """``kwargs.pop("shuffle")``, ``del kwargs["shuffle"]``, ``kwargs["shuffle"] = False`` or
    ``kwargs.update(shuffle=...)`` somewhere in the file."""
    def is_shuffle_key(node: ast.AST) -> bool:
        return isinstance(node, ast.Constant) and node.value == "shuffle"

    for node in index_of(facts).parents:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and dotted(node.func.value) == name:
            if node.func.attr == "pop" and node.args and is_shuffle_key(node.args[0]):
                return True
            if node.func.attr == "update" and any(k.arg == "shuffle" for k in node.keywords):
                return True
        if isinstance(node, ast.Subscript) and dotted(node.value) == name and is_shuffle_key(node.slice) \
                and isinstance(node.ctx, (ast.Store, ast.Del)):
            assign = index_of(facts).parents.get(node)
            sets_true = isinstance(assign, ast.Assign) and isinstance(assign.value, ast.Constant) \
                and assign.value.value is True
            if not sets_true:
                return True
    return False


class SamplerWithShuffle(Rule):
    """
    ## What it does
    Reports a `DataLoader` given both a `sampler` (or `batch_sampler`) and `shuffle=True`,
    also when `shuffle=True` comes from a `**kwargs` dict.

    ## Why is this bad?
    The sampler decides the order; PyTorch refuses the combination and raises
    `ValueError: sampler option is mutually exclusive with shuffle` when the loader is built,
    so the script fails before training starts (or, hidden behind a flag, fails only on the
    machine where the flag is set).

    ## Example
    ```python
    from torch.utils.data import DataLoader

    train_loader = DataLoader(train_set, batch_size=64, sampler=sampler, shuffle=True)
    ```

    ## Use instead
    ```python
    from torch.utils.data import DataLoader

    train_loader = DataLoader(train_set, batch_size=64, sampler=sampler)
    ```
    """

    code = "TL303"
    name = "sampler-with-shuffle"
    severity = Severity.ERROR
    techniques = ("weighted-sampler",)

    def check_static(self, ctx):
        for loader in ctx.facts.objects_of("loader"):
            if loader.literal("shuffle", pos=2, default=MISSING) is not True:
                continue
            for option, pos in (("sampler", 3), ("batch_sampler", 4)):
                given = loader.arg(option, pos=pos)
                if given is None or loader.literal(option, pos=pos, default=MISSING) is None:
                    continue
                explicit = any(k.arg == "shuffle" for k in loader.node.keywords)
                spread = next((ast.unparse(k.value) for k in loader.node.keywords if k.arg is None), None)
                if not explicit and spread is not None and shuffle_changed(ctx.facts, spread):
                    break  # the kwargs dict loses its shuffle somewhere: the walk cannot tell when
                origin = "" if explicit or spread is None else f" (from `**{spread}`)"
                shown = ast.unparse(given)
                shown = shown if len(shown) <= 40 else shown[:37] + "..."
                message = (f"DataLoader `{loader.name}` gets {option}=`{shown}` and shuffle=True"
                           f"{origin}: PyTorch raises ValueError ({option} option is mutually exclusive "
                           "with shuffle); drop shuffle, the sampler already sets the order")
                yield ctx.finding(loader.node, message, evidence={option: ast.unparse(given), "shuffle": True},
                                  fixes=[FixRef("weighted-sampler", {"train_loader": loader.name}
                                                if "." not in loader.name else {})])
                break
