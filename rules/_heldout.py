"""Which data a name or a dataset call stands for: validation, test, or neither.

Scripts say what a split is for mostly through names (``val_loader``, ``X_test``, ``testset``,
``self.valid_ds``) and through torchvision's ``train=False`` / ``split="test"`` arguments. The
validation and leakage rules read those signals here, so they agree on what counts as
held-out data.
"""

from __future__ import annotations

import ast
import functools
import re

from trainlint.static import FileFacts, Obj

VAL = "val"
TEST = "test"

# Words that name a held-out part on their own (X_val, x_test, validation_data).
_ROLE_WORDS = {"test": TEST, "testing": TEST, "te": TEST, "tst": TEST, "val": VAL, "valid": VAL,
               "validation": VAL, "va": VAL, "holdout": VAL, "heldout": VAL}
# Words that do only when a data word follows: ``dev_loader`` but not ``dev`` (a device),
# ``eval_loss`` but not ``eval_every``.
_QUALIFIED_WORDS = {"dev": VAL, "eval": VAL}
# What follows a role word in a name for data or for a metric measured on it.
_DATA_WORDS = {
    "loader", "loaders", "dataloader", "set", "sets", "data", "dataset", "datasets", "ds", "dl",
    "iter", "idx", "indices", "index", "ids", "loss", "losses", "acc", "accs", "accuracy",
    "score", "scores", "split", "size", "frac", "fraction", "ratio", "pct", "images", "imgs",
    "labels", "targets", "inputs", "features", "x", "y", "batch", "batches", "samples", "subset",
    "part", "metric", "metrics", "f1", "auc", "error", "err", "mse", "rmse", "mae", "results",
    "result", "preds", "predictions", "tensor", "tensors", "df", "files", "paths", "dir",
}
_VAL_SPLIT_VALUES = {"val", "valid", "validation", "dev", "holdout"}
_TEST_SPLIT_VALUES = {"test", "testing"}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[^A-Za-z0-9]+")


@functools.lru_cache(maxsize=8192)
def tokens(name: str) -> list[str]:
    """``self.valLoader2`` -> ["self", "val", "loader2"] -> lowercased words, digits dropped."""
    words = []
    for part in _SEPARATORS.split(_CAMEL.sub("_", name)):
        word = part.lower().rstrip("0123456789")
        if word:
            words.append(word)
    return words


def _word_role(word: str, following: str | None) -> str | None:
    if word in _ROLE_WORDS:
        return _ROLE_WORDS[word]
    if word in _QUALIFIED_WORDS:
        return _QUALIFIED_WORDS[word] if following in _DATA_WORDS else None
    # Glued forms: testloader, valset, xtest, ytest.
    for prefix, role in {**_ROLE_WORDS, **_QUALIFIED_WORDS}.items():
        if word.startswith(prefix) and word[len(prefix):] in _DATA_WORDS:
            return role
    if word[:1] in ("x", "y") and word[1:] in _ROLE_WORDS:
        return _ROLE_WORDS[word[1:]]
    return None


@functools.lru_cache(maxsize=8192)
def role(name: str | None) -> str | None:
    """VAL, TEST or None for a variable / attribute / parameter name. A name that mentions
    both (``val_test_split``) counts as validation: the script has validation data."""
    if not name:
        return None
    words = tokens(name.rsplit(".", 1)[-1])
    if words in (["val"], ["dev"], ["eval"]):
        return None  # loop variables and devices, far more often than data
    found = {_word_role(w, words[i + 1] if i + 1 < len(words) else None) for i, w in enumerate(words)}
    if VAL in found:
        return VAL
    if TEST in found:
        return TEST
    return None


def string_role(text: str) -> str | None:
    """Role of a string constant that names a split: ``"val"``, ``'data/test'``, ``"valid/"``."""
    stripped = text.strip().lower()
    if len(stripped) > 80 or " " in stripped:
        return None
    segments = [s for s in re.split(r"[/\\]+", stripped) if s]
    for segment in segments[-2:] if "/" in stripped or "\\" in stripped else segments:
        if segment in _VAL_SPLIT_VALUES:
            return VAL
        if segment in _TEST_SPLIT_VALUES:
            return TEST
    return None


def dataset_role(obj: Obj) -> tuple[str | None, str]:
    """Role of a created dataset (or split part) and the reason, e.g. (TEST, "train=False")."""
    train = obj.literal("train", pos=1) if _takes_train_flag(obj) else obj.literal("train")
    if train is False:
        return TEST, "train=False"
    split = obj.literal("split")
    if isinstance(split, str):
        r = string_role(split)
        if r:
            return r, f"split={split!r}"
    for name in obj.names:
        r = role(name)
        if r and not is_train_name(name):  # trainval_set is training data
            return r, f"`{name}`"
    root = obj.arg("root", pos=0)
    if root is not None:
        for node in ast.walk(root):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                r = string_role(node.value)
                if r:
                    return r, f"path {node.value!r}"
    return None, ""


# torchvision datasets whose second positional argument is ``train``.
_TRAIN_FLAG_DATASETS = {"MNIST", "FashionMNIST", "KMNIST", "QMNIST", "EMNIST", "CIFAR10",
                        "CIFAR100", "USPS"}


def _takes_train_flag(obj: Obj) -> bool:
    return obj.type_name in _TRAIN_FLAG_DATASETS


_TRAIN_WORDS = {"train", "training", "tr", "trn", "xtrain", "ytrain", "trainset", "trainloader"}


def is_train_name(name: str) -> bool:
    """``X_train``, ``trainset``, ``train_idx``: the training part of a split."""
    words = tokens(name.rsplit(".", 1)[-1])
    return any(w in _TRAIN_WORDS or (w.startswith("train") and w[5:] in _DATA_WORDS) for w in words)


def identifiers(facts: FileFacts):
    """Every (name, node) in the file that can name data: variables, attributes, parameters,
    keyword arguments and defined functions; the called name of a call is left out (``test(...)``
    is a function, not the test set)."""
    tree = facts.tree
    if tree is None:
        return
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in called:
            yield node.id, node
        elif isinstance(node, ast.Attribute) and id(node) not in called:
            yield node.attr, node
        elif isinstance(node, ast.arg):
            yield node.arg, node
        elif isinstance(node, ast.keyword) and node.arg:
            yield node.arg, node
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node


def strings(facts: FileFacts):
    """Every (string constant, node) of the file; string_role() passes over sentences, so
    messages and docstrings do not count as split names."""
    tree = facts.tree
    if tree is None:
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value, node
