"""Leakage: information from validation or test rows reaching training, or evaluation data
altered like training data."""

from __future__ import annotations

import ast
import weakref

from trainlint.model import FixRef, Severity
from trainlint.rule import Rule
from trainlint.rules._heldout import TEST, VAL, dataset_role, is_train_name, role, tokens
from trainlint.rules._source_index import SourceIndex, dotted, index_of, target_names
from trainlint.static import Event, FileFacts, Obj
from trainlint.static.kinds import classify, is_random_transform

# Splitters whose ``.split(X, y)`` method produces the folds.
FOLD_SPLITTERS = {
    "KFold", "StratifiedKFold", "GroupKFold", "RepeatedKFold", "RepeatedStratifiedKFold",
    "StratifiedGroupKFold", "LeaveOneOut", "ShuffleSplit", "StratifiedShuffleSplit", "TimeSeriesSplit",
}
LABEL_WORDS = {"y", "label", "labels", "target", "targets", "class", "classes", "ytrain", "ylabels"}
# Whole-array statistics that normalise data when subtracted or divided by.
STATISTICS = {"mean", "std", "var", "nanmean", "nanstd", "nanvar", "median", "min", "amin"}


class Split:
    """A place where data is divided: which objects go in, where, and its position in the run.
    ``obj`` is None for a split made by hand (``X_test = X[800:]``)."""

    def __init__(self, obj: Obj | None, node: ast.AST, inputs: list[Obj], order: int, text: str = ""):
        self.obj = obj
        self.node = node
        self.inputs = inputs
        self.order = order
        self.text = text or source_text(node, 50)

    @property
    def kind(self) -> str:
        return self.obj.type_name if self.obj is not None else "slicing"

    @property
    def label(self) -> str:
        if self.obj is None:
            return f"the hand-made split at line {self.node.lineno} (`{self.text}`)"
        return f"`{self.obj.type_name}` at line {self.node.lineno}"

    @property
    def test_size(self) -> float | None:
        size = self.obj.literal("test_size") if self.obj is not None else None
        return size if isinstance(size, float) and 0 < size < 1 else None

    def receives(self, matches) -> bool:
        """The data split here was computed from an object for which ``matches(obj)`` holds."""
        return any(matches(o) for d in self.inputs for o in data_lineage(d))


# Methods whose receiver is a fitted estimator, not data: the data flows in through the arguments.
ESTIMATOR_METHODS = {"fit", "transform", "fit_transform", "fit_resample", "fit_sample", "inverse_transform"}


def data_lineage(obj: Obj):
    """The objects ``obj``'s data was computed from, like ``Obj.lineage`` but not through fitted
    estimators: ``scaler.transform(X_rest)`` comes from ``X_rest``, not from the rows the scaler
    was fitted on."""
    seen: set[int] = set()
    stack = [obj]
    while stack:
        current = stack.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        node = current.node
        method = node.func.attr if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) else None
        if current.kind == "value" and method in ESTIMATOR_METHODS:
            if method != "fit":
                stack.extend(o for o in current.inputs if not is_estimator(o))
            continue
        if current.origin is not None:
            stack.append(current.origin)
        stack.extend(current.inputs)
        stack.extend(current.arg_objs.values())


def is_estimator(obj: Obj) -> bool:
    """A preprocessor, resampler or model object, or the result of ``.fit()`` (the estimator)."""
    if obj.kind in ("preprocessor", "resampler", "model", "instance"):
        return True
    node = obj.node
    return obj.kind == "value" and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
        and node.func.attr == "fit"


def event_order(facts: FileFacts) -> dict[int, int]:
    """Position in the run of the call that created each object (by object id)."""
    return {id(e.result): i for i, e in enumerate(facts.events) if e.result is not None}


def splits(facts: FileFacts) -> list[Split]:
    """Every division of data: random_split / Subset / train_test_split by their data
    arguments, and ``KFold().split(X, y)`` by the arrays given to ``split``."""
    order = event_order(facts)
    out: list[Split] = []
    for obj in facts.objects_of("split"):
        if obj.type_name in FOLD_SPLITTERS:
            for i, event in enumerate(facts.events):
                if event.receiver is obj and event.method == "split":
                    out.append(Split(obj, event.node, [a for a in event.args if a is not None], i))
            continue
        if obj.type_name == "train_test_split":
            inputs = [obj.arg_objs[i] for i in range(len(obj.args)) if i in obj.arg_objs]
        else:
            first = obj.arg_obj("dataset", pos=0)
            inputs = [first] if first is not None else []
        if inputs:
            out.append(Split(obj, obj.node, inputs, order.get(id(obj), len(facts.events))))
    return out


