"""The only monkey-patches the tracer installs, all reversible through one Patcher.

torch has global hooks for module forwards and optimizer steps; it has none for these, so they
are wrapped here and nowhere else:

- ``DataLoader.__init__`` (where a loader was created) and ``DataLoader.__iter__`` (batches,
  labels as sampled, budgets);
- the construction of optimizers, learning-rate schedulers and loss modules (where they were
  created, so findings point at the line to change) and scheduler ``step`` methods (when a
  scheduler steps relative to the optimizer and the epochs);
- the functional losses (``F.cross_entropy`` ...), which are plain functions with no hook.

Every wrapper calls the original with the same arguments and returns its result unchanged.
"""

from __future__ import annotations

import functools
from typing import Any, Callable


class Patcher:
    def __init__(self) -> None:
        self._undo: list[tuple[Any, str, Any]] = []

    def wrap(self, owner: Any, attr: str, make: Callable[[Callable], Callable]) -> None:
        """Replace ``owner.attr`` by ``make(original)``; ``undo`` restores the original."""
        original = owner.__dict__[attr] if attr in getattr(owner, "__dict__", {}) else getattr(owner, attr)
        wrapper = make(original)
        functools.update_wrapper(wrapper, original)
        self._undo.append((owner, attr, original))
        setattr(owner, attr, wrapper)

    def undo(self) -> None:
        while self._undo:
            owner, attr, original = self._undo.pop()
            setattr(owner, attr, original)


FUNCTIONAL_LOSSES = ("cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits")


def install(tracer) -> Patcher:
    """Wrap what has no torch hook; every wrapper reports to ``tracer`` and defers to torch."""
    import torch.nn.functional as F
    from torch.nn.modules.loss import _Loss
    from torch.optim import Optimizer, lr_scheduler
    from torch.utils.data import DataLoader

    p = Patcher()

    def after_init(on_created):
        def make(original):
            def __init__(self, *args, **kwargs):
                original(self, *args, **kwargs)
                on_created(self)

            return __init__

        return make

    p.wrap(DataLoader, "__init__", after_init(tracer.on_loader_created))
    p.wrap(Optimizer, "__init__", after_init(tracer.on_optimizer_created))
    p.wrap(_Loss, "__init__", after_init(tracer.on_loss_created))

    def make_iter(original):
        def __iter__(self):
            inner = original(self)
            traced = tracer.iterate(self, inner)
            return inner if traced is None else traced

        return __iter__

    p.wrap(DataLoader, "__iter__", make_iter)

    scheduler_classes = [
        cls
        for cls in vars(lr_scheduler).values()
        if isinstance(cls, type) and issubclass(cls, lr_scheduler.LRScheduler)
    ]
    for cls in scheduler_classes:
        # Subclasses calling super().__init__ report twice; the tracer keeps the first.
        if "__init__" in cls.__dict__:
            p.wrap(cls, "__init__", after_init(tracer.on_scheduler_created))
        if "step" in cls.__dict__:

            def make_step(original):
                def step(self, *args, **kwargs):
                    tracer.on_scheduler_step(self)
                    return original(self, *args, **kwargs)

                return step

            p.wrap(cls, "step", make_step)

    for name in FUNCTIONAL_LOSSES:

        def make_loss(original, name=name):
            def loss(*args, **kwargs):
                out = original(*args, **kwargs)
                tracer.on_functional_loss(name, args, kwargs, out)
                return out

            return loss

        p.wrap(F, name, make_loss)
    return p

