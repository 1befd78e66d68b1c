"""The fix catalog: every technique renders into valid Python with the user's names and numbers."""

from __future__ import annotations

import re
import subprocess
import sys
import warnings

import pytest

from trainlint.catalog import RenderedFix, get, render, techniques
from trainlint.catalog.technique import format_value
from trainlint.model import FixRef

SEED_IDS = [
    "sgd", "momentum-sgd", "adam", "adamw", "rmsprop", "step-lr", "exponential-lr", "cyclic-lr",
    "one-cycle-lr", "reduce-lr-on-plateau", "dropout", "batch-norm", "weight-decay",
    "validation-split", "early-stopping", "data-augmentation", "weighted-loss", "weighted-sampler",
    "smote",
]
PRACTICE_IDS = [
    "test-set-once", "fit-after-split", "clean-eval-transforms", "scheduler-order", "eval-mode",
    "train-mode", "zero-grad", "no-grad", "raw-logits", "shuffle-train", "gradient-clipping",
    "lower-learning-rate", "check-data", "fix-script", "drop-last", "optimize-all-parameters",
]


def code(technique_id: str, **params) -> str:
    return render(FixRef(technique_id, params)).code


def test_catalog_holds_exactly_the_pinned_ids_with_their_source():
    by_id = {t.id: t for t in techniques()}
    assert sorted(by_id) == sorted(SEED_IDS + PRACTICE_IDS)
    assert {i for i, t in by_id.items() if t.source == "seed"} == set(SEED_IDS)
    assert {i for i, t in by_id.items() if t.source == "practice"} == set(PRACTICE_IDS)


@pytest.mark.parametrize("technique", techniques(), ids=lambda t: t.id)
def test_every_template_and_variant_renders_with_defaults_into_python(technique):
    for kind in technique.templates():
        params = {"data_kind": kind} if kind else {}
        fix = render(FixRef(technique.id, params))
        assert isinstance(fix, RenderedFix)
        assert (fix.technique_id, fix.title, fix.when, fix.why) == (
            technique.id, technique.title, technique.when, technique.why,
        )
        compile(fix.code, f"<{technique.id} {kind}>", "exec")
        assert not re.search(r"\$\{?[A-Za-z_]", fix.code), "a placeholder was left unfilled"
    assert technique.title and technique.when.endswith(".") and technique.why.endswith(".")


def test_data_kind_picks_the_matching_variant():
    image = code("data-augmentation", data_kind="image")
    features = code("data-augmentation", data_kind="features", noise_std=0.1)
    both = code("data-augmentation")
    assert "v2.RandomRotation" in image and "randn_like" not in image
    assert "inputs + 0.1 * torch.randn_like(inputs)" in features and "torchvision" not in features
    assert "v2.RandomRotation" in both and "randn_like" in both


def test_unknown_technique_is_a_clear_key_error():
    with pytest.raises(KeyError, match=r"unknown fix technique 'no-such-fix'; known techniques: adam, adamw"):
        render(FixRef("no-such-fix"))
    with pytest.raises(KeyError, match="no-such-fix"):
        get("no-such-fix")


def test_extra_params_are_ignored_and_none_falls_back_to_the_default():
    assert code("sgd", lr=None, colour="blue") == code("sgd")
    assert "lr=0.01)" in code("sgd")


def test_validation_split_uses_the_users_arrays_and_fractions():
    text = code("validation-split", features="X_digits", labels="y_digits", val_fraction=0.1,
                test_fraction=0.2, train_loader="dl_train", batch_size=64)
    assert "X_digits, y_digits, test_size=0.3, stratify=y_digits, random_state=42" in text
    assert "X_rest, y_rest, test_size=0.6667, stratify=y_rest, random_state=42" in text
    assert "70% / 10% / 20%" in text
    assert "dl_train = make_loader(X_train, y_train, shuffle=True)" in text
    assert "batch_size=64" in text
    assert "[0.7, 0.1, 0.2]" in text


def test_weighted_loss_computes_balanced_weights_from_counts():
    text = code("weighted-loss", class_counts=[900, 100], loss_name="loss_fn")
    assert "torch.tensor([0.5556, 5.0], dtype=torch.float32)" in text
    assert "loss_fn = nn.CrossEntropyLoss(weight=class_weights)" in text
    assert "pos_weight=torch.tensor([9.0])" in text
    assert "[900, 100]" in text


def test_weighted_loss_takes_given_weights_and_counts_keyed_by_label():
    given = code("weighted-loss", class_weights=[0.2, 0.8])
    assert "torch.tensor([0.2, 0.8], dtype=torch.float32)" in given
    assert "1000" not in given, "must not claim the example counts for the user's weights"
    keyed = code("weighted-loss", class_counts={"2": 50, "0": 500, "1": 250})
    assert "torch.tensor([0.5333, 1.0667, 5.3333], dtype=torch.float32)" in keyed
    assert "n_negative / n_positive" in keyed  # pos_weight only makes sense for two classes