def later_split_of(facts: FileFacts, matches, after: int) -> Split | None:
    """The first split, run after position ``after``, whose data comes from an object for
    which ``matches(obj)`` holds."""
    for split in sorted(splits(facts), key=lambda s: s.order):
        if split.order > after and split.receives(matches):
            return split
    return None


def derived_names(facts: FileFacts, names: set[str], after: ast.AST) -> set[str]:
    """``names`` and the variables assigned below ``after``, in its function, from expressions
    that use them (``windows = np.stack([series[i:i + 33] ...])`` derives from ``series``)."""
    scope = index_of(facts).scope_of(after)
    derived = set(names)
    for line, name, used, where in assignment_uses(facts):
        if line > after.lineno and where is scope and name not in derived and used & derived \
                and role(name) not in (VAL, TEST):
            derived.add(name)
    return derived


_USES: weakref.WeakKeyDictionary[FileFacts, list] = weakref.WeakKeyDictionary()


def assignment_uses(facts: FileFacts) -> list[tuple[int, str, frozenset[str], ast.AST]]:
    """(line, assigned name, names its value reads, scope) for every assignment, in line order."""
    uses = _USES.get(facts)
    if uses is None:
        index = index_of(facts)
        uses = sorted(((a.line, a.name, frozenset(n.id for n in ast.walk(a.value) if isinstance(n, ast.Name)), a.scope)
                       for entries in index.assignments.values() for a in entries), key=lambda u: u[:2])
        _USES[facts] = uses
    return uses


def hand_split_after(facts: FileFacts, names: set[str], after: ast.AST) -> Split | None:
    """The first split by slicing below ``after`` in the same function: a validation/test-named
    variable assigned a slice or an index selection of one of ``names`` (``X_test = X[800:]``,
    ``X_train, X_val = X[:n], X[n:]``, ``X_val = X[val_idx]``)."""
    index = index_of(facts)
    scope = index.scope_of(after)
    names = derived_names(facts, names, after)
    found: list[ast.AST] = []
    for name, assignments in index.assignments.items():
        if role(name) not in (VAL, TEST):
            continue
        for assignment in assignments:
            if assignment.line <= after.lineno or assignment.scope is not scope:
                continue
            values = assignment.value.elts if isinstance(assignment.value, ast.Tuple) else [assignment.value]
            if any(isinstance(v, ast.Subscript) and isinstance(v.value, ast.Name) and v.value.id in names
                   and isinstance(v.slice, (ast.Slice, ast.Name, ast.Attribute)) for v in values):
                found.append(index.statement_of(assignment.value))
    if not found:
        return None
    stmt = min(found, key=lambda n: n.lineno)
    text = (ast.get_source_segment(facts.text, stmt) or "").strip()
    return Split(None, stmt, [], len(facts.events), text if 0 < len(text) <= 60 and "\n" not in text else "")


def root_name(expr: ast.AST | None) -> str | None:
    """``df`` for ``df[num_cols]``, ``X`` for ``X[:, 1:].values``."""
    while isinstance(expr, (ast.Subscript, ast.Attribute, ast.Call)):
        expr = expr.func if isinstance(expr, ast.Call) else expr.value
    return expr.id if isinstance(expr, ast.Name) else None


def split_of_named_array(facts: FileFacts, data_node: ast.AST | None, after: ast.AST) -> Split | None:
    """A later split, in the same function, of the array the fitted columns were taken from:
    ``df[cols] = scaler.fit_transform(df[cols])`` then ``train_test_split(df.drop(...), ...)``;
    the walk does not follow values stored into a subscript, the names still tell."""
    name = root_name(data_node)
    if name is None:
        return None
    index = index_of(facts)
    scope = index.scope_of(after)
    for split in sorted(splits(facts), key=lambda s: s.node.lineno):
        call = split.node if isinstance(split.node, ast.Call) else None
        if call is None or split.node.lineno <= after.lineno or index.scope_of(call) is not scope:
            continue
        args = [*call.args, *(k.value for k in call.keywords if k.arg not in ("stratify", "groups"))]
        if any(isinstance(n, ast.Name) and n.id == name for a in args for n in ast.walk(a)):
            return split
    return None


