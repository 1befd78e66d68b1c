"""Lookups over one file's ast that the static facts leave out.

The validation, leakage and sampling rules need to know which names a call's result is bound to
(``train_set, val_set = random_split(...)`` unpacks into names the facts do not keep), what a
name was last assigned before a given line, and which function a node sits in. One index per
file is built on first use and shared by the rules.
"""

from __future__ import annotations

import ast
import weakref
from dataclasses import dataclass, field

from trainlint.static import FileFacts

_CACHE: weakref.WeakKeyDictionary[FileFacts, SourceIndex] = weakref.WeakKeyDictionary()


def index_of(facts: FileFacts) -> SourceIndex:
    """The (cached) index of ``facts.tree``."""
    index = _CACHE.get(facts)
    if index is None:
        index = SourceIndex(facts.tree or ast.Module(body=[], type_ignores=[]))
        _CACHE[facts] = index
    return index


def dotted(expr: ast.AST) -> str | None:
    """``self.val_loader`` for an attribute chain on a name; None for anything else."""
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        base = dotted(expr.value)
        return f"{base}.{expr.attr}" if base else None
    return None


def target_names(target: ast.AST) -> list[str]:
    """The dotted names an assignment target binds, tuples flattened, in order."""
    if isinstance(target, (ast.Tuple, ast.List)):
        out: list[str] = []
        for elt in target.elts:
            out += target_names(elt.value if isinstance(elt, ast.Starred) else elt)
        return out
    name = dotted(target)
    return [name] if name else []


@dataclass
class Assignment:
    name: str
    line: int
    value: ast.expr
    scope: ast.AST
    # The value is unpacked into several names (a, b = f()), so it is not the name's own value.
    unpacked: bool = False


@dataclass
class SourceIndex:
    tree: ast.Module
    parents: dict[ast.AST, ast.AST] = field(default_factory=dict)
    assignments: dict[str, list[Assignment]] = field(default_factory=dict)
    calls: list[ast.Call] = field(default_factory=list)

    def __post_init__(self) -> None:
        # One breadth-first walk: a node's ancestors are linked before the node is visited, so
        # scope_of() already works for it.
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
            if isinstance(node, ast.Call):
                self.calls.append(node)
                continue
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None:
                targets = [node.target]
            else:
                continue
            scope = self.scope_of(node)
            for target in targets:
                names = target_names(target)
                unpacked = isinstance(target, (ast.Tuple, ast.List))
                for name in names:
                    self.assignments.setdefault(name, []).append(
                        Assignment(name, node.lineno, node.value, scope, unpacked))
        for entries in self.assignments.values():
            entries.sort(key=lambda a: a.line)

    def scope_of(self, node: ast.AST) -> ast.AST:
        """The function (or the module) whose body holds ``node``."""
        current = self.parents.get(node)
        while current is not None:
            if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                return current
            current = self.parents.get(current)
        return self.tree

    def statement_of(self, node: ast.AST) -> ast.AST:
        current = node
        while current in self.parents and not isinstance(current, ast.stmt):
            current = self.parents[current]
        return current

    def bound_names(self, call: ast.AST) -> list[str]:
        """Names the value of ``call`` is assigned to: ``["train_set", "val_set"]`` for
        ``train_set, val_set = random_split(...)``; empty when it is not assigned directly."""
        parent = self.parents.get(call)
        if isinstance(parent, ast.Assign) and parent.value is call:
            return [n for t in parent.targets for n in target_names(t)]
        if isinstance(parent, (ast.AnnAssign, ast.NamedExpr)) and parent.value is call:
            return target_names(parent.target)
        return []

    def last_assignment(self, name: str, before: ast.AST) -> Assignment | None:
        """The latest assignment of ``name`` above ``before``, preferring the function that holds
        ``before`` and falling back to module level."""
        entries = self.assignments.get(name, [])
        line = getattr(before, "lineno", 10**9)
        scope = self.scope_of(before)
        for wanted in (scope, self.tree):
            found = [a for a in entries if a.scope is wanted and a.line < line]
            if found:
                return found[-1]
        return None

    def enclosing(self, node: ast.AST, kinds: tuple[type, ...]) -> ast.AST | None:
        current = self.parents.get(node)
        while current is not None:
            if isinstance(current, kinds):
                return current
            current = self.parents.get(current)
        return None
