"""The tracer: watches a training run through torch's global hooks and records a Trace.

This is the only module (with patches.py, which it installs) that imports torch. It never
changes what the script computes: hooks only read tensors (detached), no global backward hooks
are installed, and the patched functions call torch's originals unchanged.

Overhead is kept near zero by never syncing with the device per step: losses, correct counts,
gradient norms and labels are kept as detached tensors and turned into numbers once per loader
pass (an "iteration"). An iteration is judged afterwards: optimizer steps during it make it a
train pass (one epoch); forwards without steps make it an evaluation pass, whose numbers attach
to the epoch before it.
"""

from __future__ import annotations

import functools
import math
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import nn

from trainlint.probe import overlap as overlap_mod
from trainlint.probe import patches
from trainlint.probe.frames import PathDisplay, is_user_file, user_frame
from trainlint.probe.trace import Budgets, Trace, downsample

# Schedulers meant to step once per optimizer step; every other LRScheduler steps per epoch.
_BATCH_SCHEDULERS = ("OneCycleLR", "CyclicLR", "CosineAnnealingWarmRestarts")
_PLATEAU_SCHEDULERS = ("ReduceLROnPlateau",)
_CE_LOSSES = ("CrossEntropyLoss", "cross_entropy")
_BINARY_LOSSES = ("BCEWithLogitsLoss", "binary_cross_entropy_with_logits", "BCELoss", "binary_cross_entropy")
_PROBABILITY_CHECKS = 3  # first calls of each CE loss whose inputs are inspected (one sync each)
_SMALL_BN_BATCH = 8
_MAX_CLASSES = 1000
_MAX_LAYERS = 200
_MAX_WARNINGS = 50
_MAX_ERRORS = 10
_PROGRESS_EVERY_S = 0.25
_FLUSH_EVERY_S = 2.0
_DROPOUT = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)
_BATCHNORM = (nn.modules.batchnorm._BatchNorm,)


def _never_raises(method):
    """Tracer callbacks run inside the user's program: a bug in one is recorded in the trace
    (``run.tracer_errors``) and must never change what the program does."""

    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:
            if len(self.errors) < _MAX_ERRORS:
                self.errors.append(f"{method.__name__}: {type(exc).__name__}: {exc}")
            return None

    return guarded


class BudgetStop(BaseException):
    """Raised at the start of the epoch past ``max_epochs``; a BaseException so that the
    script's own ``except Exception`` does not swallow it."""


@dataclass
class _Iteration:
    """One pass over a DataLoader, judged when it ends."""

    loader: _LoaderRec
    steps_at_start: int
    epoch_at_start: int
    batches: int = 0
    losses: list = field(default_factory=list)
    correct: list = field(default_factory=list)
    counted: int = 0
    preds: list = field(default_factory=list)
    labels: list = field(default_factory=list)
    input_sums: list = field(default_factory=list)
    forwards: dict = field(default_factory=dict)  # id(model) -> {"train": n, "eval": n}
    forward_frames: dict = field(default_factory=dict)  # (id(model), mode) -> first frame
    sched_steps: dict = field(default_factory=dict)  # scheduler id -> steps during the pass
    hashes: list = field(default_factory=list)
    finished: bool = False


@dataclass
class _LoaderRec:
    id: int
    loader: Any
    frame: dict | None
    name: str | None = None
    iter_frame: dict | None = None
    iterations: int = 0
    train_iterations: int = 0
    eval_iterations: int = 0
    batches: int = 0
    min_batch: int | None = None
    max_batch: int | None = None
    sampled: Any = None  # int64 tensor of label counts, all passes
    first_pass: Any = None  # label counts of the first pass
    observed_hashes: list = field(default_factory=list)
    feature_shape: list | None = None
    hash_batches: bool | None = None  # inputs not reachable as one tensor: hash observed batches
    dataset_info: dict | None = None


class _Iter:
    """What a traced ``DataLoader.__iter__`` returns: the real iterator, cut at the batch
    budget, reporting each batch and the end of the pass."""

    def __init__(self, tracer: Tracer, iteration: _Iteration, inner):
        self._tracer = tracer
        self._iteration = iteration
        self._inner = inner

    def __iter__(self):
        return self

    def __next__(self):
        it = self._iteration
        limit = self._tracer.budgets.max_batches
        if it.finished:
            raise StopIteration
        if limit is not None and it.batches >= limit:
            self._tracer.truncated_batches += 1
            self._tracer.end_iteration(it)
            raise StopIteration
        try:
            batch = next(self._inner)
        except StopIteration:
            self._tracer.end_iteration(it)
            raise
        self._tracer.on_batch(it, batch)
        return batch

    def __len__(self):
        return len(self._inner)

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def __del__(self):
        # A pass abandoned with ``break`` or ``next(iter(loader))`` still counts.
        try:
            if not self._iteration.finished:
                self._tracer.end_iteration(self._iteration, exhausted=False)
        except Exception:
            pass