def is_object(*sources: Obj | None):
    wanted = {id(s) for s in sources if s is not None}
    return lambda obj: id(obj) in wanted


def source_text(node: ast.AST | None, limit: int = 40) -> str:
    text = ast.unparse(node) if node is not None else "?"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def only_labels(node: ast.AST | None) -> bool:
    """``y``, ``labels.reshape(-1, 1)``: every name in the expression is a label name."""
    if node is None:
        return False
    words = [set(tokens(n.id)) for n in ast.walk(node) if isinstance(n, ast.Name)]
    return any(w & LABEL_WORDS for w in words) and not any(w & FEATURE_WORDS for w in words)


def labels_only(event: Event, data_node: ast.AST | None) -> bool:
    """The fitted data is the labels: ``KBinsDiscretizer().fit_transform(y.reshape(-1, 1))``,
    ``y = LabelEncoder().fit_transform(data[:, 0])``."""
    targets = list(event.targets)
    return only_labels(data_node) or bool(targets and all(set(tokens(t)) & LABEL_WORDS for t in targets))


FEATURE_WORDS = {"x", "features", "feature", "feats", "inputs", "cols", "columns", "categorical", "cat"}


def label_encoder_on_labels(event: Event, data_node: ast.AST | None) -> bool:
    """LabelEncoder and LabelBinarizer are made for labels: they count as feature encoders
    only when a name says features (``X_cat = LabelEncoder().fit_transform(X[:, 3])``)."""
    if event.receiver.type_name not in ("LabelEncoder", "LabelBinarizer"):
        return False
    names = [n.id for n in ast.walk(data_node) if isinstance(n, ast.Name)] if data_node is not None else []
    words = {w for n in list(event.targets) + names for w in tokens(n)}
    return not words & FEATURE_WORDS


def feature_label_names(split: Split) -> tuple[str | None, str | None]:
    if split.kind == "train_test_split" and len(split.obj.args) >= 2:
        return dotted(split.obj.args[0]), dotted(split.obj.args[1])
    return None, None


# -- TL103 ---------------------------------------------------------------------------------


def normalises(facts: FileFacts, call: ast.Call) -> bool:
    """The statistic is subtracted or divided by: ``X - X.mean()``, ``mean = X.mean(); X / std``."""
    index = index_of(facts)
    if isinstance(call.func, ast.Attribute) and call.func.attr in ("min", "amin"):
        # x - x.min() alone shifts values; min-max scaling also divides by the range
        statement = index.statement_of(call)
        if not any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("max", "amax")
                   for n in ast.walk(statement)):
            return False
    if is_offset_or_divisor(index, call):
        return True
    return bool(set(index.bound_names(call)) & offset_and_divisor_names(facts))


def is_offset_or_divisor(index: SourceIndex, node: ast.AST) -> bool:
    parent = index.parents.get(node)
    return isinstance(parent, ast.BinOp) and isinstance(parent.op, (ast.Sub, ast.Div)) and parent.right is node


_OFFSET_NAMES: weakref.WeakKeyDictionary[FileFacts, set[str]] = weakref.WeakKeyDictionary()


def offset_and_divisor_names(facts: FileFacts) -> set[str]:
    """Names subtracted or divided by somewhere in the file (``mean`` in ``X - mean``)."""
    names = _OFFSET_NAMES.get(facts)
    if names is None:
        index = index_of(facts)
        names = {n.id for n in index.parents if isinstance(n, ast.Name) and is_offset_or_divisor(index, n)}
        _OFFSET_NAMES[facts] = names
    return names


def statistic_call(obj: Obj) -> tuple[str, ast.expr] | None:
    """(statistic, data expression) when ``obj`` is ``X.mean(...)`` or ``np.mean(X, ...)``."""
    return statistic_call_node(obj.node) if obj.kind == "value" else None


def statistic_call_node(node: ast.AST | None) -> tuple[str, ast.expr] | None:
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return None
    stat = node.func.attr
    if stat not in STATISTICS:
        return None
    base = node.func.value
    if isinstance(base, ast.Name) and base.id in ("np", "numpy", "torch") and node.args:
        return stat, node.args[0]
    return stat, base


