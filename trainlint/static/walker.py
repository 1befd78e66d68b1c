"""One walk over a module's ast that fills FileFacts: objects, events in execution order, loops.

The walk is a small abstract interpreter: it keeps an environment from names to followed
objects, evaluates expressions to objects, records every call as an Event with the loops,
``no_grad`` state and ``if`` guards around it, and inlines calls to functions, classes and
methods defined in the same file (binding parameters to the caller's objects) so that a batch
loop inside ``train()`` is seen inside the epoch loop that calls it. Branches are all walked
(flow-insensitive); when in doubt the walk forgets rather than guesses.
"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass, field
from typing import Any

from trainlint.static import kinds
from trainlint.static.facts import ClassInfo, Event, FileFacts, LoopCtx, Obj

MAX_INLINE_DEPTH = 8
MAX_EVENTS = 50_000
# Parameters never bound by a call site get an object guessed from their name, so a method
# of an uninstantiated Trainer class still links ``self.optimizer.step()`` to an optimizer.
PARAM_NAME_KINDS = {
    # Not "opt": older scripts (OpenNMT, CycleGAN, crnn) call their argparse options that.
    "optimizer": "optimizer", "optim": "optimizer",
    "scheduler": "scheduler", "lr_scheduler": "scheduler", "sched": "scheduler",
    "model": "model", "net": "model", "network": "model",
    "criterion": "loss", "loss_fn": "loss", "loss_func": "loss", "loss_function": "loss",
}
NO_GRAD_CONTEXTS = ("torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad",
                    "torch.autograd.grad_mode.no_grad")
BATCH_WRAPPERS = {"enumerate", "tqdm", "tqdm.tqdm", "tqdm.auto.tqdm", "tqdm.notebook.tqdm",
                  "zip", "iter", "itertools.islice", "islice"}
_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Pow: operator.pow,
           ast.Mod: operator.mod}


def param_kind(name: str) -> str | None:
    base = name.rsplit(".", 1)[-1].lower()
    if base in PARAM_NAME_KINDS:
        return PARAM_NAME_KINDS[base]
    if base.endswith("_loader") or base in ("loader", "dataloader"):
        return "loader"
    if base.endswith("optimizer"):
        return "optimizer"
    if base.endswith("scheduler"):
        return "scheduler"
    return None


@dataclass
class Scope:
    names: dict[str, Obj] = field(default_factory=dict)
    consts: dict[str, Any] = field(default_factory=dict)
    parent: Scope | None = None
    self_obj: Obj | None = None

    def lookup(self, name: str) -> Obj | None:
        s: Scope | None = self
        while s is not None:
            if name in s.names:
                return s.names[name]
            s = s.parent
        return None

    def const(self, name: str) -> Any:
        s: Scope | None = self
        while s is not None:
            if name in s.consts:
                return s.consts[name]
            if name in s.names:
                return _NOT_CONST
            s = s.parent
        return _NOT_CONST


_NOT_CONST: Any = object()


class Walker:
    def __init__(self, facts: FileFacts) -> None:
        self.facts = facts
        self.module_scope = Scope()
        self.loops: list[LoopCtx] = []
        self.no_grad = 0
        self.functions_stack: list[str] = []
        self.guards: list[ast.expr] = []
        # The guards of each caller frame of an inlined function, outermost first.
        self.outer_guards: list[tuple[ast.expr, ...]] = []
        self.via: list[ast.Call] = []
        self.walked_functions: set[int] = set()
        self.return_values: list[list[Obj]] = []
        # Functions visible by name: module-level and nested definitions, by name.
        self.defs: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}

    # -- entry --------------------------------------------------------------------------------

    def run(self, tree: ast.Module) -> None:
        self.facts.tree = tree
        self.collect_imports(tree)
        self.collect_definitions(tree)
        self.walk_body(tree.body, self.module_scope)
        self.walk_uncalled()

    def collect_imports(self, tree: ast.Module) -> None:
        imports = self.facts.imports
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        imports[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".")[0]
                        imports.setdefault(top, top)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    if alias.name != "*":
                        imports[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def collect_definitions(self, tree: ast.Module) -> None:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.defs.setdefault(node.name, node)
                self.facts.functions.setdefault(node.name, node)
            elif isinstance(node, ast.ClassDef):
                methods = {n.name: n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
                bases = [self.facts.qualname(b) or "" for b in node.bases]
                self.facts.classes.setdefault(node.name, ClassInfo(node.name, node, bases, methods))
        # A class deriving from a same-file nn.Module subclass is a module too.
        changed = True
        while changed:
            changed = False
            for info in self.facts.classes.values():
                if info.is_module:
                    continue
                for b in info.bases:
                    parent = self.facts.classes.get(b.rsplit(".", 1)[-1])
                    if parent is not None and parent is not info and parent.is_module:
                        info.bases.append("torch.nn.Module")
                        changed = True
                        break

    def walk_uncalled(self) -> None:
        """Functions and classes no call site reached are walked once on their own, callers
        before callees, so ``train()`` is seen inside the epoch loop of an uncalled ``main()``."""
        called = self.called_names()
        for info in list(self.facts.classes.values()):
            if any(id(m) in self.walked_functions for m in info.methods.values()):
                continue
            instance = self.new_obj("model" if info.is_module else "instance", info.name, info.node)
            instance.class_info = info
            order = ["__init__"] + sorted((n for n in info.methods if n != "__init__"),
                                          key=lambda n: n in called)
            for name in order:
                method = info.methods.get(name)
                if method is not None and id(method) not in self.walked_functions:
                    self.inline(method, [], {}, None, self_obj=instance)
        funcs = [f for f in self.defs.values() if not self.is_method(f)]
        for func in sorted(funcs, key=lambda f: f.name in called):
            if id(func) not in self.walked_functions:
                self.inline(func, [], {}, None)

    def called_names(self) -> set[str]:
        """Names of functions and methods called somewhere in the file (``f()``, ``self.f()``)."""
        names = set()
        for node in ast.walk(self.facts.tree):
            if isinstance(node, ast.Call):
                if isinstance(node.func, ast.Name):
                    names.add(node.func.id)
                elif isinstance(node.func, ast.Attribute):
                    names.add(node.func.attr)
        return names

    def is_method(self, func: ast.AST) -> bool:
        return any(func in info.methods.values() for info in self.facts.classes.values())

    # -- objects ------------------------------------------------------------------------------

    def new_obj(self, kind: str, qualname: str | None, node: ast.AST | None, **kw: Any) -> Obj:
        obj = Obj(kind=kind, qualname=qualname, node=node, **kw)
        if kind not in ("value", "part", "dict"):
            self.facts.objects.append(obj)
        return obj

    # -- statements ---------------------------------------------------------------------------

    def walk_body(self, body: list[ast.stmt], scope: Scope) -> None:
        for stmt in body:
            if len(self.facts.events) > MAX_EVENTS:
                return
            self.walk_stmt(stmt, scope)

    def walk_stmt(self, stmt: ast.stmt, scope: Scope) -> None:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.defs[stmt.name] = stmt
            return
        if isinstance(stmt, ast.Assign):
            value = self.eval(stmt.value, scope, targets=stmt.targets)
            for target in stmt.targets:
                self.bind(target, value, stmt.value, scope)
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                value = self.eval(stmt.value, scope, targets=[stmt.target])
                self.bind(stmt.target, value, stmt.value, scope)
        elif isinstance(stmt, ast.AugAssign):
            value = self.eval(stmt.value, scope)
            old = self.eval(stmt.target, scope)
            if isinstance(stmt.target, ast.Name):
                merged = Obj("value", None, stmt, inputs=[o for o in (old, value) if o is not None])
                scope.names[stmt.target.id] = merged
                scope.consts.pop(stmt.target.id, None)
        elif isinstance(stmt, ast.Expr):
            self.eval(stmt.value, scope)
        elif isinstance(stmt, ast.Return):
            if stmt.value is not None:
                value = self.eval(stmt.value, scope)
                if self.return_values and value is not None:
                    self.return_values[-1].append(value)
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            self.walk_for(stmt, scope)
        elif isinstance(stmt, ast.While):
            self.walk_while(stmt, scope)
        elif isinstance(stmt, ast.If):
            self.eval(stmt.test, scope)
            self.guards.append(stmt.test)
            self.walk_body(stmt.body, scope)
            self.guards.pop()
            self.guards.append(ast.UnaryOp(op=ast.Not(), operand=stmt.test))
            self.walk_body(stmt.orelse, scope)
            self.guards.pop()
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            entered = 0
            for item in stmt.items:
                value = self.eval(item.context_expr, scope)
                if self.is_no_grad_context(item.context_expr):
                    entered += 1
                if item.optional_vars is not None:
                    self.bind(item.optional_vars, value, item.context_expr, scope)
            self.no_grad += entered
            self.walk_body(stmt.body, scope)
            self.no_grad -= entered
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            self.walk_body(stmt.body, scope)
            for handler in stmt.handlers:
                self.walk_body(handler.body, scope)
            self.walk_body(stmt.orelse, scope)
            self.walk_body(stmt.finalbody, scope)
        elif type(stmt).__name__ == "Match":
            self.eval(stmt.subject, scope)
            for case in stmt.cases:
                self.walk_body(case.body, scope)
        else:
            for child in ast.iter_child_nodes(stmt):
                if isinstance(child, ast.expr):
                    self.eval(child, scope)

    def walk_for(self, stmt: ast.For | ast.AsyncFor, scope: Scope) -> None:
        iterated = self.eval(stmt.iter, scope)
        loop = LoopCtx(node=stmt, function=self.current_function())
        loop.iterates = self.loader_of(iterated)
        if loop.iterates is not None:
            loop.kind = "batch"
        else:
            loop.count = self.range_count(stmt.iter, scope)
        self.enter_loop(loop)
        if loop.kind == "batch":
            batch = Obj("value", "batch", stmt.target, inputs=[loop.iterates])
            self.bind(stmt.target, batch, stmt.iter, scope)
        else:
            self.bind(stmt.target, None, stmt.iter, scope)
        self.walk_body(stmt.body, scope)
        self.walk_body(stmt.orelse, scope)
        self.leave_loop(loop)

    def walk_while(self, stmt: ast.While, scope: Scope) -> None:
        self.eval(stmt.test, scope)
        loop = LoopCtx(node=stmt, function=self.current_function())
        self.enter_loop(loop)
        self.walk_body(stmt.body, scope)
        self.walk_body(stmt.orelse, scope)
        self.leave_loop(loop)

    def enter_loop(self, loop: LoopCtx) -> None:
        if self.loops:
            self.loops[-1].inner.append(loop)
        self.loops.append(loop)
        self.facts.loops.append(loop)

    def leave_loop(self, loop: LoopCtx) -> None:
        self.loops.pop()
        if loop.kind == "batch":
            return
        if any(inner.kind == "batch" for inner in self.all_inner(loop)):
            loop.kind = "epoch"
        elif loop.count is not None or isinstance(loop.node, ast.While):
            # Full-batch training: the loop itself steps an optimizer.
            if any(e.method == "step" and e.receiver is not None and e.receiver.kind == "optimizer"
                   and loop in e.loops for e in self.facts.events[-2000:]):
                loop.kind = "epoch"

    def all_inner(self, loop: LoopCtx):
        stack = list(loop.inner)
        while stack:
            inner = stack.pop()
            yield inner
            stack.extend(inner.inner)

    def loader_of(self, iterated: Obj | None) -> Obj | None:
        """The DataLoader a for loop iterates, through enumerate/tqdm/zip/iter wrappers."""
        obj = iterated
        for _ in range(4):
            if obj is None:
                return None
            if obj.kind == "loader":
                return obj
            if obj.kind == "value" and obj.qualname in BATCH_WRAPPERS:
                loaders = [i for i in obj.inputs if i.kind == "loader"]
                if loaders:
                    return loaders[0]
                obj = obj.inputs[0] if obj.inputs else None
                continue
            return None
        return None

    def range_count(self, expr: ast.expr, scope: Scope) -> int | None:
        if isinstance(expr, ast.Call) and self.facts.qualname(expr.func) in ("range", "trange", "tqdm.trange"):
            values = [self.const(a, scope) for a in expr.args]
            if any(v is _NOT_CONST or not isinstance(v, int) for v in values) or not values:
                return None
            r = range(*values)
            return len(r)
        if isinstance(expr, ast.Call) and self.facts.qualname(expr.func) in BATCH_WRAPPERS and expr.args:
            return self.range_count(expr.args[0], scope)
        return None

    def is_no_grad_context(self, expr: ast.expr) -> bool:
        if isinstance(expr, ast.Call):
            q = self.facts.qualname(expr.func) or ""
            if q in NO_GRAD_CONTEXTS:
                return True
            if q in ("torch.set_grad_enabled", "torch.autograd.set_grad_enabled") and expr.args:
                return self.const(expr.args[0], self.module_scope) is False
        return False

    def current_function(self) -> str | None:
        return self.functions_stack[-1] if self.functions_stack else None

    # -- binding ------------------------------------------------------------------------------

    def bind(self, target: ast.expr, value: Obj | None, value_node: ast.expr | None, scope: Scope) -> None:
        if isinstance(target, ast.Name):
            # None too: a local bound to something not followed still hides the global of that name.
            scope.names[target.id] = value
            if value is not None and value.kind not in ("value", "part") and target.id not in value.names:
                value.names.append(target.id)
            c = self.const(value_node, scope) if value_node is not None else _NOT_CONST
            if c is not _NOT_CONST:
                scope.consts[target.id] = c
            else:
                scope.consts.pop(target.id, None)
        elif isinstance(target, (ast.Tuple, ast.List)):
            elts = target.elts
            src_elts = value_node.elts if isinstance(value_node, (ast.Tuple, ast.List)) and len(value_node.elts) == len(elts) else None
            starred = any(isinstance(e, ast.Starred) for e in elts)
            items = value.items if value is not None and not starred and len(value.items) == len(elts) else None
            for i, elt in enumerate(elts):
                if isinstance(elt, ast.Starred):
                    elt = elt.value
                if items is not None:
                    # a, b = x, y  /  train_loader, val_loader = make_loaders()
                    self.bind(elt, items[i], src_elts[i] if src_elts else None, scope)
                else:
                    part = Obj("part", None, target, origin=value, index=i) if value is not None else None
                    self.bind(elt, part, None, scope)
        elif isinstance(target, ast.Attribute):
            owner = self.eval(target.value, scope, record=False)
            c = self.const(value_node, scope) if value_node is not None else _NOT_CONST
            if owner is not None and c is not _NOT_CONST:
                owner.values[f"attr.{target.attr}"] = c
            if owner is not None and value is not None:
                owner.attrs[target.attr] = value
                dotted = self.dotted(target)
                if dotted and value.kind not in ("value", "part") and dotted not in value.names:
                    value.names.append(dotted)
        elif isinstance(target, ast.Subscript):
            owner = self.eval(target.value, scope, record=False)
            key = self.const(target.slice, scope)
            if owner is not None and owner.kind == "dict" and isinstance(key, str) and value_node is not None:
                owner.entries[key] = value_node
                if value is not None:
                    owner.attrs[key] = value
                self.note_entry_guards(owner, [key])
        elif isinstance(target, ast.Starred):
            self.bind(target.value, value, None, scope)

    def flat_targets(self, targets: list[ast.expr]) -> list[ast.expr]:
        """``a, (b, *c) = ...`` -> [a, b, c]."""
        out: list[ast.expr] = []
        for t in targets:
            if isinstance(t, (ast.Tuple, ast.List)):
                out += self.flat_targets(t.elts)
            elif isinstance(t, ast.Starred):
                out += self.flat_targets([t.value])
            else:
                out.append(t)
        return out

    def note_entry_guards(self, owner: Obj, keys: list[str]) -> None:
        """Entries added under ``if`` tests the dict's creation was not under hold only then."""
        created = owner.entry_guards.get("", ())
        extra = tuple(g for g in self.guards if all(g is not c for c in created))
        for key in keys:
            if extra:
                owner.entry_guards[key] = extra
            else:
                owner.entry_guards.pop(key, None)

    def dotted(self, expr: ast.expr) -> str | None:
        if isinstance(expr, ast.Name):
            return expr.id
        if isinstance(expr, ast.Attribute):
            base = self.dotted(expr.value)
            return f"{base}.{expr.attr}" if base else None
        return None

    # -- constants ----------------------------------------------------------------------------

    def const(self, expr: ast.expr | None, scope: Scope) -> Any:
        """Python value of ``expr`` when it is constant here, else _NOT_CONST."""
        if expr is None:
            return _NOT_CONST
        if isinstance(expr, ast.Constant):
            return expr.value
        if isinstance(expr, ast.Name):
            if expr.id in ("True", "False", "None"):
                return {"True": True, "False": False, "None": None}[expr.id]
            return scope.const(expr.id)
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, (ast.USub, ast.UAdd)):
            v = self.const(expr.operand, scope)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return -v if isinstance(expr.op, ast.USub) else v
            return _NOT_CONST
        if isinstance(expr, ast.BinOp) and type(expr.op) in _BINOPS:
            a, b = self.const(expr.left, scope), self.const(expr.right, scope)
            if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b)):
                try:
                    if isinstance(expr.op, ast.Pow) and abs(b) > 64:
                        return _NOT_CONST
                    return _BINOPS[type(expr.op)](a, b)
                except (ArithmeticError, ValueError):
                    return _NOT_CONST
            return _NOT_CONST
        if isinstance(expr, (ast.List, ast.Tuple)):
            values = [self.const(e, scope) for e in expr.elts]
            if any(v is _NOT_CONST for v in values) or len(values) > 1000:
                return _NOT_CONST
            return values if isinstance(expr, ast.List) else tuple(values)
        if isinstance(expr, ast.Attribute):
            # args.epochs -> the argparse default of --epochs
            base = self.eval(expr.value, scope, record=False)
            if base is not None and base.qualname == "argparse.parse_args":
                return self.facts.argparse_defaults.get(expr.attr, _NOT_CONST)
            if base is not None and f"attr.{expr.attr}" in base.values:
                return base.values[f"attr.{expr.attr}"]
            return _NOT_CONST
        if isinstance(expr, ast.Subscript):
            base = self.eval(expr.value, scope, record=False)
            key = self.const(expr.slice, scope)
            if base is not None and base.kind == "dict" and isinstance(key, str) and key in base.entries:
                return self.const(base.entries[key], scope)
            container = self.const(expr.value, scope)
            if isinstance(container, (list, tuple, dict)):
                try:
                    return container[key]
                except (KeyError, IndexError, TypeError):
                    return _NOT_CONST
        return _NOT_CONST

    # -- expressions --------------------------------------------------------------------------

    def eval(self, expr: ast.expr | None, scope: Scope, targets: list[ast.expr] | None = None,
             record: bool = True) -> Obj | None:
        """The followed object ``expr`` evaluates to (None when nothing is worth following).
        With ``record`` False, no events are recorded (re-reading an expression already walked)."""
        if expr is None:
            return None
        if isinstance(expr, ast.Name):
            return scope.lookup(expr.id)
        if isinstance(expr, ast.Attribute):
            base = self.eval(expr.value, scope, record=record)
            if base is None:
                return None
            if expr.attr in base.attrs:
                return base.attrs[expr.attr]
            return Obj("value", f"attr.{expr.attr}", expr, inputs=[base])
        if isinstance(expr, ast.Call):
            if not record:
                return None
            return self.eval_call(expr, scope, targets)
        if isinstance(expr, (ast.Tuple, ast.List)) and not any(isinstance(e, ast.Starred) for e in expr.elts):
            items = [self.eval(e, scope, record=record) for e in expr.elts]
            if not any(items):
                return None
            return Obj("value", "tuple", expr, inputs=[o for o in items if o is not None], items=items)
        if isinstance(expr, ast.Dict):
            entries = {}
            inputs = []
            entry_objs = {}
            for k, v in zip(expr.keys, expr.values):
                obj = self.eval(v, scope, record=record)
                if obj is not None:
                    inputs.append(obj)
                if k is None:
                    if obj is not None and obj.kind == "dict":
                        entries.update(obj.entries)
                        entry_objs.update(obj.attrs)
                    continue
                key = self.const(k, scope)
                if isinstance(key, str):
                    entries[key] = v
                    if obj is not None:
                        entry_objs[key] = obj
            # The guards the dict was created under, so later additions can tell theirs apart.
            return Obj("dict", "dict", expr, entries=entries, inputs=inputs, attrs=entry_objs,
                       entry_guards={"": tuple(self.guards)} if self.guards else {})
        if isinstance(expr, (ast.Lambda,)):
            return None
        if isinstance(expr, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            inner = Scope(parent=scope, self_obj=scope.self_obj)
            inputs = []
            entered: list[LoopCtx] = []
            for gen in expr.generators:
                it = self.eval(gen.iter, inner, record=record)
                if it is not None:
                    inputs.append(it)
                loader = self.loader_of(it)
                if loader is not None and record:
                    # [model(x) for x, _ in val_loader] is a batch loop too.
                    loop = LoopCtx(node=expr, kind="batch", iterates=loader, function=self.current_function())
                    self.enter_loop(loop)
                    entered.append(loop)
                self.bind(gen.target, Obj("value", "item", gen.target, inputs=[it]) if it else None, None, inner)
                for cond in gen.ifs:
                    self.eval(cond, inner, record=record)
            elts = [expr.key, expr.value] if isinstance(expr, ast.DictComp) else [expr.elt]
            for e in elts:
                obj = self.eval(e, inner, record=record)
                if obj is not None:
                    inputs.append(obj)
            for loop in reversed(entered):
                self.leave_loop(loop)
            return Obj("value", "comprehension", expr, inputs=inputs)
        if isinstance(expr, ast.Subscript):
            base = self.eval(expr.value, scope, record=record)
            index = self.eval(expr.slice, scope, record=record)
            key = self.const(expr.slice, scope)
            if base is not None and base.kind == "dict" and isinstance(key, str) and key in base.attrs:
                return base.attrs[key]  # loaders["train"]
            if base is not None and isinstance(key, int) and base.items and -len(base.items) <= key < len(base.items):
                return base.items[key]
            # X[idx], and np.c_[X, noise]: computed from the base and from what the index holds.
            inputs = [o for o in (base, index) if o is not None]
            return Obj("value", "subscript", expr, inputs=inputs) if inputs else None
        # Any other expression: evaluate children in order, keep what they were computed from.
        inputs = []
        for child in ast.iter_child_nodes(expr):
            if isinstance(child, ast.expr):
                obj = self.eval(child, scope, record=record)
                if obj is not None:
                    inputs.append(obj)
        if not inputs:
            return None
        qual = "subscript" if isinstance(expr, ast.Subscript) else type(expr).__name__.lower()
        return Obj("value", qual, expr, inputs=inputs)

    def eval_call(self, call: ast.Call, scope: Scope, targets: list[ast.expr] | None) -> Obj | None:
        func = call.func
        method = func.attr if isinstance(func, ast.Attribute) else None
        receiver = self.eval(func.value, scope) if isinstance(func, ast.Attribute) else None
        callee_obj = self.eval(func, scope) if isinstance(func, ast.Name) else None
        qualname = self.facts.qualname(func)
        if receiver is not None and isinstance(func, ast.Attribute):
            # A method of a followed object: torch.optim.Adam.step, not "opt.step".
            qualname = f"{receiver.qualname or receiver.kind}.{method}"

        arg_objs: list[Obj | None] = []
        for a in call.args:
            arg_objs.append(self.eval(a.value if isinstance(a, ast.Starred) else a, scope))
        kw_objs: dict[str, Obj | None] = {}
        kwargs: dict[str, ast.expr] = {}
        kwarg_guards: dict[str, tuple[ast.expr, ...]] = {}
        for kw in call.keywords:
            obj = self.eval(kw.value, scope)
            if kw.arg is None:
                if obj is not None and obj.kind == "dict":
                    for k, v in obj.entries.items():
                        kwargs.setdefault(k, v)
                        kw_objs.setdefault(k, obj.attrs.get(k))
                        extra = obj.entry_guards.get(k, ())
                        if extra and not set(map(id, extra)) <= set(map(id, self.guards)):
                            kwarg_guards[k] = extra
                continue
            kwargs[kw.arg] = kw.value
            kw_objs[kw.arg] = obj

        target_names = tuple(t for t in (self.dotted(x) for x in self.flat_targets(targets or [])) if t)
        event = Event(
            node=call, qualname=qualname, method=method, receiver=receiver, result=None,
            loops=tuple(self.loops), no_grad=self.no_grad > 0, function=self.current_function(),
            targets=target_names, guards=tuple(self.guards), via=tuple(self.via),
            outer_guards=tuple(g for frame in self.outer_guards for g in frame),
            args=arg_objs, kwargs=kw_objs,
        )
        self.facts.events.append(event)
        if qualname == "argparse.ArgumentParser.add_argument" or (method == "add_argument"):
            self.record_argparse(call, scope)
        if method == "parse_args" or method == "parse_known_args":
            result = Obj("value", "argparse.parse_args", call)
            event.result = result
            return result
        if method == "update" and receiver is not None and receiver.kind == "dict" and call.args:
            other = arg_objs[0]
            if other is not None and other.kind == "dict":
                receiver.entries.update(other.entries)
                receiver.attrs.update(other.attrs)
                self.note_entry_guards(receiver, list(other.entries))
            receiver.entries.update(kwargs)
            self.note_entry_guards(receiver, list(kwargs))
            return None

        result = self.call_result(call, scope, qualname, method, receiver, callee_obj,
                                  arg_objs, kw_objs, kwargs, event, kwarg_guards)
        event.result = result
        return result

    def call_result(self, call, scope, qualname, method, receiver, callee_obj, arg_objs, kw_objs,
                    kwargs, event, kwarg_guards) -> Obj | None:
        inputs = [o for o in arg_objs + list(kw_objs.values()) if o is not None]
        # Same-file function: inline its body.
        if isinstance(call.func, ast.Name) and callee_obj is None:
            func = self.defs.get(call.func.id)
            if func is not None and call.func.id not in self.facts.imports:
                return self.inline(func, arg_objs, kw_objs, call, caller_scope=scope)
            info = self.facts.classes.get(call.func.id)
            if info is not None:
                return self.instantiate(info, call, arg_objs, kw_objs, kwargs, scope)
        # Method of a same-file class instance; calling a same-file module runs forward().
        if receiver is not None and receiver.class_info is not None and method:
            m = receiver.class_info.methods.get(method)
            if m is not None:
                return self.inline(m, arg_objs, kw_objs, call, self_obj=receiver, caller_scope=scope)
        if callee_obj is not None and callee_obj.class_info is not None:
            fwd = callee_obj.class_info.methods.get("forward") or callee_obj.class_info.methods.get("__call__")
            if fwd is not None:
                out = self.inline(fwd, arg_objs, kw_objs, call, self_obj=callee_obj, caller_scope=scope)
                value = Obj("value", "forward", call, inputs=[o for o in [out] if o], called=callee_obj)
                return value
        if receiver is not None and method in receiver.attrs:
            # self.fc1(x): calling a layer stored on the object.
            return Obj("value", "call", call, inputs=inputs, called=receiver.attrs[method])
        if receiver is not None and method in kinds.SELF_RETURNING:
            return receiver
        if callee_obj is not None:
            # Calling a followed object: a model, a layer, a loss module.
            return Obj("value", "call", call, inputs=inputs, called=callee_obj)
        kind = kinds.classify(qualname) if receiver is None else None
        if kind is not None:
            obj = self.new_obj(kind, qualname, call, args=list(call.args), kwargs=kwargs, inputs=inputs,
                               kwarg_guards=kwarg_guards)
            for i, a in enumerate(call.args):
                v = self.const(a, scope)
                if v is not _NOT_CONST:
                    obj.values[i] = v
                if arg_objs[i] is not None:
                    obj.arg_objs[i] = arg_objs[i]
            for k, v_node in kwargs.items():
                v = self.const(v_node, scope)
                if v is not _NOT_CONST:
                    obj.values[k] = v
                if kw_objs.get(k) is not None:
                    obj.arg_objs[k] = kw_objs[k]
            if kind == "optimizer":
                self.mark_trained_models(call, scope)
            return obj
        return Obj("value", qualname or method or "call", call,
                   inputs=([receiver] if receiver is not None else []) + inputs)

    def mark_trained_models(self, call: ast.Call, scope: Scope) -> None:
        """``optim.Adam(net.parameters())`` says ``net`` is a model even when it comes from
        another module (``net = crnn.CRNN(...)``): mark such values as inferred models, whose
        layers are unknown, so the loop rules can follow ``net.eval()`` and ``net(x)``."""
        params = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "params"), None)
        if params is None:
            return
        for node in ast.walk(params):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in ("parameters", "named_parameters"):
                owner = self.eval(node.func.value, scope, record=False)
                if owner is not None and owner.kind == "value" and owner.qualname not in (None, "call", "forward"):
                    owner.kind = "model"
                    owner.inferred = True
                    self.facts.objects.append(owner)

    def record_argparse(self, call: ast.Call, scope: Scope) -> None:
        dest = None
        for kw in call.keywords:
            if kw.arg == "dest":
                dest = self.const(kw.value, scope)
        if dest is None:
            flags = [self.const(a, scope) for a in call.args]
            longs = [f for f in flags if isinstance(f, str) and f.startswith("--")]
            shorts = [f for f in flags if isinstance(f, str)]
            name = longs[0] if longs else (shorts[0] if shorts else None)
            if not isinstance(name, str):
                return
            dest = name.lstrip("-").replace("-", "_")
        for kw in call.keywords:
            if kw.arg == "default":
                v = self.const(kw.value, scope)
                if v is not _NOT_CONST:
                    self.facts.argparse_defaults[dest] = v

    # -- inlining -----------------------------------------------------------------------------

    def instantiate(self, info: ClassInfo, call: ast.Call, arg_objs, kw_objs, kwargs, scope) -> Obj:
        obj = self.new_obj("model" if info.is_module else "instance", info.name, call,
                           args=list(call.args), kwargs=kwargs)
        obj.class_info = info
        init = info.methods.get("__init__")
        if init is not None:
            self.inline(init, arg_objs, kw_objs, call, self_obj=obj, caller_scope=scope)
        return obj

    def inline(self, func, arg_objs, kw_objs, call: ast.Call | None, self_obj: Obj | None = None,
               caller_scope: Scope | None = None) -> Obj | None:
        if len(self.via) >= MAX_INLINE_DEPTH or func.name in self.functions_stack:
            return None
        self.walked_functions.add(id(func))
        scope = Scope(parent=self.module_scope, self_obj=self_obj)
        params = [a.arg for a in func.args.posonlyargs + func.args.args]
        positional = list(arg_objs)
        if self_obj is not None and params:
            scope.names[params[0]] = self_obj
            params = params[1:]
        for i, name in enumerate(params):
            value = positional[i] if i < len(positional) else kw_objs.get(name)
            if value is None and call is None:
                value = self.guess_param(name, func)
            if value is not None:
                scope.names[name] = value
        for a in func.args.kwonlyargs:
            value = kw_objs.get(a.arg)
            if value is not None:
                scope.names[a.arg] = value
        self.bind_constants(func, call, scope, caller_scope, skip_first=self_obj is not None)
        decorated_no_grad = any(self.is_no_grad_context(d) or
                                (self.facts.qualname(d) or "") in NO_GRAD_CONTEXTS
                                for d in func.decorator_list)
        saved_guards = self.guards
        self.outer_guards.append(tuple(saved_guards))
        self.guards = []
        self.functions_stack.append(func.name)
        if call is not None:
            self.via.append(call)
        self.no_grad += decorated_no_grad
        self.return_values.append([])
        try:
            self.walk_body(func.body, scope)
        finally:
            returned = self.return_values.pop()
            self.no_grad -= decorated_no_grad
            if call is not None:
                self.via.pop()
            self.functions_stack.pop()
            self.guards = saved_guards
            self.outer_guards.pop()
        if not returned:
            return None
        if len(returned) == 1:
            return returned[0]
        return Obj("value", "return", func, inputs=returned)

    def bind_constants(self, func, call, scope: Scope, caller_scope: Scope | None, skip_first: bool) -> None:
        """Constant arguments (``train(epochs=30)``) and constant defaults become constants of
        the callee's scope, so ``range(epochs)`` inside it has a known count."""
        args = func.args
        positional = args.posonlyargs + args.args
        defaults = dict(zip([a.arg for a in positional[len(positional) - len(args.defaults):]], args.defaults))
        defaults.update({a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None})
        names = [a.arg for a in positional][1 if skip_first else 0:]
        given: dict[str, ast.expr] = {}
        if call is not None:
            for i, a in enumerate(call.args):
                if isinstance(a, ast.Starred):
                    break
                if i < len(names):
                    given[names[i]] = a
            for kw in call.keywords:
                if kw.arg is not None:
                    given[kw.arg] = kw.value
        for name in names + [a.arg for a in args.kwonlyargs]:
            if name in given:
                value = self.const(given[name], caller_scope or self.module_scope)
            elif name in defaults:
                value = self.const(defaults[name], self.module_scope)
            else:
                continue
            if value is not _NOT_CONST:
                scope.consts[name] = value

    def guess_param(self, name: str, func) -> Obj | None:
        kind = param_kind(name)
        if kind is None:
            return None
        obj = Obj(kind=kind, qualname=None, node=func, names=[name], inferred=True)
        return obj
