"""The probe's trace: what a real training run did, as versioned, JSON-safe data.

The tracer (``tracer.py``, the only torch-importing code) fills it; rules read it; it never
imports torch, so a recorded trace can be judged anywhere. A trace file is one JSON object:

``format``  always ``"trainlint-trace"``; ``version``  the integer ``VERSION`` (1).

``script``  the probed script's path as the user gave it (findings use it as their path).

``run``  how the run went:
    ``argv`` (list, the script's arguments), ``python``, ``torch`` (versions), ``device``
    (``"cpu"`` / ``"cuda"``: where the model's parameters lived; ``None`` if no model was seen),
    ``cuda_visible`` (False when ``--device cpu`` hid CUDA), ``budgets`` (``max_batches``,
    ``max_epochs``, ``timeout_s``; ``None`` = unlimited), ``truncated`` (``batches``: how many
    loader iterations were cut at ``max_batches``; ``epochs``: True when the run was stopped
    after ``max_epochs``), ``wall_s`` (seconds), ``status`` (``"ok"``, ``"stopped"`` = stopped by
    the epoch budget, ``"exception"``, ``"exit"`` = ``sys.exit`` with a non-zero code,
    ``"timeout"``, ``"crash"`` = the interpreter died, e.g. by a signal; ``"running"`` only in a
    partial flush), ``exit_code`` (int or None), ``signal`` (name such as ``"SIGSEGV"`` or None),
    ``exception`` (``None`` or ``{"type", "message", "traceback"}``), ``frame`` (the user's
    frame where the run ended abnormally: ``{"path", "line", "function"}`` or None),
    ``output_tail`` (last lines the script printed, str), ``mode`` (``"probe"`` for a child
    process run, ``"api"`` for ``trainlint.audit`` / ``trainlint.trace``), ``tracer_errors``
    (internal errors of the tracer's callbacks, which never reach the script; normally empty).

``loaders``  one dict per DataLoader that was iterated:
    ``id`` (int, unique in the trace), ``name`` (the user's variable name or None), ``frame``
    (where it was created), ``iter_frame`` (where it was first iterated), ``dataset``
    (``type``, ``length``, ``class_counts`` {label (str): count} or None, ``label_source``
    (``"targets"``, ``"labels"``, ``"tensors"``, ``"subset"``, ``"concat"``, ``"observed"`` or
    None), ``feature_shape`` (per-sample shape of the inputs, list, or None)), ``batch_size``,
    ``sampler`` (``type``, and for a WeightedRandomSampler ``weights_length``,
    ``num_samples``, ``replacement``), ``shuffle`` (bool), ``drop_last``, ``role``
    (``"train"``, ``"eval"`` or ``"unused"``), ``role_reason`` (why: behaviour or name),
    ``iterations`` (times iterated), ``batches`` (batches yielded in total),
    ``sampled_counts`` {label: count} (labels of the batches actually yielded, i.e. the
    distribution as sampled) or None, ``min_batch``/``max_batch`` (observed batch sizes).

``optimizers``  ``id``, ``name``, ``frame``, ``type``, ``groups`` (per param group: ``lr``,
    ``params`` (count) and the other scalar hyper-parameters such as ``momentum``,
    ``weight_decay``, ``betas``), ``steps``, ``lr`` (curve of group 0's learning rate at each
    step), ``grad_norm`` (curve of the global gradient norm before each step), ``models``
    (ids of models whose parameters it updates).

``schedulers``  ``id``, ``name``, ``frame``, ``type``, ``optimizer`` (optimizer id),
    ``steps`` (calls of ``step()`` after construction), ``first_step_frame``,
    ``stepped_before_optimizer`` (its first ``step()`` came before any optimizer step),
    ``steps_per_epoch`` (list: scheduler steps during each train epoch),
    ``optimizer_steps_per_epoch`` (list, same epochs), ``kind`` (``"epoch"`` for schedulers
    meant to step once per epoch, ``"batch"`` for OneCycleLR / CyclicLR, ``"plateau"``).

``losses``  ``id``, ``name``, ``frame`` (creation, or first call for functional losses),
    ``type`` (class name, or the function name such as ``"cross_entropy"``), ``functional``,
    ``weight`` (list or None), ``pos_weight`` (list or None), ``label_smoothing``,
    ``reduction``, ``calls`` {phase: count}, ``probability_inputs`` (the inputs looked like
    probabilities: non-negative rows summing to 1), ``probability_frame`` (where such a call
    was made), ``num_classes`` (width of the input, or None).

``epochs``  one dict per train epoch (a full pass of the train loader): ``epoch`` (0-based),
    ``train_loss``, ``train_acc``, ``val_loss``, ``val_acc`` (mean over the epoch's batches;
    None when not measured), ``train_batches``, ``val_batches``, ``optimizer_steps``, ``lr``
    (learning rate of the first optimizer's group 0 at the end of the epoch), ``loss_min``,
    ``loss_max`` (extremes of the train loss within the epoch).

``loss_curve``  ``{"train": curve, "eval": curve}``: the loss of every batch (x = batch number
    within the phase, over the whole run), or None when no loss was seen.

``eval_predictions``  {label: count} of argmax predictions in evaluation batches, or None.

``models``  ``id``, ``name``, ``type``, ``frame``, ``params`` (count of parameters),
    ``has_dropout``, ``has_batchnorm``, ``graph`` (``method``: ``"fx"`` or ``"module-tree"``,
    ``reason`` (why fx failed, or None), ``layers``: list of ``{"name", "op", "type",
    "shape"}``, ``truncated``: layers left out), ``modes`` {phase: {"train": n, "eval": n}}
    (the model's ``training`` flag at each top-level forward, per phase),
    ``eval_train_mode_frame`` (first evaluation forward in training mode, or None),
    ``train_eval_mode_frame`` (first training forward in eval mode, or None).

``overlap``  ``None`` when not checked, else ``method`` (``"index"`` or ``"hash"``),
    ``train_loader``/``eval_loader`` (ids), ``train_samples``/``eval_samples`` (how many
    were compared), ``count`` (samples present in both), ``examples`` (a few eval indices).

``nonfinite``  events of NaN/Inf: ``kind`` (``"loss"``, ``"input"``, ``"grad"``), ``epoch``,
    ``step`` (optimizer step or batch index), ``frame``.

``unoptimized_params``  ``model`` (id), ``names`` (first few parameter names), ``count``,
    ``numel``: parameters that received gradients but belong to no optimizer.

``batchnorm``  per batch-norm module in training mode: ``module`` (qualified name),
    ``model`` (id), ``min_batch``, ``small_batches`` (count of batches under 8 samples),
    ``batches``.

``warnings``  torch warnings raised during the run: ``category``, ``message``, ``frame``.

Curves (``lr``, ``grad_norm``) are ``{"x": [...], "y": [...], "n": total}``: at most
``MAX_CURVE_POINTS`` points, downsampled keeping each bucket's extremes, so a 10,000-step run
stays small. A frame is ``{"path", "line", "function"}`` in the user's code.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

FORMAT = "trainlint-trace"
VERSION = 1
MAX_CURVE_POINTS = 400

_LIST_FIELDS = (
    "loaders",
    "optimizers",
    "schedulers",
    "losses",
    "epochs",
    "models",
    "nonfinite",
    "unoptimized_params",
    "batchnorm",
    "warnings",
)


class TraceError(ValueError):
    """A trace file that cannot be read: bad JSON, another format, or an unknown version."""


@dataclass
class Budgets:
    """Limits of a probe run; None means unlimited."""

    max_batches: int | None = 50
    max_epochs: int | None = 5
    timeout_s: float | None = 120.0

    def to_dict(self) -> dict[str, Any]:
        return {"max_batches": self.max_batches, "max_epochs": self.max_epochs, "timeout_s": self.timeout_s}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Budgets:
        return cls(**{k: data.get(k) for k in ("max_batches", "max_epochs", "timeout_s")})


@dataclass
class Trace:
    script: str
    run: dict[str, Any] = field(default_factory=dict)
    loaders: list[dict[str, Any]] = field(default_factory=list)
    optimizers: list[dict[str, Any]] = field(default_factory=list)
    schedulers: list[dict[str, Any]] = field(default_factory=list)
    losses: list[dict[str, Any]] = field(default_factory=list)
    epochs: list[dict[str, Any]] = field(default_factory=list)
    eval_predictions: dict[str, int] | None = None
    loss_curve: dict[str, Any] | None = None
    models: list[dict[str, Any]] = field(default_factory=list)
    overlap: dict[str, Any] | None = None
    nonfinite: list[dict[str, Any]] = field(default_factory=list)
    unoptimized_params: list[dict[str, Any]] = field(default_factory=list)
    batchnorm: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    # -- questions rules ask ---------------------------------------------------------------

    def loaders_with_role(self, role: str) -> list[dict[str, Any]]:
        return [ld for ld in self.loaders if ld.get("role") == role]

    def by_id(self, kind: str, ident: int | None) -> dict[str, Any] | None:
        for item in getattr(self, kind):
            if item.get("id") == ident:
                return item
        return None

    def train_loader(self) -> dict[str, Any] | None:
        """The loader whose batches the optimizer stepped on (the busiest, if several)."""
        trains = self.loaders_with_role("train")
        return max(trains, key=lambda ld: ld.get("batches") or 0) if trains else None

    def main_optimizer(self) -> dict[str, Any] | None:
        return max(self.optimizers, key=lambda o: o.get("steps") or 0) if self.optimizers else None

    def train_loss(self) -> dict[str, Any] | None:
        """The loss called most often while gradients were on."""
        used = [ls for ls in self.losses if (ls.get("calls") or {}).get("train")]
        return max(used, key=lambda ls: ls["calls"]["train"]) if used else None

    def epoch_values(self, key: str) -> list[float | None]:
        return [as_float(ep.get(key)) for ep in self.epochs]

    @property
    def status(self) -> str:
        return self.run.get("status", "ok")

    @property
    def finished_epochs(self) -> int:
        return len(self.epochs)

    # -- serialisation ---------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"format": FORMAT, "version": VERSION, "script": self.script, "run": self.run}
        for name in _LIST_FIELDS:
            out[name] = getattr(self, name)
        out["eval_predictions"] = self.eval_predictions
        out["loss_curve"] = self.loss_curve
        out["overlap"] = self.overlap
        return _json_safe(out)

    @classmethod
    def from_dict(cls, data: Any) -> Trace:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise TraceError(f"not a trainlint trace (expected \"format\": \"{FORMAT}\")")
        version = data.get("version")
        if version != VERSION:
            raise TraceError(f"trace format version {version!r} is not supported (this trainlint reads version {VERSION})")
        if not isinstance(data.get("script"), str):
            raise TraceError("trace has no \"script\" path")
        kwargs: dict[str, Any] = {"script": data["script"], "run": dict(data.get("run") or {})}
        for name in _LIST_FIELDS:
            value = data.get(name)
            value = [] if value is None else value
            if not isinstance(value, list):
                raise TraceError(f"trace field {name!r} must be a list, got {type(value).__name__}")
            kwargs[name] = value
        kwargs["eval_predictions"] = data.get("eval_predictions")
        kwargs["loss_curve"] = data.get("loss_curve")
        kwargs["overlap"] = data.get("overlap")
        return cls(**kwargs)

    def save(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(self.to_dict(), fh, separators=(",", ":"), allow_nan=False)

    @classmethod
    def load(cls, path: str) -> Trace:
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except FileNotFoundError:
            raise TraceError(f"trace file {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise TraceError(f"cannot read trace file {path}: {exc}") from None
        except json.JSONDecodeError as exc:
            raise TraceError(f"trace file {path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
        try:
            return cls.from_dict(data)
        except TraceError as exc:
            raise TraceError(f"{path}: {exc}") from None


def downsample(xs: list[float], ys: list[float], limit: int = MAX_CURVE_POINTS) -> dict[str, Any]:
    """A curve of at most ``limit`` points: equal buckets, each keeping its min and max point
    (in order), so spikes and the overall shape survive."""
    n = len(ys)
    if n <= limit:
        return {"x": list(xs), "y": list(ys), "n": n}
    buckets = max(1, limit // 2)
    size = n / buckets
    keep: list[int] = []
    for b in range(buckets):
        lo, hi = int(b * size), min(n, int((b + 1) * size))
        if lo >= hi:
            continue
        seg = range(lo, hi)
        finite = [i for i in seg if _finite(ys[i])]
        if len(finite) < len(seg):
            # A NaN/Inf point is evidence in itself; keep the first one of the bucket.
            keep.append(next(i for i in seg if not _finite(ys[i])))
        if finite:
            keep.append(min(finite, key=lambda i: ys[i]))
            keep.append(max(finite, key=lambda i: ys[i]))
    keep = sorted(set(keep) | {0, n - 1})
    return {"x": [xs[i] for i in keep], "y": [ys[i] for i in keep], "n": n}


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


def _json_safe(value: Any) -> Any:
    """JSON has no NaN/Inf: non-finite floats become the strings "nan", "inf", "-inf"."""
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def as_float(value: Any) -> float | None:
    """A number read back from a trace: undoes ``_json_safe`` for "nan"/"inf"/"-inf"."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return float(value)


def label(item: dict[str, Any] | None, kind: str) -> str:
    """How a message names a traced object: its variable name, else its kind and line."""
    if not item:
        return f"the {kind}"
    if item.get("name"):
        return str(item["name"])
    frame = item.get("frame") or {}
    return f"the {kind} created at line {frame['line']}" if frame.get("line") else f"the {kind}"


def counts_list(counts: dict[str, int] | None) -> list[int]:
    """{label: count} as a list indexed by class (labels are 0..k-1 integers in a trace)."""
    if not counts:
        return []
    size = max(int(k) for k in counts) + 1
    out = [0] * size
    for key, value in counts.items():
        out[int(key)] = int(value)
    return out


def balanced_weights(counts: list[int]) -> list[float]:
    """scikit-learn's ``compute_class_weight("balanced")``: n_samples / (n_classes * count)."""
    present = [c for c in counts if c]
    total = sum(present)
    return [round(total / (len(present) * c), 4) if c else 0.0 for c in counts]