class Tracer:
    def __init__(
        self,
        script: str,
        budgets: Budgets | None = None,
        script_display: str | None = None,
        mode: str = "probe",
        progress: Callable[[int, int, float], None] | None = None,
        flush: Callable[[Trace], None] | None = None,
    ):
        self.script = script_display or script
        self.budgets = budgets or Budgets(None, None, None)
        self.display = PathDisplay(script, script_display)
        self.mode = mode
        self._progress = progress
        self._flush = flush
        self._started = time.monotonic()
        self._last_progress = 0.0
        self._last_flush = time.monotonic()
        self._paused = 0
        self._depth = 0
        self._in_loss = 0
        self._shape_model: int | None = None
        self._shapes: dict[int, list] = {}
        self.truncated_batches = 0
        self.stopped_by_budget = False
        self.global_steps = 0
        self.loaders: dict[int, _LoaderRec] = {}
        self.optimizers: dict[int, dict] = {}
        self.schedulers: dict[int, dict] = {}
        self.losses: dict[Any, dict] = {}
        self.models: dict[int, dict] = {}
        self.epochs: list[dict] = []
        self.eval_predictions = None
        self._phase_losses: dict[str, list[float]] = {"train": [], "eval": []}
        self.nonfinite: list[dict] = []
        self.batchnorm: dict[int, dict] = {}
        self.warnings: list[dict] = []
        self.errors: list[str] = []
        self._stack: list[_Iteration] = []
        self._objects: dict[int, Any] = {}  # keep traced objects alive so ids stay unique
        self._handles: list = []
        self._patcher: patches.Patcher | None = None
        self._showwarning = None
        self._kind_cache: dict[type, str] = {}

    # -- install / uninstall -----------------------------------------------------------------

    def install(self) -> None:
        from torch.nn.modules import module as module_mod
        from torch.optim import optimizer as optimizer_mod

        self._handles = [
            module_mod.register_module_forward_pre_hook(self._forward_pre),
            module_mod.register_module_forward_hook(self._forward_post, always_call=True),
            optimizer_mod.register_optimizer_step_pre_hook(self._step_pre),
            optimizer_mod.register_optimizer_step_post_hook(self._step_post),
        ]
        self._patcher = patches.install(self)
        self._showwarning = warnings.showwarning
        warnings.showwarning = self._on_warning

    def uninstall(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        if self._patcher is not None:
            self._patcher.undo()
            self._patcher = None
        if self._showwarning is not None:
            warnings.showwarning = self._showwarning
            self._showwarning = None

    # -- object creation (from patches) ------------------------------------------------------

    def _frame(self) -> dict | None:
        return user_frame(self.display, sys._getframe(1))

    @_never_raises
    def on_loader_created(self, loader) -> None:
        if id(loader) not in self.loaders:
            self._keep(loader)
            self.loaders[id(loader)] = _LoaderRec(id=len(self.loaders), loader=loader, frame=self._frame())

    @_never_raises
    def on_optimizer_created(self, opt) -> None:
        self._optimizer_rec(opt, self._frame())

    @_never_raises
    def on_loss_created(self, module) -> None:
        self._loss_rec(module, type(module).__name__, False, self._frame())

    @_never_raises
    def on_scheduler_created(self, sched) -> None:
        if id(sched) in self.schedulers:
            return
        self._keep(sched)
        opt = getattr(sched, "optimizer", None)
        name = type(sched).__name__
        kind = "batch" if name in _BATCH_SCHEDULERS else "plateau" if name in _PLATEAU_SCHEDULERS else "epoch"
        self.schedulers[id(sched)] = {
            "id": len(self.schedulers),
            "name": None,
            "frame": self._frame(),
            "type": name,
            "kind": kind,
            "optimizer": self._optimizer_rec(opt, None)["id"] if opt is not None else None,
            "_opt": id(opt),
            "steps": 0,
            "first_step_frame": None,
            "stepped_before_optimizer": False,
            "steps_per_epoch": [],
            "optimizer_steps_per_epoch": [],
            "_obj": sched,
        }

    def _keep(self, obj) -> None:
        self._objects[id(obj)] = obj

    def _optimizer_rec(self, opt, frame) -> dict:
        rec = self.optimizers.get(id(opt))
        if rec is None:
            self._keep(opt)
            rec = self.optimizers[id(opt)] = {
                "id": len(self.optimizers),
                "name": None,
                "frame": frame,
                "type": type(opt).__name__,
                "groups": [],
                "steps": 0,
                "_lr": [],
                "_grad_norm": [],
                "_pending_norms": [],
                "_obj": opt,
            }
        return rec

    def _loss_rec(self, key, type_name, functional, frame) -> dict:
        rec = self.losses.get(id(key) if not functional else key)
        if rec is None:
            if not functional:
                self._keep(key)
            rec = self.losses[id(key) if not functional else key] = {
                "id": len(self.losses),
                "name": None,
                "frame": frame,
                "type": type_name,
                "functional": functional,
                "weight": None,
                "pos_weight": None,
                "label_smoothing": None,
                "reduction": None,
                "calls": {},
                "probability_inputs": False,
                "probability_frame": None,
                "num_classes": None,
                "_checked": 0,
                "_named": False,
            }
        return rec

    # -- data loading ------------------------------------------------------------------------

    @_never_raises
    def iterate(self, loader, inner):
        rec = self.loaders.get(id(loader))
        if rec is None:
            self.on_loader_created(loader)
            rec = self.loaders[id(loader)]
        if self._paused:
            return inner
        frame = user_frame(self.display, sys._getframe(1))
        if rec.iter_frame is None:
            rec.iter_frame = frame
            rec.name = _name_of(loader, sys._getframe(1))
        max_epochs = self.budgets.max_epochs
        if max_epochs is not None and rec.train_iterations and len(self.epochs) >= max_epochs:
            self.stopped_by_budget = True
            raise BudgetStop(f"stopped after {max_epochs} epochs")
        rec.iterations += 1
        iteration = _Iteration(loader=rec, steps_at_start=self.global_steps, epoch_at_start=len(self.epochs))
        self._stack.append(iteration)
        return _Iter(self, iteration, inner)

    @_never_raises
    def on_batch(self, it: _Iteration, batch) -> None:
        it.batches += 1
        rec = it.loader
        rec.batches += 1
        inputs, labels = _split_batch(batch)
        size = _batch_size(inputs if inputs is not None else labels)
        if size is not None:
            rec.min_batch = size if rec.min_batch is None else min(rec.min_batch, size)
            rec.max_batch = size if rec.max_batch is None else max(rec.max_batch, size)
        if labels is not None:
            it.labels.append(labels.detach().reshape(-1))
        if isinstance(inputs, torch.Tensor):
            if rec.feature_shape is None:
                rec.feature_shape = list(inputs.shape[1:])
            if inputs.is_floating_point():
                # One reduction per batch: a NaN or Inf anywhere makes the sum non-finite.
                wide = torch.float32 if inputs.element_size() < 4 else None  # half sums overflow
                it.input_sums.append(inputs.detach().sum(dtype=wide))
            if rec.hash_batches is None:
                rec.hash_batches = not _has_features(rec.loader.dataset)
            if rec.iterations == 1 and rec.hash_batches and inputs.device.type == "cpu" and inputs.dtype != torch.bfloat16:
                it.hashes.append(overlap_mod.row_hashes(inputs.detach().numpy()))
        now = time.monotonic()
        if self._progress and now - self._last_progress >= _PROGRESS_EVERY_S:
            self._last_progress = now
            self._progress(len(self.epochs) + 1, self.global_steps, now - self._started)
        if self._flush and now - self._last_flush >= _FLUSH_EVERY_S:
            self._last_flush = now
            self._flush(self.snapshot(partial=True))

    @_never_raises
    def end_iteration(self, it: _Iteration, exhausted: bool = True) -> None:
        if it.finished:
            return
        it.finished = True
        if it in self._stack:
            self._stack.remove(it)
        rec = it.loader
        is_train = self.global_steps > it.steps_at_start
        has_forwards = bool(it.forwards) or bool(it.losses)
        # A pass abandoned at its first batch without a step (a peek with next(iter(...)), or
        # a training loop whose first batch raised) says nothing about evaluation.
        peek = not exhausted and it.batches <= 1 and not is_train
        phase = "train" if is_train else "eval" if has_forwards and not peek else None
        epoch = len(self.epochs) if is_train else max(0, len(self.epochs) - 1)
        labels = _as_labels(torch.cat([t.to("cpu") for t in it.labels])) if it.labels else None
        if labels is not None:
            counts = _bincount(labels)
            if counts is not None:
                rec.sampled = counts if rec.sampled is None else _add_counts(rec.sampled, counts)
                if rec.first_pass is None:
                    rec.first_pass = counts
        if it.hashes:
            rec.observed_hashes.extend(it.hashes)
        sums = torch.stack([v.float().to("cpu") for v in it.input_sums]).tolist() if it.input_sums else []
        for flag_i, total in enumerate(sums):
            if not math.isfinite(total):
                self.nonfinite.append(
                    {"kind": "input", "epoch": epoch, "step": flag_i, "frame": rec.iter_frame, "loader": rec.id}
                )
                break
        for model_id, modes in it.forwards.items():
            model = self.models.get(model_id)
            if model is not None and phase:
                bucket = model["modes"].setdefault(phase, {"train": 0, "eval": 0})
                bucket["train"] += modes["train"]
                bucket["eval"] += modes["eval"]
                if phase == "eval" and modes["train"] and model["eval_train_mode_frame"] is None:
                    model["eval_train_mode_frame"] = it.forward_frames.get((model_id, "train"))
                if phase == "train" and modes["eval"] and model["train_eval_mode_frame"] is None:
                    model["train_eval_mode_frame"] = it.forward_frames.get((model_id, "eval"))
        losses = torch.stack([t.float().to("cpu") for t in it.losses]).tolist() if it.losses else []
        correct = int(sum(torch.stack([c.to("cpu") for c in it.correct]).tolist())) if it.correct else 0
        mean_loss = _mean_finite(losses)
        if phase:
            self._phase_losses[phase].extend(losses)
        acc = correct / it.counted if it.counted else None
        if any(not math.isfinite(v) for v in losses):
            first_bad = next(i for i, v in enumerate(losses) if not math.isfinite(v))
            self.nonfinite.append({"kind": "loss", "epoch": epoch, "step": first_bad, "frame": rec.iter_frame, "loader": rec.id})
        self._sync_optimizers()
        if phase == "train":
            rec.train_iterations += 1
            for sched in self.schedulers.values():
                sched["steps_per_epoch"].append(it.sched_steps.get(sched["id"], 0))
                sched["optimizer_steps_per_epoch"].append(self.global_steps - it.steps_at_start)
            finite = [v for v in losses if math.isfinite(v)]
            first_opt = next(iter(self.optimizers.values()), None)
            self.epochs.append(
                {
                    "epoch": len(self.epochs),
                    "train_loss": mean_loss,
                    "train_acc": acc,
                    "val_loss": None,
                    "val_acc": None,
                    "train_batches": it.batches,
                    "val_batches": 0,
                    "optimizer_steps": self.global_steps,
                    "lr": first_opt["_lr"][-1] if first_opt and first_opt["_lr"] else None,
                    "loss_min": min(finite) if finite else None,
                    "loss_max": max(finite) if finite else None,
                    "_val_sum": 0.0,
                    "_val_n": 0,
                    "_val_correct": 0,
                    "_val_counted": 0,
                }
            )
            if self._flush:
                self._last_flush = time.monotonic()
                self._flush(self.snapshot(partial=True))
        elif phase == "eval":
            rec.eval_iterations += 1
            if it.preds:
                hist = _bincount(torch.cat([p.to("cpu") for p in it.preds]))
                if hist is not None:
                    self.eval_predictions = hist if self.eval_predictions is None else _add_counts(self.eval_predictions, hist)
            if self.epochs:
                ep = self.epochs[-1]
                finite = [v for v in losses if math.isfinite(v)]
                ep["_val_sum"] += sum(finite)
                ep["_val_n"] += len(finite)
                ep["_val_correct"] += correct
                ep["_val_counted"] += it.counted
                ep["val_batches"] += it.batches
                ep["val_loss"] = ep["_val_sum"] / ep["_val_n"] if ep["_val_n"] else None
                ep["val_acc"] = ep["_val_correct"] / ep["_val_counted"] if ep["_val_counted"] else None

    # -- module forwards ----------------------------------------------------------------------

    def _kind(self, module) -> str:
        cls = type(module)
        kind = self._kind_cache.get(cls)
        if kind is None:
            if isinstance(module, nn.modules.loss._Loss):
                kind = "loss"
            elif isinstance(module, _BATCHNORM):
                kind = "bn"
            else:
                kind = "module"
            self._kind_cache[cls] = kind
        return kind

    @_never_raises
    def _forward_pre(self, module, args):
        if self._paused:
            return None
        kind = self._kind(module)
        if kind == "loss":
            self._in_loss += 1
        elif self._depth == 0 and not self._in_loss:
            self._on_model_forward(module)
        elif kind == "bn" and module.training and args and isinstance(args[0], torch.Tensor):
            self._on_batchnorm(module, args[0].shape[0])
        self._depth += 1
        return None

    @_never_raises
    def _forward_post(self, module, args, output):
        if self._paused:
            return None
        self._depth = max(0, self._depth - 1)
        kind = self._kind(module)
        if kind == "loss":
            self._in_loss = max(0, self._in_loss - 1)
            if not self._in_loss and len(args) >= 2:
                rec = self._loss_rec(module, type(module).__name__, False, None)
                self._on_loss(rec, module, args[0], args[1], output)
        elif self._depth == 0 and not self._in_loss:
            self._on_model_output(module, output)
        elif self._shape_model is not None and isinstance(output, torch.Tensor) and not module._modules:
            self._shapes.setdefault(id(module), list(output.shape))
        return None

    def _on_model_forward(self, model) -> None:
        rec = self.models.get(id(model))
        if rec is None:
            self._keep(model)
            mods = list(model.modules())
            rec = self.models[id(model)] = {
                "id": len(self.models),
                "name": _name_of(model, sys._getframe(1)),
                "type": type(model).__name__,
                "frame": user_frame(self.display, sys._getframe(1)),
                "params": sum(p.numel() for p in model.parameters()),
                "has_dropout": any(isinstance(m, _DROPOUT) for m in mods),
                "has_batchnorm": any(isinstance(m, _BATCHNORM) for m in mods),
                "graph": None,
                "modes": {},
                "eval_train_mode_frame": None,
                "train_eval_mode_frame": None,
                "_obj": model,
            }
            self._shape_model = id(model)
        it = self._stack[-1] if self._stack else None
        if it is not None:
            modes = it.forwards.get(id(model))
            if modes is None:
                modes = it.forwards[id(model)] = {"train": 0, "eval": 0}
            mode = "train" if model.training else "eval"
            if (id(model), mode) not in it.forward_frames:
                it.forward_frames[(id(model), mode)] = user_frame(self.display, sys._getframe(1))
            modes[mode] += 1

    def _on_model_output(self, model, output) -> None:
        if self._shape_model == id(model):
            self._shape_model = None
        it = self._stack[-1] if self._stack else None
        if it is not None and isinstance(output, torch.Tensor) and output.dim() == 2 and output.shape[1] >= 2:
            # Kept until the pass turns out to be training (a step), then dropped: evaluation
            # loops without torch.no_grad() still count.
            if self.global_steps == it.steps_at_start:
                it.preds.append(output.detach().argmax(1))

    def _on_batchnorm(self, module, batch: int) -> None:
        rec = self.batchnorm.get(id(module))
        if rec is None:
            self._keep(module)
            rec = self.batchnorm[id(module)] = {"module": type(module).__name__, "_obj": module, "min_batch": batch, "small_batches": 0, "batches": 0}
        rec["batches"] += 1
        rec["min_batch"] = min(rec["min_batch"], batch)
        if batch < _SMALL_BN_BATCH:
            rec["small_batches"] += 1
            rec.setdefault("frame", user_frame(self.display, sys._getframe(1)))

    # -- losses ---------------------------------------------------------------------------------

    @_never_raises
    def on_functional_loss(self, name, args, kwargs, out) -> None:
        if self._paused or self._in_loss or len(args) < 2:
            return
        rec = self._loss_rec(name, name, True, None)
        if rec["frame"] is None:
            rec["frame"] = user_frame(self.display, sys._getframe(1))
        self._on_loss(rec, kwargs, args[0], args[1], out)

    def _on_loss(self, rec, source, inputs, target, output) -> None:
        if not rec["_named"]:
            rec["_named"] = True
            if rec["frame"] is None:
                rec["frame"] = user_frame(self.display, sys._getframe(1))
            if not rec["functional"]:
                rec["name"] = _name_of(source, sys._getframe(1))
            for attr in ("weight", "pos_weight"):
                value = source.get(attr) if isinstance(source, dict) else getattr(source, attr, None)
                if isinstance(value, torch.Tensor):
                    rec[attr] = [float(v) for v in value.detach().reshape(-1).tolist()]
            smoothing = source.get("label_smoothing") if isinstance(source, dict) else getattr(source, "label_smoothing", None)
            rec["label_smoothing"] = float(smoothing) if smoothing is not None else (0.0 if rec["type"] in _CE_LOSSES else None)
            rec["reduction"] = source.get("reduction", "mean") if isinstance(source, dict) else getattr(source, "reduction", None)
            if isinstance(inputs, torch.Tensor) and inputs.dim() >= 2:
                rec["num_classes"] = int(inputs.shape[1])
        it = self._stack[-1] if self._stack else None
        phase_guess = "train" if torch.is_grad_enabled() else "eval"
        rec["calls"][phase_guess] = rec["calls"].get(phase_guess, 0) + 1
        if not isinstance(inputs, torch.Tensor) or not isinstance(target, torch.Tensor):
            return
        if rec["type"] in _CE_LOSSES and rec["_checked"] < _PROBABILITY_CHECKS and inputs.dim() == 2:
            rec["_checked"] += 1
            if _looks_like_probabilities(inputs.detach()):
                rec["probability_inputs"] = True
                rec["probability_frame"] = rec["probability_frame"] or user_frame(self.display, sys._getframe(1))
        if it is None or not isinstance(output, torch.Tensor):
            return
        value = output.detach()
        it.losses.append(value if value.dim() == 0 else value.float().mean())
        with torch.no_grad():
            if inputs.dim() == 2 and inputs.shape[1] >= 2 and target.dim() == 1 and not target.is_floating_point():
                preds = inputs.detach().argmax(1)
                it.correct.append((preds == target).sum())
                it.counted += target.numel()
            elif rec["type"] in _BINARY_LOSSES and inputs.numel() == target.numel():
                cut = 0.0 if "logits" in rec["type"].lower() else 0.5
                preds = (inputs.detach().reshape(-1) > cut).long()
                it.correct.append((preds == (target.detach().reshape(-1) > 0.5).long()).sum())
                it.counted += target.numel()
                if self.global_steps == it.steps_at_start:
                    it.preds.append(preds)

    # -- optimizers and schedulers --------------------------------------------------------------

    @_never_raises
    def _step_pre(self, opt, args, kwargs):
        if self._paused:
            return None
        grads = [p.grad for g in opt.param_groups for p in g["params"] if p.grad is not None]
        if grads:
            with torch.no_grad():
                norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.detach()) for g in grads]))
            self._optimizer_rec(opt, None)["_pending_norms"].append(norm)
        return None

    @_never_raises
    def _step_post(self, opt, args, kwargs):
        if self._paused:
            return None
        rec = self._optimizer_rec(opt, None)
        if rec["steps"] == 0:
            rec["name"] = _name_of(opt, sys._getframe(1))
            if rec["frame"] is None:
                rec["frame"] = user_frame(self.display, sys._getframe(1))
            rec["groups"] = [_group_hparams(g) for g in opt.param_groups]
        rec["steps"] += 1
        self.global_steps += 1
        lr = opt.param_groups[0].get("lr") if opt.param_groups else None
        rec["_lr"].append(float(lr) if isinstance(lr, (int, float)) else float(torch.as_tensor(lr)))
        return None

    @_never_raises
    def on_scheduler_step(self, sched) -> None:
        rec = self.schedulers.get(id(sched))
        if rec is None or self._paused:
            return  # the initial step taken inside the scheduler's constructor
        if rec["steps"] == 0:
            rec["name"] = _name_of(sched, sys._getframe(1))
            rec["first_step_frame"] = user_frame(self.display, sys._getframe(1))
            opt_rec = self.optimizers.get(rec["_opt"])
            rec["stepped_before_optimizer"] = not (opt_rec and opt_rec["steps"])
        rec["steps"] += 1
        for it in self._stack:
            it.sched_steps[rec["id"]] = it.sched_steps.get(rec["id"], 0) + 1

    def _sync_optimizers(self) -> None:
        for rec in self.optimizers.values():
            if rec["_pending_norms"]:
                rec["_grad_norm"].extend(torch.stack([n.float().to("cpu") for n in rec["_pending_norms"]]).tolist())
                rec["_pending_norms"] = []
                bad = next((i for i, v in enumerate(rec["_grad_norm"]) if not math.isfinite(v)), None)
                if bad is not None and not any(e["kind"] == "grad" for e in self.nonfinite):
                    self.nonfinite.append({"kind": "grad", "epoch": len(self.epochs), "step": bad, "frame": rec["frame"], "optimizer": rec["id"]})

    # -- warnings -------------------------------------------------------------------------------

    def _on_warning(self, message, category, filename, lineno, file=None, line=None):
        self._record_warning(message, category, filename)
        return self._showwarning(message, category, filename, lineno, file, line)

    @_never_raises
    def _record_warning(self, message, category, filename) -> None:
        if "torch" in filename and len(self.warnings) < _MAX_WARNINGS:
            self.warnings.append(
                {"category": category.__name__, "message": str(message), "frame": user_frame(self.display, sys._getframe(1))}
            )

    # -- the trace ------------------------------------------------------------------------------

    def snapshot(self, partial: bool = False, run: dict | None = None) -> Trace:
        """The trace so far. ``partial`` snapshots (periodic flushes) skip the costly parts:
        the model graph and the overlap check."""
        self._paused += 1
        try:
            self._sync_optimizers()
            return Trace(
                script=self.script,
                run=self._run_info(partial, run),
                loaders=[self._loader_dict(rec) for rec in self.loaders.values() if rec.iterations],
                optimizers=[self._optimizer_dict(rec) for rec in self.optimizers.values() if rec["steps"] or rec["frame"]],
                schedulers=[_public(rec) for rec in self.schedulers.values()],
                losses=[_public(rec) for rec in self.losses.values() if rec["calls"]],
                epochs=[_public(ep) for ep in self.epochs],
                eval_predictions=_counts_dict(self.eval_predictions),
                loss_curve={ph: downsample(list(range(len(v))), v) for ph, v in self._phase_losses.items()}
                if any(self._phase_losses.values())
                else None,
                models=[self._model_dict(rec, partial) for rec in self.models.values()],
                overlap=None if partial else self._safely("overlap", self._overlap, None),
                nonfinite=list(self.nonfinite),
                unoptimized_params=[] if partial else self._safely("unoptimized", self._unoptimized, []),
                batchnorm=[self._bn_dict(rec) for rec in self.batchnorm.values()],
                warnings=list(self.warnings),
            )
        finally:
            self._paused -= 1

    def _safely(self, what: str, compute, default):
        """A part of the trace that may fail on an unusual object: the rest is still written."""
        try:
            return compute()
        except Exception as exc:
            if len(self.errors) < _MAX_ERRORS:
                self.errors.append(f"{what}: {type(exc).__name__}: {exc}")
            return default

    def _run_info(self, partial: bool, run: dict | None) -> dict:
        device = None
        for model in self.models.values():
            p = next(model["_obj"].parameters(), None)
            if p is not None:
                device = p.device.type
                break
        info = {
            "python": sys.version.split()[0],
            "torch": torch.__version__,
            "device": device,
            "cuda_visible": os.environ.get("CUDA_VISIBLE_DEVICES") != "",
            "budgets": self.budgets.to_dict(),
            "truncated": {"batches": self.truncated_batches, "epochs": self.stopped_by_budget},
            "wall_s": round(time.monotonic() - self._started, 3),
            "status": "running" if partial else "ok",
            "exit_code": None,
            "signal": None,
            "exception": None,
            "frame": None,
            "mode": self.mode,
            "tracer_errors": list(self.errors),
        }
        info.update(run or {})
        return info

    def _loader_dict(self, rec: _LoaderRec) -> dict:
        loader = rec.loader
        if rec.dataset_info is None:
            rec.dataset_info = self._safely(
                "dataset", lambda: _dataset_info(loader.dataset),
                {"type": type(loader.dataset).__name__, "length": None, "class_counts": None, "label_source": None},
            )
        dataset = dict(rec.dataset_info)
        if dataset["class_counts"] is None and rec.first_pass is not None:
            # Seen only through batches: the classes of the first pass stand for the dataset.
            dataset["class_counts"] = _counts_dict(rec.first_pass)
            dataset["label_source"] = "observed"
        dataset["feature_shape"] = rec.feature_shape
        sampler = getattr(loader, "sampler", None)
        sampler_info: dict[str, Any] = {"type": type(sampler).__name__ if sampler is not None else None}
        if isinstance(sampler, torch.utils.data.WeightedRandomSampler):
            sampler_info.update(
                weights_length=int(len(sampler.weights)), num_samples=int(sampler.num_samples), replacement=bool(sampler.replacement)
            )
        if rec.train_iterations:
            role, reason = "train", "the optimizer stepped during its batches"
        elif rec.eval_iterations:
            role, reason = "eval", "its batches were forwarded without optimizer steps"
        elif rec.name and any(w in rec.name.lower() for w in ("val", "test", "eval", "dev")):
            role, reason = "eval", f"named {rec.name}"
        elif rec.name and "train" in rec.name.lower():
            role, reason = "train", f"named {rec.name}"
        else:
            role, reason = "unused", "no model forward during its batches"
        return {
            "id": rec.id,
            "name": rec.name,
            "frame": rec.frame,
            "iter_frame": rec.iter_frame,
            "dataset": dataset,
            "batch_size": loader.batch_size,
            "sampler": sampler_info,
            "shuffle": isinstance(sampler, torch.utils.data.RandomSampler),
            "drop_last": bool(loader.drop_last),
            "role": role,
            "role_reason": reason,
            "iterations": rec.iterations,
            "batches": rec.batches,
            "sampled_counts": _counts_dict(rec.sampled),
            "min_batch": rec.min_batch,
            "max_batch": rec.max_batch,
        }

    def _optimizer_dict(self, rec: dict) -> dict:
        out = _public(rec)
        steps = list(range(len(rec["_lr"])))
        out["lr"] = downsample(steps, rec["_lr"])
        out["grad_norm"] = downsample(list(range(len(rec["_grad_norm"]))), rec["_grad_norm"])
        opt_params = {id(p) for g in rec["_obj"].param_groups for p in g["params"]}
        out["models"] = [
            m["id"] for m in self.models.values() if any(id(p) in opt_params for p in m["_obj"].parameters())
        ]
        if not out["groups"]:
            out["groups"] = [_group_hparams(g) for g in rec["_obj"].param_groups]
        return out

    def _model_dict(self, rec: dict, partial: bool) -> dict:
        if rec["graph"] is None and not partial:
            rec["graph"] = self._safely("graph", lambda: _graph(rec["_obj"], self._shapes), None)
        return _public(rec)

    def _bn_dict(self, rec: dict) -> dict:
        out = _public(rec)
        for model in self.models.values():
            for name, module in model["_obj"].named_modules():
                if module is rec["_obj"]:
                    out["module"] = f"{model['name'] or model['type']}.{name}"
                    out["model"] = model["id"]
        return out

    def _overlap(self) -> dict | None:
        trains = [r for r in self.loaders.values() if r.train_iterations]
        evals = [r for r in self.loaders.values() if r.eval_iterations and not r.train_iterations]
        if not trains or not evals:
            return None
        best = None
        for ev in evals:
            result = _loader_overlap(trains[0], ev)
            if result is not None and (best is None or result["count"] > best["count"]):
                best = result
        return best

    def _unoptimized(self) -> list[dict]:
        optimized = {id(p) for rec in self.optimizers.values() for g in rec["_obj"].param_groups for p in g["params"]}
        if not optimized:
            return []
        out = []
        for model in self.models.values():
            missing = [(n, p) for n, p in model["_obj"].named_parameters() if p.grad is not None and id(p) not in optimized]
            if missing and any(id(p) in optimized for p in model["_obj"].parameters()):
                out.append(
                    {"model": model["id"], "names": [n for n, _ in missing[:10]], "count": len(missing), "numel": sum(p.numel() for _, p in missing)}
                )
        return out


