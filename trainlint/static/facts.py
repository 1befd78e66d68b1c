"""The static facts of one file: what a training script creates, calls and loops over.

Produced by one walk over the file's ``ast`` (see walker.py); rules only read them. Nothing here
imports torch, scikit-learn or the user's code.

Vocabulary
----------
``Obj``      a value the walk follows: an object a known call creates (an optimizer, a DataLoader,
             a split...), an instance of a class defined in the file, or a plain ``value`` (the
             result of any other expression) that remembers which objects it was computed from.
``Event``    one call, in execution order. Same-file functions and methods are inlined where
             they are called, so an event inside ``train()`` carries the epoch loop of the caller
             in ``loops`` and its receiver is the caller's object.
``LoopCtx``  a ``for`` / ``while`` loop with its inferred kind: ``batch`` (iterates a loader),
             ``epoch`` (encloses a batch loop, or steps an optimizer over full-batch data) or
             ``other``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any, Iterator

from trainlint.model import Location

MISSING: Any = object()


@dataclass
class ParseError:
    """Why a file could not be analysed; ``line``/``col`` are 1-based."""

    message: str
    line: int = 1
    col: int = 1


@dataclass(eq=False)
class ClassInfo:
    name: str
    node: ast.ClassDef
    bases: list[str]  # qualified names of the bases
    methods: dict[str, ast.FunctionDef]

    @property
    def is_module(self) -> bool:
        """Subclasses torch.nn.Module (directly, or through another class of the same file)."""
        return any(b in ("torch.nn.Module", "torch.nn.modules.module.Module") or b.endswith("LightningModule")
                   for b in self.bases)


@dataclass(eq=False)
class Obj:
    """A followed value. ``kind`` is one of: optimizer, scheduler, loader, dataset, split, loss,
    sampler, resampler, preprocessor, transform, model, layer, instance, dict, part, value."""

    kind: str
    qualname: str | None
    node: ast.AST | None
    names: list[str] = field(default_factory=list)
    # Objects this one was computed from (call arguments, operands, the base of an attribute).
    inputs: list[Obj] = field(default_factory=list)
    # For ``part``: the value it was unpacked from and its position (X_train = split[0]).
    origin: Obj | None = None
    index: int | None = None
    # Call arguments: keyword expressions (``**d`` of a followed dict expanded) and positional ones.
    kwargs: dict[str, ast.expr] = field(default_factory=dict)
    args: list[ast.expr] = field(default_factory=list)
    # Constant values of the arguments at the call, by keyword and by position; constants
    # assigned to attributes later (self.epochs = 30) under "attr.<name>".
    values: dict[str | int, Any] = field(default_factory=dict)
    # Argument objects, by keyword and by position.
    arg_objs: dict[str | int, Obj] = field(default_factory=dict)
    # Attributes set on the object (self.fc1 = nn.Linear(...) inside __init__); for dicts, the
    # objects of their entries (loaders["train"]).
    attrs: dict[str, Obj] = field(default_factory=dict)
    # For tuples and lists: the object of each element (None where nothing is followed), so
    # ``train_loader, val_loader = make_loaders()`` binds each name to its loader.
    items: list[Obj | None] = field(default_factory=list)
    class_info: ClassInfo | None = None
    # For dicts: their literal entries (key -> expression), updates included, and for entries
    # added under an ``if`` the dict was not created under, those tests.
    entries: dict[str, ast.expr] = field(default_factory=dict)
    entry_guards: dict[str, tuple[ast.expr, ...]] = field(default_factory=dict)
    # Keyword arguments that came from such a conditional ``**kwargs`` entry: key -> the tests.
    kwarg_guards: dict[str, tuple[ast.expr, ...]] = field(default_factory=dict)
    # For values returned by a call: the object that was called (a model, a layer, a loss).
    called: Obj | None = None
    # True when the kind was guessed from a parameter's name or annotation, not seen created.
    inferred: bool = False

    @property
    def type_name(self) -> str:
        return (self.qualname or "").rsplit(".", 1)[-1]

    @property
    def name(self) -> str:
        """The first variable the object was bound to, else its type."""
        return self.names[0] if self.names else (self.type_name or self.kind)

    def arg(self, name: str | None = None, pos: int | None = None) -> ast.expr | None:
        if name is not None and name in self.kwargs:
            return self.kwargs[name]
        if pos is not None and pos < len(self.args):
            return self.args[pos]
        return None

    def has_arg(self, name: str | None = None, pos: int | None = None) -> bool:
        return self.arg(name, pos) is not None

    def literal(self, name: str | None = None, pos: int | None = None, default: Any = MISSING) -> Any:
        """The constant value of an argument (literals, constants assigned earlier, argparse
        defaults, arithmetic on those); ``default`` when absent or not constant."""
        if name is not None and name in self.values:
            return self.values[name]
        if name is not None and name in self.kwargs:
            return default
        if pos is not None and pos in self.values:
            return self.values[pos]
        return default

    def arg_obj(self, name: str | None = None, pos: int | None = None) -> Obj | None:
        if name is not None and name in self.arg_objs:
            return self.arg_objs[name]
        if pos is not None and pos in self.arg_objs:
            return self.arg_objs[pos]
        return None

    def lineage(self) -> Iterator[Obj]:
        """This object and everything it was computed from, nearest first, each once."""
        seen: set[int] = set()
        stack = [self]
        while stack:
            obj = stack.pop(0)
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            yield obj
            if obj.origin is not None:
                stack.append(obj.origin)
            if obj.called is not None and obj.kind == "value":
                stack.append(obj.called)
            stack.extend(obj.inputs)
            stack.extend(obj.arg_objs.values())

    def derives_from(self, kind: str) -> Obj | None:
        """The nearest object of ``kind`` this one was computed from (itself included)."""
        for obj in self.lineage():
            if obj.kind == kind:
                return obj
        return None

    @property
    def layers(self) -> list[Obj]:
        """For a model: its layers in definition order (Sequential contents, or the layers a
        same-file nn.Module sets in __init__), containers flattened."""
        out: list[Obj] = []
        seen: set[int] = set()

        def add(obj: Obj) -> None:
            if id(obj) in seen:
                return
            seen.add(id(obj))
            if obj.kind == "layer" and obj.type_name not in ("ModuleList", "ModuleDict"):
                out.append(obj)
            if obj.kind in ("model", "layer") and obj.type_name in ("Sequential", "ModuleList", "ModuleDict"):
                for a in obj.arg_objs.values():
                    add(a)
                for a in obj.inputs:
                    add(a)
            if obj.class_info is not None:
                for a in obj.attrs.values():
                    add(a)

        if self.type_name == "Sequential" or self.class_info is not None:
            add(self)
        return out


@dataclass(eq=False)
class LoopCtx:
    # ast.For / ast.While, or a comprehension that iterates a loader.
    node: ast.AST
    kind: str = "other"  # batch | epoch | other
    iterates: Obj | None = None
    count: int | None = None
    function: str | None = None
    # Loops met (directly or through inlined calls) inside this one.
    inner: list[LoopCtx] = field(default_factory=list)

    @property
    def line(self) -> int:
        return self.node.lineno


@dataclass(eq=False)
class Event:
    node: ast.Call
    qualname: str | None
    method: str | None
    receiver: Obj | None
    result: Obj | None
    loops: tuple[LoopCtx, ...]
    no_grad: bool
    function: str | None
    targets: tuple[str, ...] = ()
    # Enclosing ``if`` tests inside the current function (gradient accumulation, epoch checks).
    guards: tuple[ast.expr, ...] = ()
    # The ``if`` tests around the call sites through which an inlined function was reached
    # (``if epoch % 5 == 0: evaluate(model)``), outermost first.
    outer_guards: tuple[ast.expr, ...] = ()
    # Call nodes through which this event was reached (inlined functions), outermost first.
    via: tuple[ast.Call, ...] = ()
    args: list[Obj | None] = field(default_factory=list)
    kwargs: dict[str, Obj | None] = field(default_factory=dict)

    @property
    def line(self) -> int:
        return self.node.lineno

    def in_loop(self, kind: str) -> LoopCtx | None:
        """The innermost enclosing loop of ``kind``."""
        for loop in reversed(self.loops):
            if loop.kind == kind:
                return loop
        return None


@dataclass(eq=False)
class FileFacts:
    path: str
    text: str = ""
    tree: ast.Module | None = None
    parse_error: ParseError | None = None
    imports: dict[str, str] = field(default_factory=dict)
    objects: list[Obj] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    loops: list[LoopCtx] = field(default_factory=list)
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    functions: dict[str, ast.FunctionDef] = field(default_factory=dict)
    argparse_defaults: dict[str, Any] = field(default_factory=dict)
    # Notebook line map: line of ``text`` -> (cell, line in cell); None for plain files.
    line_map: list[tuple[int, int]] | None = None

    # -- queries --------------------------------------------------------------------------

    def objects_of(self, *kinds: str) -> list[Obj]:
        return [o for o in self.objects if o.kind in kinds]

    def events_on(self, obj: Obj, method: str | None = None) -> list[Event]:
        return [e for e in self.events if e.receiver is obj and (method is None or e.method == method)]

    def calls_to(self, *qualnames: str) -> list[Event]:
        """Events whose callee resolves to one of ``qualnames`` (or ends with ``.name``)."""
        out = []
        for e in self.events:
            q = e.qualname or ""
            if any(q == n or q.endswith("." + n) for n in qualnames):
                out.append(e)
        return out

    def qualname(self, expr: ast.AST) -> str | None:
        """``optim.Adam`` -> ``torch.optim.Adam`` through the file's imports; the dotted source
        text when a name is not imported; None for expressions that are not dotted names."""
        if isinstance(expr, ast.Name):
            return self.imports.get(expr.id, expr.id)
        if isinstance(expr, ast.Attribute):
            base = self.qualname(expr.value)
            return f"{base}.{expr.attr}" if base else None
        return None

    # -- locations ------------------------------------------------------------------------

    def location_of(self, at: Any) -> Location:
        if isinstance(at, Location):
            return at
        if isinstance(at, (Obj, Event, LoopCtx)):
            at = at.node
        if isinstance(at, int):
            line, col, end_line, end_col = at, 1, None, None
        else:
            line = getattr(at, "lineno", 1) or 1
            col = (getattr(at, "col_offset", 0) or 0) + 1
            end_line = getattr(at, "end_lineno", None)
            end_col = getattr(at, "end_col_offset", None)
            end_col = end_col + 1 if end_col is not None else None
        if self.line_map:
            cell, cell_line = self.line_map[min(line, len(self.line_map)) - 1]
            end = None
            if end_line is not None and end_line <= len(self.line_map):
                end_cell, end = self.line_map[end_line - 1]
                if end_cell != cell:
                    end = None
            return Location(self.path, cell_line, col, end, end_col if end else None, cell)
        return Location(self.path, line, col, end_line, end_col)

    def line_text(self, location: Location) -> str | None:
        """The source line a location points at (notebooks: the cell's line)."""
        lines = self.text.splitlines()
        if self.line_map and location.cell is not None:
            try:
                idx = self.line_map.index((location.cell, location.line))
            except ValueError:
                return None
            return lines[idx] if idx < len(lines) else None
        if 1 <= location.line <= len(lines):
            return lines[location.line - 1]
        return None