class PreprocessingFitBeforeSplit(Rule):
    """
    ## What it does
    Reports a scaler, normaliser, encoder or projection (`StandardScaler`, `MinMaxScaler`,
    `PCA`, `LabelEncoder` on features, ...) fitted on data that is split afterwards, and a
    hand-written normalisation with the statistics of the whole array
    (`X = (X - X.mean(0)) / X.std(0)`) before the split.

    ## Why is this bad?
    Fitting learns statistics from every row it sees. Fitted before the split, the means,
    variances or components include the validation and test rows, so the model is trained with
    knowledge of them and their scores come out better than on truly new data.

    ## Example
    ```python
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X_scaled = StandardScaler().fit_transform(X)
    X_train, X_val, y_train, y_val = train_test_split(X_scaled, y, test_size=0.2)
    ```

    ## Use instead
    ```python
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.2)
    scaler = StandardScaler().fit(X_train)
    X_train, X_val = scaler.transform(X_train), scaler.transform(X_val)
    ```
    """

    code = "TL103"
    name = "preprocessing-fit-before-split"
    severity = Severity.ERROR
    techniques = ("fit-after-split",)

    def check_static(self, ctx):
        facts = ctx.facts
        reported: set[int] = set()
        for position, event in enumerate(facts.events):
            if event.method not in ("fit", "fit_transform") or event.receiver is None \
                    or event.receiver.kind != "preprocessor" or id(event.node) in reported:
                continue
            data_node = event.node.args[0] if event.node.args else None
            if labels_only(event, data_node) or label_encoder_on_labels(event, data_node):
                continue  # preprocessing the labels: out of scope (encoding their vocabulary leaks nothing)
            split = later_split_of(facts, self.fitted_data(event, data_node), position) \
                or hand_split_after(facts, {*event.targets, *filter(None, [dotted(data_node)])}, event.node) \
                or split_of_named_array(facts, data_node, event.node)
            if split is None:
                continue
            reported.add(id(event.node))
            pre = event.receiver
            shown = f"`{pre.name}` ({pre.type_name})" if pre.names else f"`{pre.type_name}()`"
            data = source_text(data_node)
            message = (f"{shown} is fitted on `{data}` before {split.label} splits it: "
                       "its statistics include the validation/test rows; split first and fit on the "
                       "training part only")
            yield ctx.finding(event.node, message,
                              evidence={"preprocessor": pre.type_name, "fitted_on": data,
                                        "split": split.kind, "split_line": split.node.lineno},
                              fixes=[self.fix(split, data_node, pre)])
        yield from self.manual_normalisation(ctx)

    @staticmethod
    def fitted_data(event: Event, data_node: ast.expr | None):
        """What carries the fitted rows onward: the output of ``fit_transform``, the data given
        to ``fit`` itself, or ``<the same preprocessor>.transform(<the same expression>)``."""
        pre = event.receiver
        fitted = event.args[0] if event.args else None
        result = event.result if event.method == "fit_transform" else None
        same_data = ast.unparse(data_node) if data_node is not None else None

        def matches(obj: Obj) -> bool:
            if obj is fitted or obj is result:
                return True
            node = obj.node
            if obj.kind != "value" or not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute) \
                    or node.func.attr != "transform" or not node.args or ast.unparse(node.args[0]) != same_data:
                return False
            return bool(obj.inputs) and any(o is pre for o in obj.inputs[0].lineage())

        return matches

    def manual_normalisation(self, ctx):
        facts = ctx.facts
        index = index_of(facts)
        # (split line, array) -> (first statement, split, array expression, statistics): ``mean = X.mean(0)``
        # and ``std = X.std(0)`` on two lines are one normalisation
        found: dict[tuple[int, str], tuple[ast.AST, Split, ast.expr, list[str]]] = {}
        for split in sorted(splits(facts), key=lambda s: s.order):
            for data in split.inputs:
                for obj in data_lineage(data):
                    stat = statistic_call(obj)
                    if stat is None or not normalises(facts, obj.node):
                        continue
                    stat_of = obj.inputs[0] if obj.inputs else None
                    if stat_of is not None and stat_of.derives_from("split") is not None:
                        continue  # statistics of a part that was split off already
                    stmt = index.statement_of(obj.node)
                    key = (split.node.lineno, ast.unparse(stat[1]))
                    entry = found.setdefault(key, (stmt, split, stat[1], []))
                    if stmt.lineno < entry[0].lineno:
                        entry = found[key] = (stmt, *entry[1:])
                    if stat[0] not in entry[3]:
                        entry[3].append(stat[0])
        arrays = {key[1] for key in found}
        for call in index.calls:
            stat = statistic_call_node(call)
            if stat is None or not isinstance(stat[1], ast.Name) or not normalises(facts, call):
                continue
            array = stat[1].id
            if array in arrays or role(array) or is_train_name(array):
                continue  # already reported, or the statistics of a part that is split off already
            stmt = index.statement_of(call)
            names = {array, *(n for t in getattr(stmt, "targets", []) for n in target_names(t))}
            split = hand_split_after(facts, names, stmt)
            if split is None:
                continue
            key = (split.node.lineno, array)
            entry = found.setdefault(key, (stmt, split, stat[1], []))
            if stat[0] not in entry[3]:
                entry[3].append(stat[0])
        for stmt, split, data_node, stats in found.values():
            array = source_text(data_node)
            message = (f"`{array}` is normalised with the {' and '.join(sorted(stats))} of all its rows "
                       f"before {split.label} splits it: the validation/test rows shape the statistics; "
                       "compute them on the training part only")
            yield ctx.finding(stmt, message,
                              evidence={"statistics": sorted(stats), "array": array,
                                        "split": split.kind, "split_line": split.node.lineno},
                              fixes=[self.fix(split, data_node, None)])

    @staticmethod
    def fix(split: Split, data_node, pre: Obj | None) -> FixRef:
        features, labels = feature_label_names(split)
        params = {"features": dotted(data_node) or features or "X"}
        if labels:
            params["labels"] = labels
        if split.test_size:
            params["test_size"] = split.test_size
        if pre is not None:
            params["scaler_class"] = pre.type_name
            if pre.names and "." not in pre.names[0]:
                params["scaler"] = pre.names[0]
        return FixRef("fit-after-split", params)