# -- helpers (pure functions of torch objects) -------------------------------------------------


def _public(rec: dict) -> dict:
    return {k: v for k, v in rec.items() if not k.startswith("_")}


def _name_of(obj, frame) -> str | None:
    """The user's variable name for ``obj``: locals, then globals, of the user frames up the stack."""
    while frame is not None:
        if is_user_file(frame.f_code.co_filename):
            for scope in (frame.f_locals, frame.f_globals):
                for name, value in scope.items():
                    if value is obj and not name.startswith("_"):
                        return name
            self_obj = frame.f_locals.get("self")
            if self_obj is not None:
                for name, value in vars(self_obj).items() if hasattr(self_obj, "__dict__") else ():
                    if value is obj:
                        return f"self.{name}"
        frame = frame.f_back
    return None


def _split_batch(batch):
    """(inputs, integer-or-binary labels) of a batch, or None where it has no such part."""
    inputs = labels = None
    if isinstance(batch, (tuple, list)) and batch:
        inputs = batch[0]
        if len(batch) >= 2:
            labels = batch[-1]
    elif isinstance(batch, dict):
        for key in ("input", "inputs", "x", "image", "images", "features", "input_ids"):
            if key in batch:
                inputs = batch[key]
                break
        for key in ("label", "labels", "target", "targets", "y"):
            if key in batch:
                labels = batch[key]
                break
    elif isinstance(batch, torch.Tensor):
        inputs = batch
    if not isinstance(labels, torch.Tensor) or labels.dim() > 2 or (labels.dim() == 2 and labels.shape[1] != 1):
        labels = None
    # Float labels stay as they are: whether they are 0/1 classes is decided once per pass
    # (_as_labels), since asking per batch would sync a CUDA device every step.
    return inputs, labels


