"""The Python API for notebooks and custom loops, in process (no child process, no budgets on
time): ``trainlint.audit(...)`` trains a few epochs itself under the tracer; ``with
trainlint.trace() as t: ...`` traces whatever training runs inside the block. Both give a
``trainlint.model.Report``, the object every reporter renders.

torch is imported only when one of them is called.
"""

from __future__ import annotations

import copy
import os
import sys
import traceback
from typing import Any

from trainlint.model import Report
from trainlint.probe.frames import PathDisplay, user_frame
from trainlint.probe.trace import Budgets, Trace

_NOTEBOOK = "<notebook>"


class AuditInputError(TypeError):
    """The loaders passed to ``audit`` do not yield (inputs, targets) batches."""


def audit(
    model,
    train_loader,
    val_loader=None,
    optimizer=None,
    loss_fn=None,
    scheduler=None,
    epochs: int = 3,
    max_batches: int | None = 50,
) -> Report:
    """Train ``model`` for ``epochs`` epochs (at most ``max_batches`` batches per pass) under the
    tracer, evaluating on ``val_loader`` after each epoch, and judge what happened.

    ``optimizer`` defaults to Adam(lr=1e-3) and ``loss_fn`` to CrossEntropyLoss. The weights of
    the model and the states of the optimizer and scheduler are restored afterwards, so an
    audit does not change the model you go on to train.
    """
    import torch

    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"audit() needs a torch.nn.Module as model, got {type(model).__name__}")
    for name, loader in (("train_loader", train_loader), ("val_loader", val_loader)):
        if loader is not None and not hasattr(loader, "__iter__"):
            raise TypeError(f"audit() needs an iterable of (inputs, targets) batches as {name}, got {type(loader).__name__}")
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if max_batches is not None and (not isinstance(max_batches, int) or max_batches < 1):
        raise ValueError(f"max_batches must be a positive integer or None, got {max_batches!r}")

    session = TraceSession(max_batches=max_batches, script=_caller_script())
    saved = _save_states(model, optimizer, scheduler)
    try:
        with session:
            optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=1e-3)
            loss_fn = loss_fn or torch.nn.CrossEntropyLoss()
            _train(model, train_loader, val_loader, optimizer, loss_fn, scheduler, epochs)
    except AuditInputError:
        raise
    except Exception:
        pass  # recorded in the trace; the report's TL902 finding says what failed and where
    finally:
        _restore_states(saved, model, optimizer, scheduler)
    return session.report


class TraceSession:
    """``with trainlint.trace() as t:`` traces the training inside the block; afterwards
    ``t.trace`` is the Trace and ``t.report`` the judged Report. An exception in the block is
    recorded (and TL902 reports it) and then propagates as usual."""

    def __init__(self, max_batches: int | None = None, script: str | None = None):
        self.script = script or _caller_script()
        self.budgets = Budgets(max_batches=max_batches, max_epochs=None, timeout_s=None)
        self.trace: Trace | None = None
        self.report: Report | None = None
        self._tracer = None

    def __enter__(self) -> TraceSession:
        from trainlint.probe.tracer import Tracer

        if self._tracer is not None:
            raise RuntimeError("this trainlint.trace() block is already active")
        self._tracer = Tracer(self.script, self.budgets, mode="api")
        self._tracer.install()
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        tracer, self._tracer = self._tracer, None
        tracer.uninstall()
        run: dict[str, Any] = {"argv": [], "status": "ok"}
        if exc is not None:
            frames = [fs for fs in traceback.extract_tb(tb) if _in_user_code(fs.filename)]
            display = PathDisplay(self.script)
            run.update(
                status="exception",
                exception={"type": exc_type.__name__, "message": str(exc), "traceback": "".join(traceback.format_exception(exc_type, exc, tb))},
                frame={"path": display(frames[-1].filename), "line": frames[-1].lineno, "function": frames[-1].name} if frames else None,
            )
        self.trace = tracer.snapshot(run=run)
        from trainlint import engine

        self.report = engine.judge_trace(self.trace)
        return False


def trace(max_batches: int | None = None) -> TraceSession:
    """A context manager that traces the training run inside it (see TraceSession)."""
    return TraceSession(max_batches=max_batches, script=_caller_script())


def _train(model, train_loader, val_loader, optimizer, loss_fn, scheduler, epochs) -> None:
    import torch

    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    kind = type(scheduler).__name__ if scheduler is not None else None
    per_batch = kind in ("OneCycleLR", "CyclicLR")
    for _ in range(epochs):
        model.train()
        for batch in train_loader:
            inputs, targets = _inputs_targets(batch, device)
            optimizer.zero_grad()
            loss = loss_fn(model(inputs), targets)
            loss.backward()
            optimizer.step()
            if per_batch:
                scheduler.step()
        val_loss = None
        if val_loader is not None:
            model.eval()
            total, count = 0.0, 0
            with torch.no_grad():
                for batch in val_loader:
                    inputs, targets = _inputs_targets(batch, device)
                    total += float(loss_fn(model(inputs), targets))
                    count += 1
            val_loss = total / count if count else None
        if scheduler is not None and not per_batch:
            if kind == "ReduceLROnPlateau":
                if val_loss is not None:
                    scheduler.step(val_loss)
            else:
                scheduler.step()


def _inputs_targets(batch, device):
    if isinstance(batch, dict):
        keys = [k for k in ("inputs", "input", "x") if k in batch], [k for k in ("targets", "target", "labels", "label", "y") if k in batch]
        if not (keys[0] and keys[1]):
            raise AuditInputError(f"audit() needs batches of (inputs, targets); got a dict with keys {sorted(batch)}")
        batch = (batch[keys[0][0]], batch[keys[1][0]])
    if not isinstance(batch, (tuple, list)) or len(batch) < 2:
        raise AuditInputError(f"audit() needs batches of (inputs, targets); got {type(batch).__name__}")
    return batch[0].to(device), batch[1].to(device)


def _save_states(model, optimizer, scheduler):
    return (
        copy.deepcopy(model.state_dict()),
        copy.deepcopy(optimizer.state_dict()) if optimizer is not None else None,
        copy.deepcopy(scheduler.state_dict()) if scheduler is not None else None,
    )


def _restore_states(saved, model, optimizer, scheduler) -> None:
    model_state, opt_state, sched_state = saved
    model.load_state_dict(model_state)
    if opt_state is not None and optimizer is not None:
        optimizer.load_state_dict(opt_state)
    if sched_state is not None and scheduler is not None:
        scheduler.load_state_dict(sched_state)


def _in_user_code(filename: str) -> bool:
    from trainlint.probe.frames import is_user_file

    return is_user_file(filename) or filename.startswith("<ipython")


def _caller_script() -> str:
    """The user's file that called the API (a notebook cell has no file: "<notebook>")."""
    frame = user_frame(PathDisplay(_NOTEBOOK), sys._getframe(1))
    if frame and os.path.isfile(frame["path"]):
        return frame["path"]
    return _NOTEBOOK