# -- TL104 ---------------------------------------------------------------------------------

MAX_DEPTH = 8
# torchvision datasets whose transform is the second or third positional argument.
TRANSFORM_POSITION = {"ImageFolder": 1, "DatasetFolder": 2, "MNIST": 2, "FashionMNIST": 2, "KMNIST": 2,
                      "QMNIST": 2, "CIFAR10": 2, "CIFAR100": 2, "USPS": 2}


# albumentations transforms that apply with probability p < 1 by default (Random* aside).
ALBUMENTATIONS_RANDOM = {
    "HorizontalFlip", "VerticalFlip", "Flip", "Transpose", "Rotate", "ShiftScaleRotate", "Affine",
    "Perspective", "ElasticTransform", "GridDistortion", "OpticalDistortion", "CoarseDropout",
    "Cutout", "GaussNoise", "GaussianBlur", "MotionBlur", "Blur", "MedianBlur", "HueSaturationValue",
    "ColorJitter", "RGBShift", "ChannelShuffle", "CLAHE", "Sharpen", "ToGray", "ImageCompression",
    "OneOf", "SomeOf",
}


def augmentations(facts: FileFacts, expr: ast.AST | None, at: ast.AST, depth: int = 0) -> list[str]:
    """The random transforms an expression builds (``Compose([RandomCrop(...), ...])``, a name
    bound to one, ``tfms["train"]``). Calls to the user's own functions are not followed:
    ``get_transform(train=False)`` usually branches on its argument."""
    if expr is None or depth > MAX_DEPTH:
        return []
    index = index_of(facts)
    if isinstance(expr, ast.Call):
        qualname = facts.qualname(expr.func) or ""
        last = qualname.rsplit(".", 1)[-1]
        if qualname.split(".")[0] == "albumentations":
            found = [last] if is_random_transform(last) or last in ALBUMENTATIONS_RANDOM else []
        elif classify(qualname) == "transform":
            found = [last] if is_random_transform(last) else []
        else:
            return []
        for arg in [*expr.args, *(k.value for k in expr.keywords)]:
            found += augmentations(facts, arg, at, depth + 1)
        return found
    if isinstance(expr, (ast.List, ast.Tuple)):
        return [t for elt in expr.elts for t in augmentations(facts, elt, at, depth + 1)]
    if isinstance(expr, (ast.Name, ast.Attribute)):
        name = dotted(expr)
        assignment = index.last_assignment(name, at) if name else None
        if assignment is None and name and "." in name:
            entries = index.assignments.get(name, [])
            assignment = entries[-1] if entries else None
        if assignment is None or assignment.unpacked:
            return []
        return augmentations(facts, assignment.value, assignment.value, depth + 1)
    if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Constant):
        name = dotted(expr.value)
        assignment = index.last_assignment(name, at) if name else None
        if assignment is not None and isinstance(assignment.value, ast.Dict):
            for key, value in zip(assignment.value.keys, assignment.value.values):
                if isinstance(key, ast.Constant) and key.value == expr.slice.value:
                    return augmentations(facts, value, assignment.value, depth + 1)
    return []