def _batch_size(value) -> int | None:
    return int(value.shape[0]) if isinstance(value, torch.Tensor) and value.dim() else None


def _bincount(labels):
    labels = labels.reshape(-1).long()
    if labels.numel() == 0 or int(labels.min()) < 0 or int(labels.max()) >= _MAX_CLASSES:
        return None
    return torch.bincount(labels)


def _add_counts(a, b):
    n = max(len(a), len(b))
    out = torch.zeros(n, dtype=torch.long)
    out[: len(a)] += a
    out[: len(b)] += b
    return out


def _counts_dict(counts) -> dict | None:
    if counts is None:
        return None
    return {str(i): int(c) for i, c in enumerate(counts.tolist()) if c}


def _mean_finite(values: list[float]) -> float | None:
    if not values:
        return None
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else float("nan")


def _looks_like_probabilities(x) -> bool:
    x = x.float()
    return bool((x >= 0).all()) and bool(torch.allclose(x.sum(1), torch.ones(x.shape[0], device=x.device), atol=1e-3))


def _group_hparams(group: dict) -> dict:
    out: dict[str, Any] = {"params": len(group.get("params", []))}
    for key, value in group.items():
        if key == "params":
            continue
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            value = float(value)
        if isinstance(value, bool) or value is None or isinstance(value, (int, float, str)):
            out[key] = value
        elif isinstance(value, (tuple, list)) and all(isinstance(v, (int, float)) for v in value):
            out[key] = list(value)
    return out


