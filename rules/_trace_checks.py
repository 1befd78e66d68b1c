"""Probe evidence for concerns whose rule classes live in the static modules.

TL101, TL302, TL401, TL403, TL404, TL501, TL502 and TL601 are each one class with a static
check (owned by the static teams) and a ``check_trace`` that calls the function of the same
concern here, so that the trace logic stays with the probe's trace format. Each function
yields findings from ``ctx.trace`` only.
"""

from __future__ import annotations

from trainlint.model import FixRef
from trainlint.probe.trace import counts_list, label

_FINISHED = ("ok", "stopped")
# Epochs of a constant learning rate the probe must see before TL401 speaks.
CONSTANT_LR_MIN_EPOCHS = 3


def _names(trace) -> dict:
    train = trace.train_loader() or {}
    evals = trace.loaders_with_role("eval")
    opt = trace.main_optimizer() or {}
    loss = trace.train_loss() or {}
    model = trace.models[0] if trace.models else {}
    out = {
        "train_loader": train.get("name") or "train_loader",
        "optimizer": opt.get("name") or "optimizer",
        "loss_name": loss.get("name") or "criterion",
        "model": model.get("name") or "model",
    }
    if evals and evals[0].get("name"):
        out["val_loader"] = evals[0]["name"]
    return out


def missing_validation(rule, ctx):
    """TL101: the optimizer stepped, and no batch was ever evaluated without steps."""
    trace = ctx.trace
    train = trace.train_loader()
    if train is None or trace.status not in _FINISHED or not trace.epochs:
        return
    if trace.loaders_with_role("eval") or any(m.get("modes", {}).get("eval") for m in trace.models):
        return
    opt = trace.main_optimizer() or {}
    yield ctx.finding(
        opt.get("frame") or train.get("frame"),
        f"no validation data was evaluated during the probe's {len(trace.epochs)} epoch(s): "
        f"only {label(train, 'train loader')} was iterated ({train['dataset'].get('length')} samples)",
        evidence={"epochs": len(trace.epochs), "loaders": [ld.get("name") for ld in trace.loaders]},
        fixes=[FixRef("validation-split", {**_names(trace), "batch_size": train.get("batch_size") or 32})],
    )


def per_class_sampler(rule, ctx):
    """TL302: a WeightedRandomSampler whose weights do not number the dataset's samples."""
    for loader in ctx.trace.loaders:
        sampler = loader.get("sampler") or {}
        dataset = loader.get("dataset") or {}
        length = dataset.get("length")
        if sampler.get("type") != "WeightedRandomSampler" or length is None or sampler.get("weights_length") == length:
            continue
        counts = counts_list(dataset.get("class_counts"))
        sampled = counts_list(loader.get("sampled_counts"))
        message = (
            f"the WeightedRandomSampler of {label(loader, 'loader')} has {sampler['weights_length']} weights for "
            f"{length} samples and draws {sampler.get('num_samples')} per epoch: the batches held only "
            f"{sum(sampled)} samples (per class {sampled}) out of a dataset with per-class counts {counts}"
        )
        yield ctx.finding(
            loader.get("frame"),
            message,
            evidence={"sampler": sampler, "dataset_length": length, "class_counts": counts, "sampled_counts": sampled},
            fixes=[
                FixRef(
                    "weighted-sampler",
                    {"train_loader": loader.get("name") or "train_loader", "batch_size": loader.get("batch_size") or 32, "class_counts": counts, "num_samples": length},
                )
            ],
        )


def constant_learning_rate(rule, ctx):
    """TL401: the main optimizer's learning rate never changed and no scheduler drives it."""
    trace = ctx.trace
    opt = trace.main_optimizer()
    if not opt or len(trace.epochs) < CONSTANT_LR_MIN_EPOCHS:
        return
    if any(s.get("optimizer") == opt.get("id") for s in trace.schedulers):
        return  # a schedule exists; it may just not have changed the rate within the probe
    values = (opt.get("lr") or {}).get("y") or []
    if not values or len(set(values)) != 1:
        return
    lr = values[0]
    yield ctx.finding(
        opt.get("frame"),
        f"{label(opt, 'optimizer')} ({opt.get('type')}) kept lr={lr:g} for all {opt.get('steps')} steps "
        f"of the probe's {len(trace.epochs)} epochs, with no scheduler",
        evidence={"lr": lr, "steps": opt.get("steps"), "epochs": len(trace.epochs)},
        fixes=[FixRef("step-lr", {"optimizer": opt.get("name") or "optimizer"}), FixRef("reduce-lr-on-plateau", _names(trace))],
    )