def transform_arg(obj_or_call) -> ast.expr | None:
    if isinstance(obj_or_call, Obj):
        return obj_or_call.arg("transform", pos=TRANSFORM_POSITION.get(obj_or_call.type_name)) \
            or obj_or_call.arg("transforms")
    for keyword in obj_or_call.keywords:
        if keyword.arg in ("transform", "transforms"):
            return keyword.value
    return None


def retransformed(index: SourceIndex, name: str) -> bool:
    """``val_ds.dataset.transform = eval_tf`` (or ``val_ds.transform = ...``) is assigned somewhere."""
    return any(key.startswith(name + ".") and key.endswith(".transform") for key in index.assignments)


class AugmentedEvaluationData(Rule):
    """
    ## What it does
    Reports random augmentation (`RandomCrop`, `RandomHorizontalFlip`, `RandomRotation`,
    `ColorJitter`, `RandomResizedCrop`, `RandomErasing`, ...) applied to validation or test data:
    a `train=False` or val/test-named dataset built with an augmenting transform, and a
    validation part carved by `random_split` / `Subset` out of a dataset built with one.

    ## Why is this bad?
    Augmentation exists to vary the training examples. On evaluation data it makes every score
    noisy from run to run and measures the model on distorted inputs it will never get in use,
    so model choices made on those scores are made on noise. A `random_split` part shares the
    transform of the dataset it was cut from: splitting an augmented dataset augments the
    validation part as well.

    ## Example
    ```python
    from torchvision import datasets, transforms

    train_tf = transforms.Compose([transforms.RandomHorizontalFlip(), transforms.ToTensor()])
    test_set = datasets.CIFAR10("data", train=False, transform=train_tf)
    ```

    ## Use instead
    ```python
    from torchvision import datasets, transforms

    train_tf = transforms.Compose([transforms.RandomHorizontalFlip(), transforms.ToTensor()])
    eval_tf = transforms.Compose([transforms.ToTensor()])
    test_set = datasets.CIFAR10("data", train=False, transform=eval_tf)
    ```
    """

    code = "TL104"
    name = "augmented-evaluation-data"
    severity = Severity.WARNING
    techniques = ("clean-eval-transforms", "data-augmentation")

    def check_static(self, ctx):
        facts = ctx.facts
        if facts.tree is None:
            return
        index = index_of(facts)
        reported: set[int] = set()
        for obj in facts.objects_of("dataset"):
            r, why = dataset_role(obj)
            if r not in (VAL, TEST) or id(obj.node) in reported:
                continue
            tf = transform_arg(obj)
            found = augmentations(facts, tf, obj.node)
            if found:
                reported.add(id(obj.node))
                part = "test" if r == TEST else "validation"
                yield self.report(ctx, obj.node, f"{part} dataset `{obj.name}` ({why}) is built", tf, found, obj)
        for call in index.calls:
            if id(call) in reported:
                continue
            names = [n for n in index.bound_names(call) if role(n) in (VAL, TEST) and not is_train_name(n)]
            tf = transform_arg(call)
            if not names or tf is None or classify(facts.qualname(call.func)) not in (None, "dataset"):
                continue
            found = augmentations(facts, tf, call)
            if found:
                reported.add(id(call))
                part = "test" if role(names[0]) == TEST else "validation"
                yield self.report(ctx, call, f"{part} dataset `{names[0]}` is built", tf, found, None)
        for split in facts.objects_of("split"):
            if split.type_name not in ("random_split", "Subset"):
                continue
            source = split.arg_obj("dataset", pos=0)
            if source is None or source.kind != "dataset":
                continue
            parts = [n for n in index.bound_names(split.node) if role(n) in (VAL, TEST) and not is_train_name(n)]
            if not parts or any(retransformed(index, n) for n in parts):
                continue
            tf = transform_arg(source)
            found = augmentations(facts, tf, source.node)
            if found:
                part = "test" if role(parts[0]) == TEST else "validation"
                yield self.report(
                    ctx, split.node,
                    f"{part} part `{parts[0]}` of {split.type_name} is cut from `{source.name}`, which is built",
                    tf, found, source)

    def report(self, ctx, node, subject: str, tf, found: list[str], dataset: Obj | None):
        names = ", ".join(dict.fromkeys(found))
        tf_text = source_text(tf)
        message = (f"{subject} with the augmenting transform `{tf_text}` ({names}): evaluation images "
                   "are randomly altered, so scores are noisy and not those of real inputs; give "
                   "evaluation data a deterministic transform")
        params = {"data_kind": "image", "train_transform": tf_text if dotted(tf) else "train_transform"}
        if dataset is not None and dataset.qualname and dataset.qualname.startswith("torchvision.datasets."):
            params["dataset_class"] = "datasets." + dataset.type_name
        evidence = {"transform": tf_text, "random_transforms": list(dict.fromkeys(found))}
        return ctx.finding(node, message, evidence=evidence,
                           fixes=[FixRef("clean-eval-transforms", params),
                                  FixRef("data-augmentation", {"data_kind": "image"})])