def _labels_of(dataset):
    """(labels tensor, source) of a dataset without iterating it, or (None, None)."""
    from torch.utils.data import ConcatDataset, Subset, TensorDataset

    if isinstance(dataset, Subset):
        base, source = _labels_of(dataset.dataset)
        if base is None:
            return None, None
        return base[torch.as_tensor(list(dataset.indices) if not isinstance(dataset.indices, torch.Tensor) else dataset.indices, dtype=torch.long)], "subset"
    if isinstance(dataset, ConcatDataset):
        parts = [_labels_of(d)[0] for d in dataset.datasets]
        if any(p is None for p in parts):
            return None, None
        return torch.cat(parts), "concat"
    if isinstance(dataset, TensorDataset):
        if len(dataset.tensors) >= 2:
            labels = dataset.tensors[-1]
            return (_as_labels(labels), "tensors") if _as_labels(labels) is not None else (None, None)
        return None, None
    for attr in ("targets", "labels"):
        try:
            value = getattr(dataset, attr, None)
            labels = _as_labels(torch.as_tensor(value)) if value is not None else None
        except Exception:  # a lazy or broken attribute: fall back to the observed batches
            labels = None
        if labels is not None:
            return labels, attr
    return None, None


def _as_labels(t):
    if not isinstance(t, torch.Tensor) or t.dim() > 2 or (t.dim() == 2 and t.shape[1] != 1):
        return None
    t = t.detach().reshape(-1).to("cpu")
    if t.is_floating_point():
        if t.numel() and not bool(((t == 0) | (t == 1)).all()):
            return None
        t = t.long()
    return t