def test_weighted_sampler_builds_per_sample_weights():
    text = code("weighted-sampler", labels="train_ds.targets", dataset="train_ds",
                class_counts=[1000, 200], train_loader="loader")
    assert "labels = torch.as_tensor(train_ds.targets)" in text
    assert "sample_weights = class_weight[labels]" in text
    assert "WeightedRandomSampler(sample_weights, num_samples=len(sample_weights), replacement=True)" in text
    assert "loader = DataLoader(train_ds, batch_size=32, sampler=sampler)" in text
    assert "1200 draws per epoch" in text
    assert "shuffle=True)" not in text


@pytest.mark.parametrize("params", [{}, {"class_counts": [1000, 200]}, {"num_samples": 5}])
def test_weighted_sampler_never_draws_one_sample_per_class(params):
    text = code("weighted-sampler", **params)
    assert "len(class_counts)" not in text
    assert "len(class_weight)" not in text
    assert "num_samples=len(sample_weights)" in text


def test_step_lr_fills_optimizer_and_a_third_of_the_epochs():
    text = code("step-lr", optimizer="opt", epochs=90, scheduler="sched")
    assert "sched = StepLR(opt, step_size=30, gamma=0.1)" in text
    assert "for epoch in range(90):" in text
    assert "    sched.step()" in text
    unknown_epochs = code("step-lr", epochs="args.epochs")
    assert "step_size=10" in unknown_epochs and "range(args.epochs)" in unknown_epochs
    assert "step_size=4," in code("step-lr", epochs=90, step_size=4)


def test_one_cycle_lr_steps_every_batch_with_the_loader_length():
    text = code("one-cycle-lr", optimizer="opt", train_loader="loader", epochs=12, lr=0.003)
    assert "steps_per_epoch=len(loader)" in text
    assert "max_lr=0.03," in text and "epochs=12," in text
    assert re.search(r"^        scheduler\.step\(\)", text, re.MULTILINE), "must be inside the batch loop"


def test_reduce_lr_on_plateau_steps_with_the_validation_loss():
    text = code("reduce-lr-on-plateau", val_loader="valid_dl", patience=3)
    assert "scheduler.step(val_loss)" in text
    assert "val_loss, val_acc = evaluate(model, valid_dl, criterion)" in text
    assert "patience=3)" in text


def test_adamw_replaces_adam_with_weight_decay():
    text = code("adamw", optimizer="opt", model="net", lr=0.0005, weight_decay=1e-5)
    assert "opt = torch.optim.AdamW(net.parameters(), lr=0.0005, weight_decay=0.01)" in text
    assert "Replaces Adam(..., weight_decay=1e-05)" in text


def one_line(text: str) -> str:
    """Code with its bracketed line breaks joined, for comparing calls split over lines."""
    return re.sub(r"\s+\)", ")", re.sub(r"\(\s+", "(", text))


def test_weight_decay_turns_adam_into_adamw_and_keeps_sgd():
    adam = one_line(code("weight-decay", optimizer_class="torch.optim.Adam", optimizer="opt"))
    assert "opt = torch.optim.AdamW(model.parameters(), lr=0.001, weight_decay=0.01)" in adam
    sgd = one_line(code("weight-decay", optimizer_class="SGD", lr=0.1, weight_decay=1e-4))
    assert "torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=0.0001)" in sgd


def test_smote_resamples_the_training_split_only_after_splitting():
    text = code("smote", features="X_tab", labels="y_tab")
    split = text.index("train_test_split(\n    X_tab, y_tab")
    resample = text.index("smote.fit_resample(X_train, y_train)")
    assert split < resample
    assert "fit_resample(X_tab" not in text


def test_gradient_clipping_sits_between_backward_and_step():
    text = code("gradient-clipping", model="net", optimizer="opt", max_norm=0.5)
    lines = [line.strip() for line in text.splitlines()]
    backward = lines.index("loss.backward()")
    assert lines[backward + 1].startswith("torch.nn.utils.clip_grad_norm_(net.parameters(), max_norm=0.5)")
    assert lines[backward + 2] == "opt.step()"


def test_early_stopping_restores_the_best_checkpoint():
    text = code("early-stopping", model="net", patience=7, epochs=200)
    assert "if epochs_without_improvement >= 7:" in text
    assert text.rstrip().endswith("net.load_state_dict(best_state)")


def test_fit_after_split_imports_the_users_preprocessor():
    text = code("fit-after-split", scaler="pca", scaler_class="PCA")
    assert text.startswith("from sklearn.decomposition import PCA\n")
    assert "pca = PCA().fit(X_train)" in text
    qualified = code("fit-after-split", scaler_class="sklearn.preprocessing.MinMaxScaler")
    assert "from sklearn.preprocessing import MinMaxScaler" in qualified


def test_lower_learning_rate_divides_the_users_rate_by_ten():
    text = code("lower-learning-rate", optimizer_class="torch.optim.SGD", lr=0.5, optimizer="opt")
    assert "opt = torch.optim.SGD(model.parameters(), lr=0.05)" in text