# -- TL105 ---------------------------------------------------------------------------------

RESAMPLE_METHODS = ("fit_resample", "fit_sample")


def is_resampler_call(event: Event) -> bool:
    if event.method not in RESAMPLE_METHODS or event.receiver is None:
        return False
    return event.receiver.kind == "resampler" or (event.receiver.qualname or "").startswith("imblearn.")


class ResamplingBeforeSplit(Rule):
    """
    ## What it does
    Reports an oversampler or undersampler (`SMOTE`, `ADASYN`, `RandomOverSampler`, ...) whose
    `fit_resample` output is split afterwards (`train_test_split`, `random_split`, `KFold`).

    ## Why is this bad?
    SMOTE builds each synthetic row from a real minority row and its neighbours, and random
    oversampling copies rows outright. Resampled before the split, near-copies of validation
    and test rows land in the training part, so the model is scored on rows it has already
    seen and the minority-class scores are inflated.

    ## Example
    ```python
    from imblearn.over_sampling import SMOTE
    from sklearn.model_selection import train_test_split

    X_res, y_res = SMOTE().fit_resample(X, y)
    X_train, X_val, y_train, y_val = train_test_split(X_res, y_res, test_size=0.2)
    ```

    ## Use instead
    ```python
    from imblearn.over_sampling import SMOTE
    from sklearn.model_selection import train_test_split

    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.2, stratify=y)
    X_train, y_train = SMOTE().fit_resample(X_train, y_train)
    ```
    """

    code = "TL105"
    name = "resampling-before-split"
    severity = Severity.ERROR
    techniques = ("smote",)

    def check_static(self, ctx):
        facts = ctx.facts
        reported: set[int] = set()
        for position, event in enumerate(facts.events):
            if not is_resampler_call(event) or event.result is None or id(event.node) in reported:
                continue
            split = later_split_of(facts, is_object(event.result), position) \
                or hand_split_after(facts, set(index_of(facts).bound_names(event.node)), event.node)
            if split is None:
                continue
            reported.add(id(event.node))
            sampler = event.receiver
            shown = f"`{sampler.name}` ({sampler.type_name})" if sampler.names else f"`{sampler.type_name}()`"
            args = ", ".join(source_text(a, 20) for a in event.node.args[:2]) or "the data"
            message = (f"{shown} resamples `{args}` before {split.label} splits the result: synthetic or "
                       "repeated rows made from validation/test rows end up in training; split first "
                       "and resample the training part only")
            features, labels = (dotted(a) for a in (list(event.node.args[:2]) + [None, None])[:2]) \
                if event.node.args else (None, None)
            params = {k: v for k, v in {"features": features, "labels": labels}.items() if v}
            if split.test_size:
                params["test_size"] = split.test_size
            k = sampler.literal("k_neighbors")
            if isinstance(k, int):
                params["k_neighbors"] = k
            yield ctx.finding(event.node, message,
                              evidence={"resampler": sampler.type_name, "split": split.kind,
                                        "split_line": split.node.lineno},
                              fixes=[FixRef("smote", params)])