def _has_features(dataset) -> bool:
    from torch.utils.data import Subset, TensorDataset

    while isinstance(dataset, Subset):
        dataset = dataset.dataset
    return isinstance(dataset, TensorDataset)


def _features_of(dataset):
    """The inputs of every sample as one tensor (TensorDataset, Subset of one), else None."""
    from torch.utils.data import Subset, TensorDataset

    if isinstance(dataset, TensorDataset):
        return dataset.tensors[0]
    if isinstance(dataset, Subset):
        base = _features_of(dataset.dataset)
        if base is not None:
            return base[torch.as_tensor(list(dataset.indices), dtype=torch.long)]
    return None


def _dataset_info(dataset) -> dict:
    try:
        length = len(dataset)
    except TypeError:
        length = None
    labels, source = _labels_of(dataset)
    counts = _bincount(labels) if labels is not None and labels.numel() else None
    return {
        "type": type(dataset).__name__,
        "length": length,
        "class_counts": _counts_dict(counts),
        "label_source": source if counts is not None else None,
    }


def _root_indices(dataset):
    """(root dataset, indices into it) following nested Subsets."""
    from torch.utils.data import Subset

    indices = None
    while isinstance(dataset, Subset):
        idx = list(dataset.indices)
        indices = idx if indices is None else [idx[i] for i in indices]
        dataset = dataset.dataset
    return dataset, indices