def test_format_value_writes_python_literals():
    assert format_value(3.0) == "3.0"
    assert format_value(0.5263157894736842) == "0.5263"
    assert format_value(1e-5) == "1e-05"
    assert format_value([1, 2.5]) == "[1, 2.5]"
    assert format_value(True) == "True"
    assert format_value("opt\nimport os") == "opt import os"
    assert format_value(float("nan")) == 'float("nan")'


def test_strange_names_cannot_break_the_template_structure():
    text = code("sgd", optimizer="opt\n%:,<script>", model="m")
    assert text.count("\n") == code("sgd").count("\n")
    assert "opt %:,<script> = torch.optim.SGD" in text


def test_catalog_runs_without_torch_or_jinja2():
    script = (
        "import sys\n"
        "from trainlint.catalog import render, techniques\n"
        "from trainlint.model import FixRef\n"
        "for t in techniques():\n"
        "    render(FixRef(t.id))\n"
        "bad = [m for m in ('torch', 'jinja2', 'sklearn') if m in sys.modules]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- the templates run: executed against a tiny model and data set ---------------------------

# Image variants need torchvision; fix-script and data-augmentation's image half are not
# training code. Everything else runs as pasted into a small script.
RUNNABLE = [
    t.id for t in techniques()
    if t.id not in ("fix-script", "data-augmentation", "clean-eval-transforms")
]


def training_namespace():
    torch = pytest.importorskip("torch")
    datasets = pytest.importorskip("sklearn.datasets")
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    X, y = datasets.make_classification(n_samples=240, n_features=8, weights=[0.8, 0.2], random_state=0)
    X = X.astype("float32")
    dataset = TensorDataset(torch.as_tensor(X), torch.as_tensor(y))
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
    loader = DataLoader(dataset, batch_size=32, shuffle=True)
    inputs, targets = next(iter(loader))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    return {
        "torch": torch, "nn": nn, "X": X, "y": y, "y_train": y,
        "train_dataset": dataset, "val_dataset": dataset,
        "model": model, "optimizer": optimizer,
        "scheduler": torch.optim.lr_scheduler.StepLR(optimizer, step_size=1),
        "criterion": nn.CrossEntropyLoss(),
        "train_loader": loader, "val_loader": DataLoader(dataset, batch_size=64),
        "test_loader": DataLoader(dataset, batch_size=64),
        "inputs": inputs, "targets": targets,
    }


RUN_PARAMS = {"epochs": 3, "in_features": 8, "hidden": 16, "out_features": 2, "num_classes": 2,
              "data_kind": "features", "patience": 1}


@pytest.mark.probe
@pytest.mark.parametrize("technique_id", RUNNABLE)
def test_template_runs_on_a_tiny_training_setup(technique_id):
    pytest.importorskip("imblearn")
    run_quietly(code(technique_id, **RUN_PARAMS), technique_id)


@pytest.mark.probe
@pytest.mark.parametrize("technique_id", ["data-augmentation", "clean-eval-transforms"])
def test_feature_variant_runs(technique_id):
    run_quietly(code(technique_id, **RUN_PARAMS), technique_id)


def run_quietly(source: str, name: str) -> dict:
    """Execute a rendered template; any warning (torch's scheduler-order one included) fails."""
    namespace = training_namespace()
    torch = namespace["torch"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            exec(compile(source, name, "exec"), namespace)
    finally:
        torch.autograd.set_detect_anomaly(False)  # check-data turns it on for the process
    return namespace


@pytest.mark.probe
def test_rendered_sampler_balances_the_classes():
    namespace = run_quietly(code("weighted-sampler", class_counts=[192, 48]), "sampler")
    torch = namespace["torch"]
    drawn = torch.cat([targets for _, targets in namespace["train_loader"]])
    assert len(drawn) == 240  # one draw per sample, not one per class
    assert 0.4 < drawn.float().mean().item() < 0.6


@pytest.mark.probe
def test_rendered_step_lr_decays_by_gamma_every_third_of_the_run():
    namespace = run_quietly(code("step-lr", epochs=9), "step-lr")
    assert namespace["optimizer"].param_groups[0]["lr"] == pytest.approx(0.01 * 0.1**3)


@pytest.mark.probe
def test_rendered_weighted_loss_is_accepted_by_cross_entropy():
    namespace = run_quietly(code("weighted-loss", class_counts=[192, 48]), "weighted-loss")
    weight = namespace["criterion"].weight
    assert weight.tolist() == pytest.approx([0.625, 2.5])
    namespace["criterion"](namespace["model"](namespace["inputs"]), namespace["targets"])


def test_fix_script_quotes_the_probe_command():
    text = code("fix-script", script="train.py", args=["--epochs", "2", "a b"], error="boom\nline 2")
    assert "# Reproduce it without trainlint:  python train.py --epochs 2 'a b'\n" in text
    assert "# It failed with: boom line 2\n" in text
    plain = code("fix-script")
    assert "# Reproduce it without trainlint:  python train.py\n" in plain
    assert "# It failed with: an error (see trainlint's output)\n" in plain
    assert "# It failed with: invalid syntax (line 3)\n" in code("fix-script", reason="invalid syntax (line 3)")