def scheduler_before_optimizer(rule, ctx):
    """TL403: a scheduler's first step() came before any step of its optimizer."""
    trace = ctx.trace
    for sched in trace.schedulers:
        if not sched.get("stepped_before_optimizer"):
            continue
        opt = trace.by_id("optimizers", sched.get("optimizer"))
        yield ctx.finding(
            sched.get("first_step_frame") or sched.get("frame"),
            f"{label(sched, 'scheduler')} ({sched.get('type')}) stepped before {label(opt, 'optimizer')} ever did, "
            f"so the first value of the schedule is skipped",
            evidence={"scheduler": sched.get("type"), "steps": sched.get("steps")},
            fixes=[FixRef("scheduler-order", {**_names(trace), "scheduler": sched.get("name") or "scheduler"})],
        )


def epoch_scheduler_per_batch(rule, ctx):
    """TL404: an epoch-wise scheduler stepped several times within one training epoch."""
    trace = ctx.trace
    for sched in trace.schedulers:
        per_epoch = sched.get("steps_per_epoch") or []
        if sched.get("kind") != "epoch" or not per_epoch or max(per_epoch) <= 1:
            continue
        opt = trace.by_id("optimizers", sched.get("optimizer")) or {}
        values = (opt.get("lr") or {}).get("y") or []
        first_lr, last_lr = (values[0], values[-1]) if values else (None, None)
        decay = f"; lr went from {first_lr:g} to {last_lr:g} in {len(trace.epochs)} epoch(s)" if values else ""
        yield ctx.finding(
            sched.get("first_step_frame") or sched.get("frame"),
            f"{label(sched, 'scheduler')} ({sched.get('type')}) stepped {max(per_epoch)} times within one epoch "
            f"of {max(sched.get('optimizer_steps_per_epoch') or [0])} optimizer steps: it is meant to step once per epoch{decay}",
            evidence={"steps_per_epoch": per_epoch, "optimizer_steps_per_epoch": sched.get("optimizer_steps_per_epoch"), "lr_first": first_lr, "lr_last": last_lr},
            fixes=[FixRef("scheduler-order", {**_names(trace), "scheduler": sched.get("name") or "scheduler"})],
        )


def _mode_finding(ctx, frame_key, phase, wrong, technique):
    trace = ctx.trace
    for model in trace.models:
        frame = model.get(frame_key)
        counts = (model.get("modes") or {}).get(phase) or {}
        if frame is None or not counts.get(wrong) or not (model.get("has_dropout") or model.get("has_batchnorm")):
            continue
        layers = " and ".join(n for n, has in (("dropout", model.get("has_dropout")), ("batch norm", model.get("has_batchnorm"))) if has)
        mode = "training" if wrong == "train" else "eval"
        phase_text = "evaluation" if phase == "eval" else "training"
        yield ctx.finding(
            frame,
            f"{counts[wrong]} of {counts.get('train', 0) + counts.get('eval', 0)} {phase_text} forwards of "
            f"{label(model, 'model')} ran in {mode} mode, and it has {layers}",
            evidence={"modes": model.get("modes"), "has_dropout": model.get("has_dropout"), "has_batchnorm": model.get("has_batchnorm")},
            fixes=[FixRef(technique, _names(trace))],
        )


def missing_eval_mode(rule, ctx):
    """TL501: evaluation forwards in training mode, for a model with dropout or batch norm."""
    return _mode_finding(ctx, "eval_train_mode_frame", "eval", "train", "eval-mode")


def missing_train_mode(rule, ctx):
    """TL502: training forwards in eval mode, for a model with dropout or batch norm."""
    return _mode_finding(ctx, "train_eval_mode_frame", "train", "eval", "train-mode")


def softmax_before_cross_entropy(rule, ctx):
    """TL601: a cross-entropy loss whose inputs were probabilities (rows >= 0 summing to 1)."""
    trace = ctx.trace
    for loss in trace.losses:
        if not loss.get("probability_inputs"):
            continue
        yield ctx.finding(
            loss.get("probability_frame") or loss.get("frame"),
            f"{label(loss, 'loss')} ({loss.get('type')}) received probabilities (non-negative rows summing to 1) "
            f"instead of logits: it applies log-softmax itself, so the softmax is applied twice",
            evidence={"loss": loss.get("type"), "num_classes": loss.get("num_classes")},
            fixes=[FixRef("raw-logits", {"model": _names(trace)["model"], "loss_name": loss.get("name") or "criterion"})],
        )