def _loader_overlap(train: _LoaderRec, ev: _LoaderRec) -> dict | None:
    tr_ds, ev_ds = train.loader.dataset, ev.loader.dataset
    base = {"train_loader": train.id, "eval_loader": ev.id}
    tr_root, tr_idx = _root_indices(tr_ds)
    ev_root, ev_idx = _root_indices(ev_ds)
    if tr_root is ev_root and tr_idx is not None and ev_idx is not None:
        count, examples = overlap_mod.overlapping_indices(tr_idx, ev_idx)
        return {**base, "method": "index", "train_samples": len(tr_idx), "eval_samples": len(ev_idx), "count": count, "examples": examples}
    tr_x, ev_x = _features_of(tr_ds), _features_of(ev_ds)
    if tr_x is not None and ev_x is not None:
        count, examples = overlap_mod.overlapping_rows(tr_x.detach().cpu().numpy(), ev_x.detach().cpu().numpy())
        return {**base, "method": "hash", "train_samples": len(tr_x), "eval_samples": len(ev_x), "count": count, "examples": examples}
    if train.observed_hashes and ev.observed_hashes:
        import numpy as np

        th = np.concatenate(train.observed_hashes)
        eh = np.concatenate(ev.observed_hashes)
        shared = np.nonzero(np.isin(eh, th))[0]
        # Observed batches keep only hashes, so equal hashes stand for equal samples here.
        return {**base, "method": "hash", "train_samples": len(th), "eval_samples": len(eh), "count": int(len(shared)), "examples": shared[:5].tolist()}
    return None


def _graph(model, shapes: dict) -> dict:
    """Layer list of ``model``: from torch.fx when it traces, else the module tree (and why)."""
    try:
        import torch.fx

        gm = torch.fx.symbolic_trace(model)
    except Exception as exc:  # fx fails on data-dependent control flow and much else
        reason = f"torch.fx could not trace {type(model).__name__}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        layers = [
            {"name": n, "op": "module", "type": type(m).__name__, "shape": shapes.get(id(m))}
            for n, m in model.named_modules()
            if n and not m._modules
        ]
        return {"method": "module-tree", "reason": reason, "layers": layers[:_MAX_LAYERS], "truncated": max(0, len(layers) - _MAX_LAYERS)}
    modules = dict(model.named_modules())
    layers = []
    for node in gm.graph.nodes:
        if node.op == "call_module":
            mod = modules.get(node.target)
            layers.append({"name": str(node.target), "op": "call_module", "type": type(mod).__name__, "shape": shapes.get(id(mod))})
        elif node.op in ("call_function", "call_method"):
            target = getattr(node.target, "__name__", str(node.target))
            layers.append({"name": node.name, "op": node.op, "type": target, "shape": None})
    return {"method": "fx", "reason": None, "layers": layers[:_MAX_LAYERS], "truncated": max(0, len(layers) - _MAX_LAYERS)}
