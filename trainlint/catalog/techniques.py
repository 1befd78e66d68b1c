"""The catalog entries: the seed's techniques, then training practice.

Params that rules pass use the user's own names and numbers. The common ones are ``model``,
``optimizer``, ``optimizer_class``, ``scheduler``, ``train_loader``, ``val_loader``,
``test_loader``, ``dataset``, ``features``, ``labels``, ``loss_name``, ``epochs``, ``lr``,
``batch_size``, ``class_counts``, ``class_weights``, ``num_samples`` and ``data_kind``
("image" or "features"). A name may be any expression (``args.epochs``, ``self.opt``).
"""

from __future__ import annotations

import shlex
from typing import Any

from trainlint.catalog.technique import Technique

# -- shared pieces of templates --------------------------------------------------------------

EVALUATE = '''\
@torch.no_grad()
def evaluate(model, loader, loss_fn):
    """Mean loss and accuracy over a loader, with dropout and batch-norm updates switched off."""
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    for inputs, targets in loader:
        logits = model(inputs)
        total_loss += loss_fn(logits, targets).item() * len(targets)
        correct += (logits.argmax(dim=1) == targets).sum().item()
        seen += len(targets)
    return total_loss / seen, correct / seen
'''

TRAIN_ONE_EPOCH = '''\
def train_one_epoch(model, loader, optimizer, loss_fn):
    model.train()
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss_fn(model(inputs), targets).backward()
        optimizer.step()
'''

LOOP_DEFAULTS = {
    "model": "model",
    "optimizer": "optimizer",
    "train_loader": "train_loader",
    "val_loader": "val_loader",
    "loss_name": "criterion",
    "epochs": 30,
}

SCHEDULE_DEFAULTS = {
    "optimizer": "optimizer",
    "scheduler": "scheduler",
    "train_loader": "train_loader",
    "epochs": 30,
}

EVAL_TRANSFORM = "eval_transform = v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])"


def training_loop(
    *,
    train_note: str = "",
    zero_grad_note: str = "",
    after_backward: str = "",
    after_epoch: str = "",
) -> str:
    """The standard epoch/batch loop, with the line a technique is about added or annotated."""

    def noted(line: str, note: str) -> str:
        return f"{line}  # {note}" if note else line

    lines = [
        "for epoch in range($epochs):",
        "    " + noted("$model.train()", train_note),
        "    for inputs, targets in $train_loader:",
        "        " + noted("$optimizer.zero_grad()", zero_grad_note),
        "        loss = $loss_name($model(inputs), targets)",
        "        loss.backward()",
    ]
    if after_backward:
        lines.append("        " + after_backward)
    lines.append("        $optimizer.step()")
    if after_epoch:
        lines.append("    " + after_epoch)
    return "\n".join(lines) + "\n"


def schedule_loop(per_batch: bool, note: str) -> str:
    """Where scheduler.step() goes: after the optimizer's step, per batch or per epoch."""
    indent = "        " if per_batch else "    "
    return (
        "for epoch in range($epochs):\n"
        "    for inputs, targets in $train_loader:\n"
        "        ...  # forward pass, loss.backward()\n"
        "        $optimizer.step()\n"
        f"{indent}$scheduler.step()  # {note}\n"
    )


def mlp(layer: str, note: str, before_activation: bool) -> str:
    """A two-layer network with one extra layer, placed before or after the activation."""
    layers = [f"    {layer},  # {note}", "    nn.ReLU(),"]
    if not before_activation:
        layers.reverse()
    return (
        "import torch.nn as nn\n\n"
        "$model = nn.Sequential(\n"
        "    nn.Linear($in_features, $hidden),\n"
        + "\n".join(layers)
        + "\n    nn.Linear($hidden, $out_features),\n)\n"
    )


MLP_DEFAULTS = {"model": "model", "in_features": 256, "hidden": 128, "out_features": 10}

# -- helpers used by derive functions -----------------------------------------------------------

ADAPTIVE_OPTIMIZERS = {"Adam", "AdamW", "Adamax", "NAdam", "RAdam", "Adagrad", "Adadelta", "RMSprop"}


def short_class(name: Any) -> str:
    """``torch.optim.Adam`` -> ``Adam``: templates write ``torch.optim.<class>`` themselves."""
    return str(name).rsplit(".", 1)[-1]


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def per_class(values: Any) -> list[Any] | None:
    """Per-class numbers in class order; rules may hand over a list or a {label: value} map."""
    if isinstance(values, dict):
        def order(key):
            text = str(key)
            return (0, int(text), text) if text.lstrip("-").isdigit() else (1, 0, text)

        values = [values[k] for k in sorted(values, key=order)]
    if isinstance(values, (list, tuple)) and values and all(is_number(v) for v in values):
        return list(values)
    return None


# The seed's example of a 5:1 imbalance, used when a finding carries no counts.
EXAMPLE_COUNTS = [1000, 200]


def balanced_weights(counts: list[int]) -> list[float]:
    """n_samples / (n_classes * count): the weighting sklearn calls "balanced"."""
    total = sum(counts)
    return [round(total / (len(counts) * c), 4) if c else 0.0 for c in counts]


# -- derive functions ------------------------------------------------------------------------


def derive_step_lr(values):
    epochs = values["epochs"]
    return {"step_size": max(1, round(epochs / 3)) if is_number(epochs) else 10}


def derive_exponential_lr(values):
    epochs = values["epochs"]
    # Reaching a hundredth of the starting rate by the last epoch.
    return {"gamma": round(0.01 ** (1 / epochs), 4) if is_number(epochs) and epochs > 0 else 0.95}


def derive_cyclic_lr(values):
    lr = values["lr"]
    return {"base_lr": lr / 10 if is_number(lr) else 1e-4, "max_lr": lr if is_number(lr) else 1e-3}


def derive_one_cycle_lr(values):
    lr = values["lr"]
    return {"max_lr": lr * 10 if is_number(lr) else 0.01}


def derive_weight_decay(values):
    cls = short_class(values["optimizer_class"])
    adaptive = cls in ADAPTIVE_OPTIMIZERS
    return {
        "decay_class": "AdamW" if adaptive else cls,
        "momentum_arg": ", momentum=0.9" if cls == "SGD" else "",
        "weight_decay": 0.01 if adaptive else 5e-4,
        "lr": 0.001 if adaptive else 0.01,
    }


def derive_validation_split(values):
    val, test = values["val_fraction"], values["test_fraction"]
    if not (is_number(val) and is_number(test) and 0 < val + test < 1):
        val, test = 0.15, 0.15
    holdout = round(val + test, 4)
    return {
        "holdout": holdout,
        "test_share": round(test / holdout, 4),
        "train_fraction": round(1 - holdout, 4),
        "val_part": val,
        "test_part": test,
        "train_pct": round((1 - holdout) * 100),
        "val_pct": round(val * 100),
        "test_pct": round(test * 100),
    }


def derive_weighted_loss(values):
    counts = per_class(values["class_counts"])
    given_weights = per_class(values["class_weights"])
    if given_weights:
        weights = [round(float(w), 4) for w in given_weights]
        note = f"training-set counts {counts}" if counts else "the weights from your training labels"
    elif counts:
        weights = balanced_weights(counts)
        note = f"training-set counts {counts} give these weights"
    else:
        counts = EXAMPLE_COUNTS
        weights = balanced_weights(counts)
        note = f"example counts {counts} give these; use your training split's counts"
    if counts and len(counts) == 2 and counts[1]:
        pos_weight = round(counts[0] / counts[1], 4)
    else:
        pos_weight = "n_negative / n_positive"
    return {"weights": weights, "counts_note": note, "pos_weight": pos_weight}


def derive_weighted_sampler(values):
    counts = per_class(values["class_counts"])
    if counts:
        counts = [int(c) for c in counts]
        return {
            "counts_note": f"here {counts}",
            "num_samples": sum(counts),
        }
    return {"counts_note": "one count per class"}


SKLEARN_MODULES = {
    "PCA": "sklearn.decomposition",
    "TruncatedSVD": "sklearn.decomposition",
    "SimpleImputer": "sklearn.impute",
    "KNNImputer": "sklearn.impute",
    "SelectKBest": "sklearn.feature_selection",
    "VarianceThreshold": "sklearn.feature_selection",
    "TfidfVectorizer": "sklearn.feature_extraction.text",
    "CountVectorizer": "sklearn.feature_extraction.text",
}


def derive_fit_after_split(values):
    name = str(values["scaler_class"])
    module, _, cls = name.rpartition(".")
    if not module:
        module = SKLEARN_MODULES.get(cls, "sklearn.preprocessing")
    return {"scaler_name": cls, "scaler_import": f"from {module} import {cls}"}


def derive_fix_script(values):
    args = values["args"]
    if isinstance(args, (list, tuple)):
        args = shlex.join(str(a) for a in args)
    return {
        "command": " ".join(str(p) for p in ("python", values["script"], args) if p),
        "problem": values["error"] or values["reason"] or "an error (see trainlint's output)",
    }


def derive_lower_learning_rate(values):
    lr = values["lr"]
    return {
        "new_lr": lr / 10 if is_number(lr) else 1e-4,
        "class_name": short_class(values["optimizer_class"]),
    }


# -- data_kind variants ----------------------------------------------------------------------

IMAGE_AUGMENTATION = (
    "import torch\n"
    "from torchvision.transforms import v2\n\n"
    "# Images: random changes that keep the label true (leave out flips for digits or text).\n"
    "train_transform = v2.Compose([\n"
    "    v2.RandomHorizontalFlip(),\n"
    "    v2.RandomRotation(degrees=$degrees),\n"
    "    v2.ColorJitter(brightness=$brightness),\n"
    "    v2.ToImage(),\n"
    "    v2.ToDtype(torch.float32, scale=True),\n"
    "])\n"
    "# Validation and test images get only the deterministic conversion.\n"
    f"{EVAL_TRANSFORM}\n"
)

FEATURE_AUGMENTATION = (
    "import torch\n\n"
    "# Feature vectors (standardised): fresh Gaussian noise on every training batch.\n"
    "for inputs, targets in $train_loader:\n"
    "    inputs = inputs + $noise_std * torch.randn_like(inputs)\n"
    "    ...  # forward pass, loss, backward and step as before\n"
)


CLEAN_IMAGE_EVAL = (
    "import torch\n"
    "from torch.utils.data import Subset\n"
    "from torchvision import datasets\n"
    "from torchvision.transforms import v2\n\n"
    f"{EVAL_TRANSFORM}\n\n"
    "# random_split subsets share one dataset and so one transform: build the dataset twice\n"
    "# over the same files and take the validation indices from the clean copy.\n"
    "augmented = $dataset_class(root=\"data\", train=True, download=True, transform=$train_transform)\n"
    "clean = $dataset_class(root=\"data\", train=True, download=True, transform=eval_transform)\n"
    "order = torch.randperm(len(clean), generator=torch.Generator().manual_seed(42)).tolist()\n"
    "n_val = int($val_fraction * len(order))\n"
    "train_set = Subset(augmented, order[n_val:])\n"
    "val_set = Subset(clean, order[:n_val])\n"
    "test_set = $dataset_class(root=\"data\", train=False, download=True, transform=eval_transform)\n"
)

CLEAN_FEATURE_EVAL = (
    "import torch\n\n"
    "for inputs, targets in $train_loader:\n"
    "    inputs = inputs + $noise_std * torch.randn_like(inputs)  # noise on training batches only\n"
    "    ...  # forward pass, loss, backward and step\n\n"
    "$model.eval()\n"
    "with torch.no_grad():\n"
    "    for inputs, targets in $val_loader:\n"
    "        logits = $model(inputs)  # no noise here: score the data as it is\n"
)


def image_and_features(image: str, features: str) -> str:
    """The main template of a technique with data_kind variants: both halves, image first."""
    return image + "\n\n" + features


# -- the seed's techniques --------------------------------------------------------------------

SEED = [
    Technique(
        id="sgd",
        title="Plain SGD",
        when=(
            "You want a simple, well-understood optimizer whose solutions tend to generalise well, "
            "and you can afford to tune its learning rate and pair it with a schedule."
        ),
        why=(
            "SGD moves every weight by the same multiple of its gradient, with no per-parameter "
            "scaling. It usually needs more epochs than adaptive optimizers, but it often settles "
            "in broad minima that hold up better on data the model has not seen."
        ),
        template=(
            "import torch\n\n"
            "$optimizer = torch.optim.SGD($model.parameters(), lr=$lr)\n"
        ),
        defaults={"optimizer": "optimizer", "model": "model", "lr": 0.01},
        source="seed",
    ),
    Technique(
        id="momentum-sgd",
        title="SGD with momentum",
        when=(
            "Plain SGD makes slow progress or zig-zags across steep directions of the loss, as is "
            "common when training CNNs or MLPs from scratch."
        ),
        why=(
            "Momentum keeps a decaying sum of past gradients and steps along it: directions that "
            "stay consistent from batch to batch speed up, directions that flip sign cancel out. "
            "With momentum=0.9 the steady-state step is about ten times a plain SGD step, so the "
            "learning rate rarely needs to be higher than for plain SGD."
        ),
        template=(
            "import torch\n\n"
            "$optimizer = torch.optim.SGD($model.parameters(), lr=$lr, momentum=$momentum, nesterov=True)\n"
        ),
        defaults={"optimizer": "optimizer", "model": "model", "lr": 0.01, "momentum": 0.9},
        source="seed",
    ),
    Technique(
        id="adam",
        title="Adam",
        when=(
            "You want quick progress with little learning-rate tuning: a new model, sparse or badly "
            "scaled gradients, or a strong first baseline."
        ),
        why=(
            "Adam keeps running averages of each parameter's gradient and squared gradient and "
            "divides the step by the square root of the latter, so every weight gets its own "
            "effective learning rate. lr=1e-3 is a dependable starting point."
        ),
        template=(
            "import torch\n\n"
            "$optimizer = torch.optim.Adam($model.parameters(), lr=$lr)\n"
            "# To regularise with weight decay, switch to torch.optim.AdamW rather than passing\n"
            "# weight_decay to Adam (see the adamw technique).\n"
        ),
        defaults={"optimizer": "optimizer", "model": "model", "lr": 0.001},
        source="seed",
    ),
    Technique(
        id="adamw",
        title="AdamW instead of Adam with weight_decay",
        when="You use Adam with weight_decay > 0 to regularise the model.",
        why=(
            "Adam's weight_decay adds the L2 term to the gradient, and Adam then divides that "
            "gradient by its per-parameter scale: weights with large gradients are hardly decayed "
            "at all, so the penalty does not regularise the way it does with SGD. AdamW shrinks the "
            "weights directly, outside the adaptive step, so every weight decays at the same rate. "
            "Its decay is multiplied by the learning rate, which is why useful values are larger "
            "than Adam's L2 values; 1e-2 is PyTorch's default."
        ),
        template=(
            "import torch\n\n"
            "# Replaces Adam(..., weight_decay=$weight_decay). The decay now acts on the weights\n"
            "# directly instead of through Adam's adaptive scaling; tune it on the validation split.\n"
            "$optimizer = torch.optim.AdamW($model.parameters(), lr=$lr, weight_decay=$adamw_weight_decay)\n"
        ),
        defaults={
            "optimizer": "optimizer",
            "model": "model",
            "lr": 0.001,
            "weight_decay": 1e-5,
            "adamw_weight_decay": 0.01,
        },
        source="seed",
    ),
    Technique(
        id="rmsprop",
        title="RMSprop",
        when=(
            "You train a recurrent network, or the scale of the gradients drifts as training "
            "goes on (a non-stationary objective)."
        ),
        why=(
            "RMSprop divides each step by a running root-mean-square of that parameter's recent "
            "gradients. Parameters with large or noisy gradients take smaller steps, and the step "
            "size follows the gradient scale as it changes. It is Adam without the averaged "
            "gradient direction."
        ),
        template=(
            "import torch\n\n"
            "$optimizer = torch.optim.RMSprop($model.parameters(), lr=$lr, alpha=0.99)\n"
        ),
        defaults={"optimizer": "optimizer", "model": "model", "lr": 0.001},
        source="seed",
    ),
    Technique(
        id="step-lr",
        title="Step decay with StepLR",
        when=(
            "The learning rate stays constant for the whole run and the loss stops improving "
            "after the first epochs; you know roughly how many epochs you train."
        ),
        why=(
            "Large steps early cover ground quickly; smaller steps later let the weights settle "
            "into a minimum instead of bouncing around it. StepLR multiplies the learning rate by "
            "gamma every step_size epochs. With gamma=0.1 and step_size about a third of the run, "
            "the last third trains at a hundredth of the starting rate."
        ),
        template=(
            "from torch.optim.lr_scheduler import StepLR\n\n"
            "# $epochs epochs: the learning rate is multiplied by $gamma every $step_size epochs.\n"
            "$scheduler = StepLR($optimizer, step_size=$step_size, gamma=$gamma)\n\n"
            + schedule_loop(False, "once per epoch, after that epoch's optimizer steps")
        ),
        defaults={**SCHEDULE_DEFAULTS, "gamma": 0.1},
        source="seed",
        derive=derive_step_lr,
    ),
    Technique(
        id="exponential-lr",
        title="Exponential decay with ExponentialLR",
        when=(
            "You want the learning rate to shrink smoothly every epoch rather than in a few "
            "sudden drops."
        ),
        why=(
            "ExponentialLR multiplies the rate by gamma after each epoch, so after n epochs it is "
            "lr * gamma ** n: a smooth version of step decay. The default gamma here is chosen so "
            "that the rate ends about a hundred times lower on the last epoch."
        ),
        template=(
            "from torch.optim.lr_scheduler import ExponentialLR\n\n"
            "# After n epochs the learning rate is the initial one times $gamma ** n.\n"
            "$scheduler = ExponentialLR($optimizer, gamma=$gamma)\n\n"
            + schedule_loop(False, "once per epoch, after that epoch's optimizer steps")
        ),
        defaults=dict(SCHEDULE_DEFAULTS),
        source="seed",
        derive=derive_exponential_lr,
    ),
    Technique(
        id="cyclic-lr",
        title="Cyclic learning rate with CyclicLR",
        when=(
            "Training stalls at a constant rate and you would rather not choose decay milestones, "
            "or you want the rate to rise now and then to leave flat regions of the loss."
        ),
        why=(
            "CyclicLR moves the rate back and forth between base_lr and max_lr, one rise and one "
            "fall per cycle, updated after every batch. The high phases escape narrow or flat "
            "regions and the low phases refine. The \"triangular2\" mode halves the swing each "
            "cycle so that the run still ends at small steps."
        ),
        template=(
            "from torch.optim.lr_scheduler import CyclicLR\n\n"
            "# One cycle (up, then down) every four epochs, updated per batch.\n"
            "$scheduler = CyclicLR(\n"
            "    $optimizer,\n"
            "    base_lr=$base_lr,\n"
            "    max_lr=$max_lr,\n"
            "    step_size_up=2 * len($train_loader),\n"
            "    mode=\"triangular2\",\n"
            "    cycle_momentum=False,  # True only for SGD with momentum > 0\n"
            ")\n\n"
            + schedule_loop(True, "every batch, not every epoch")
        ),
        defaults={**SCHEDULE_DEFAULTS, "lr": 0.001},
        source="seed",
        derive=derive_cyclic_lr,
    ),
    Technique(
        id="one-cycle-lr",
        title="One-cycle schedule with OneCycleLR",
        when=(
            "You train for a known number of epochs and want fast convergence; it works well with "
            "SGD with momentum and with AdamW."
        ),
        why=(
            "OneCycleLR warms the rate up from max_lr / 25 to max_lr over the first 30% of the "
            "batches, then anneals it to almost zero by the last batch. The warm-up avoids early "
            "instability and the long decay ends training well settled. It plans the whole run in "
            "batches, so it needs epochs and steps_per_epoch and must be stepped after every batch."
        ),
        template=(
            "from torch.optim.lr_scheduler import OneCycleLR\n\n"
            "$scheduler = OneCycleLR(\n"
            "    $optimizer,\n"
            "    max_lr=$max_lr,\n"
            "    epochs=$epochs,\n"
            "    steps_per_epoch=len($train_loader),\n"
            ")\n\n"
            + schedule_loop(True, "every batch: epochs * steps_per_epoch steps in all")
        ),
        defaults={**SCHEDULE_DEFAULTS, "lr": 0.001},
        source="seed",
        derive=derive_one_cycle_lr,
    ),
    Technique(
        id="reduce-lr-on-plateau",
        title="Lower the rate when validation loss plateaus (ReduceLROnPlateau)",
        when=(
            "You compute a validation loss every epoch and cannot predict when training will "
            "stall."
        ),
        why=(
            "ReduceLROnPlateau watches the value passed to step(); when it has not improved for "
            "`patience` epochs, the rate is multiplied by `factor`. The schedule follows the run "
            "instead of a plan made in advance. Give it the validation loss: the training loss "
            "keeps falling while the model memorises, so it would never trigger when it matters."
        ),
        template=(
            "import torch\n"
            "from torch.optim.lr_scheduler import ReduceLROnPlateau\n\n\n"
            + EVALUATE
            + "\n\n"
            + TRAIN_ONE_EPOCH
            + "\n\n"
            "$scheduler = ReduceLROnPlateau($optimizer, mode=\"min\", factor=$factor, patience=$patience)\n\n"
            "for epoch in range($epochs):\n"
            "    train_one_epoch($model, $train_loader, $optimizer, $loss_name)\n"
            "    val_loss, val_acc = evaluate($model, $val_loader, $loss_name)\n"
            "    $scheduler.step(val_loss)  # the validation loss, once per epoch\n"
        ),
        defaults={**LOOP_DEFAULTS, "scheduler": "scheduler", "factor": 0.1, "patience": 5},
        source="seed",
    ),
    Technique(
        id="dropout",
        title="Dropout",
        when=(
            "The model fits the training data much better than the validation data, especially "
            "with wide fully connected layers."
        ),
        why=(
            "In training mode dropout zeroes each activation with probability p and scales the "
            "others by 1 / (1 - p), so no unit can count on another being present and the network "
            "learns redundant, more general features. It is off in eval mode, which is why "
            "model.eval() must come before validation. p=0.5 suits wide hidden layers; 0.1 to 0.3 "
            "is usual after convolutions and in small networks."
        ),
        template=mlp("nn.Dropout(p=$p)", "active under $model.train(), off under $model.eval()", False),
        defaults={**MLP_DEFAULTS, "p": 0.5},
        source="seed",
    ),
    Technique(
        id="batch-norm",
        title="Batch normalisation",
        when=(
            "A deeper network trains slowly or unstably, or is very sensitive to the learning "
            "rate and the initialisation."
        ),
        why=(
            "BatchNorm rescales each feature over the mini-batch to zero mean and unit variance, "
            "then applies a learned scale and shift. Later layers see inputs of a stable size, "
            "which tolerates larger learning rates, and the batch-to-batch noise regularises "
            "a little. It keeps running statistics for evaluation, so model.eval() matters, and in "
            "training it needs batches of more than one sample (16 or more works best)."
        ),
        template=mlp("nn.BatchNorm1d($hidden)", "BatchNorm2d(channels) after a Conv2d", True),
        defaults=dict(MLP_DEFAULTS),
        source="seed",
    ),
    Technique(
        id="weight-decay",
        title="Weight decay (L2 regularisation)",
        when="The model overfits, or nothing in the training setup regularises it.",
        why=(
            "Weight decay pulls every weight slightly toward zero at each step; with SGD this is "
            "the same as adding an L2 penalty on the weights to the loss. Smaller weights make a "
            "smoother function that is less able to memorise noise in the training set. With "
            "Adam-style optimizers the penalty gets tangled with the adaptive step sizes, so use "
            "AdamW there. Typical values: 1e-4 to 5e-4 for SGD, around 1e-2 for AdamW."
        ),
        template=(
            "import torch\n\n"
            "$optimizer = torch.optim.$decay_class(\n"
            "    $model.parameters(), lr=$lr$momentum_arg, weight_decay=$weight_decay\n"
            ")\n"
        ),
        defaults={"optimizer": "optimizer", "model": "model", "optimizer_class": "SGD"},
        source="seed",
        derive=derive_weight_decay,
    ),
    Technique(
        id="validation-split",
        title="Hold out validation and test splits",
        when=(
            "All the data is used for training, so nothing measures how the model does on examples "
            "it has not seen, and hyperparameters are chosen blind."
        ),
        why=(
            "A validation split shows overfitting as it happens (training loss falls while "
            "validation loss rises) and is where epochs, learning rate and regularisation get "
            "chosen. A separate test split, touched only at the end, gives an honest final score. "
            "Common proportions are 70-80% training, 10-20% validation and 10-20% test; stratifying "
            "keeps the class mix the same in each part."
        ),
        template=(
            "import torch\n"
            "from sklearn.model_selection import train_test_split\n"
            "from torch.utils.data import DataLoader, TensorDataset\n\n"
            "# Train / validation / test = $train_pct% / $val_pct% / $test_pct%, each with the same class mix\n"
            "# (drop stratify= for regression targets).\n"
            "X_train, X_rest, y_train, y_rest = train_test_split(\n"
            "    $features, $labels, test_size=$holdout, stratify=$labels, random_state=42\n"
            ")\n"
            "X_val, X_test, y_val, y_test = train_test_split(\n"
            "    X_rest, y_rest, test_size=$test_share, stratify=y_rest, random_state=42\n"
            ")\n\n\n"
            "def make_loader(X_part, y_part, shuffle):\n"
            "    part = TensorDataset(torch.as_tensor(X_part, dtype=torch.float32), torch.as_tensor(y_part))\n"
            "    return DataLoader(part, batch_size=$batch_size, shuffle=shuffle)\n\n\n"
            "$train_loader = make_loader(X_train, y_train, shuffle=True)\n"
            "$val_loader = make_loader(X_val, y_val, shuffle=False)  # choose epochs and hyperparameters here\n"
            "$test_loader = make_loader(X_test, y_test, shuffle=False)  # evaluate once, at the very end\n\n"
            "# Starting from a torch Dataset instead of arrays, this makes the same three parts\n"
            "# (without stratifying):\n"
            "# train_set, val_set, test_set = torch.utils.data.random_split(\n"
            "#     dataset, [$train_fraction, $val_part, $test_part], generator=torch.Generator().manual_seed(42)\n"
            "# )\n"
        ),
        defaults={
            "features": "X",
            "labels": "y",
            "val_fraction": 0.15,
            "test_fraction": 0.15,
            "batch_size": 32,
            "train_loader": "train_loader",
            "val_loader": "val_loader",
            "test_loader": "test_loader",
        },
        source="seed",
        derive=derive_validation_split,
    ),
    Technique(
        id="early-stopping",
        title="Early stopping on the validation loss",
        when=(
            "Validation loss reaches its best value and then rises while training loss keeps "
            "falling, or you do not know how many epochs to train."
        ),
        why=(
            "Once validation loss stops improving, further epochs mostly fit noise in the training "
            "set. Early stopping ends training after `patience` epochs without improvement and "
            "restores the weights from the best epoch, so the model you keep is the one that "
            "generalised best rather than the last one."
        ),
        template=(
            "import copy\n\n"
            "import torch\n\n\n"
            + EVALUATE
            + "\n\n"
            + TRAIN_ONE_EPOCH
            + "\n\n"
            "best_val_loss = float(\"inf\")\n"
            "best_state = copy.deepcopy($model.state_dict())\n"
            "epochs_without_improvement = 0\n\n"
            "for epoch in range($epochs):\n"
            "    train_one_epoch($model, $train_loader, $optimizer, $loss_name)\n"
            "    val_loss, val_acc = evaluate($model, $val_loader, $loss_name)\n"
            "    if val_loss < best_val_loss - $min_delta:\n"
            "        best_val_loss = val_loss\n"
            "        best_state = copy.deepcopy($model.state_dict())\n"
            "        epochs_without_improvement = 0\n"
            "    else:\n"
            "        epochs_without_improvement += 1\n"
            "        if epochs_without_improvement >= $patience:\n"
            "            print(f\"stopping at epoch {epoch}: best validation loss {best_val_loss:.4f}\")\n"
            "            break\n\n"
            "# Keep the weights of the best epoch, not of the last one.\n"
            "$model.load_state_dict(best_state)\n"
        ),
        defaults={**LOOP_DEFAULTS, "epochs": 100, "patience": 5, "min_delta": 0.0001},
        source="seed",
    ),
    Technique(
        id="data-augmentation",
        title="Data augmentation on the training set",
        when=(
            "The training set is small or the model overfits it; the inputs allow changes that "
            "keep the label true (a flipped cat is still a cat)."
        ),
        why=(
            "Random, label-preserving changes show the model a slightly different version of each "
            "example every epoch, so it cannot memorise exact inputs and must learn what stays "
            "constant. For images these are flips, small rotations and colour jitter; for "
            "standardised feature vectors, small Gaussian noise does the same job. Augment the "
            "training data only: validation and test data must stay as they are."
        ),
        template=image_and_features(IMAGE_AUGMENTATION, FEATURE_AUGMENTATION),
        variants={"image": IMAGE_AUGMENTATION, "features": FEATURE_AUGMENTATION},
        defaults={"train_loader": "train_loader", "degrees": 15, "brightness": 0.2, "noise_std": 0.05},
        source="seed",
    ),
    Technique(
        id="weighted-loss",
        title="Class-weighted loss",
        when=(
            "One class has far fewer examples than another and the model favours the majority "
            "(high accuracy, poor recall on the rare class)."
        ),
        why=(
            "An unweighted loss counts every example the same, so a model that mostly predicts the "
            "majority class already scores well. Weighting each class by the inverse of its "
            "frequency gives every class the same total weight, so the rare class's errors count "
            "as much as the common class's. Compute the weights from the training split only."
        ),
        template=(
            "import torch\n"
            "import torch.nn as nn\n\n"
            "# Weight of class c = n_samples / (n_classes * count_c);\n"
            "# $counts_note.\n"
            "class_weights = torch.tensor($weights, dtype=torch.float32)  # .to(device) on a GPU\n"
            "$loss_name = nn.CrossEntropyLoss(weight=class_weights)\n\n"
            "# A binary model with a single output logit and BCEWithLogitsLoss weights the positive\n"
            "# class instead: nn.BCEWithLogitsLoss(pos_weight=torch.tensor([$pos_weight]))\n"
        ),
        defaults={"loss_name": "criterion", "class_counts": None, "class_weights": None},
        source="seed",
        derive=derive_weighted_loss,
    ),
    Technique(
        id="weighted-sampler",
        title="Oversample rare classes with per-sample weights (WeightedRandomSampler)",
        when=(
            "Classes are imbalanced and you want every batch to hold the classes in about equal "
            "numbers, without changing the loss."
        ),
        why=(
            "WeightedRandomSampler draws dataset indices with probability proportional to the "
            "weight at that index, so it needs one weight per sample: each sample gets its class's "
            "inverse frequency. Handing it one weight per class instead makes it draw among indices "
            "0 to n_classes - 1, so every epoch sees only a handful of the first samples. Sampling "
            "with replacement repeats rare samples so that each epoch is balanced."
        ),
        template=(
            "import torch\n"
            "from torch.utils.data import DataLoader, WeightedRandomSampler\n\n"
            "labels = torch.as_tensor($labels)  # one class index per training sample\n"
            "class_counts = torch.bincount(labels)  # $counts_note\n"
            "class_weight = 1.0 / class_counts.float()  # one weight per class...\n"
            "sample_weights = class_weight[labels]  # ...looked up for every sample: one weight per sample\n"
            "sampler = WeightedRandomSampler(sample_weights, num_samples=len(sample_weights), replacement=True)\n"
            "# Not WeightedRandomSampler(class_weight, ...): with one weight per class it can only draw\n"
            "# the indices 0..n_classes-1, i.e. the first few samples, over and over.\n\n"
            "# $num_samples draws per epoch, the classes now about equally frequent. The sampler sets\n"
            "# the order, so the loader takes no shuffle=True (DataLoader rejects the two together).\n"
            "$train_loader = DataLoader($dataset, batch_size=$batch_size, sampler=sampler)\n"
        ),
        defaults={
            "labels": "y_train",
            "dataset": "train_dataset",
            "train_loader": "train_loader",
            "batch_size": 32,
            "class_counts": None,
            "num_samples": "len(sample_weights)",
        },
        source="seed",
        derive=derive_weighted_sampler,
    ),
    Technique(
        id="smote",
        title="SMOTE on the training split",
        when=(
            "Tabular features with a rare class, where repeating the same rare rows would make "
            "the model memorise them."
        ),
        why=(
            "SMOTE creates new minority-class rows by interpolating between a minority row and "
            "one of its nearest minority neighbours, so the rare class gets more varied examples "
            "than plain duplication gives. Resample after splitting and only the training part: "
            "synthetic rows made from validation or test rows would leak them into training and "
            "inflate every score."
        ),
        template=(
            "from imblearn.over_sampling import SMOTE\n"
            "from sklearn.model_selection import train_test_split\n\n"
            "# Split first; the validation/test rows stay real and untouched.\n"
            "X_train, X_test, y_train, y_test = train_test_split(\n"
            "    $features, $labels, test_size=$test_size, stratify=$labels, random_state=42\n"
            ")\n"
            "# k_neighbors must be smaller than the number of rare-class rows in X_train.\n"
            "smote = SMOTE(k_neighbors=$k_neighbors, random_state=42)\n"
            "X_train, y_train = smote.fit_resample(X_train, y_train)\n\n"
            "# With cross-validation, an imblearn Pipeline resamples inside each training fold only:\n"
            "# from imblearn.pipeline import make_pipeline\n"
            "# pipeline = make_pipeline(SMOTE(random_state=42), LogisticRegression(max_iter=1000))\n"
            "# cross_val_score(pipeline, X_train, y_train, cv=5)\n"
        ),
        defaults={"features": "X", "labels": "y", "test_size": 0.2, "k_neighbors": 5},
        source="seed",
    ),
]

# -- training practice ------------------------------------------------------------------------


def eval_block(eval_note: str, grad_note: str) -> str:
    return (
        "import torch\n\n"
        f"$model.eval()  # {eval_note}\n"
        f"with torch.no_grad():  # {grad_note}\n"
        "    for inputs, targets in $val_loader:\n"
        "        logits = $model(inputs)\n"
        "        ...  # add up the loss and the correct predictions\n"
        "$model.train()  # back to training behaviour before the next training batch\n"
    )


PRACTICE = [
    Technique(
        id="test-set-once",
        title="Choose on the validation split, test once",
        when=(
            "The test split guides decisions: it is evaluated every epoch, drives early stopping "
            "or checkpoint choice, or is compared across hyperparameter settings."
        ),
        why=(
            "Every choice made by looking at a split fits the model to that split a little. A test "
            "score that steered the choices is optimistic. Make the choices on a validation split "
            "and evaluate the test split once, when everything is fixed, so its score still "
            "estimates performance on new data."
        ),
        template=(
            "import torch\n\n\n"
            + EVALUATE
            + "\n\n"
            + TRAIN_ONE_EPOCH
            + "\n\n"
            "for epoch in range($epochs):\n"
            "    train_one_epoch($model, $train_loader, $optimizer, $loss_name)\n"
            "    val_loss, val_acc = evaluate($model, $val_loader, $loss_name)  # every choice is made here\n\n"
            "# Once, after training and tuning are finished:\n"
            "test_loss, test_acc = evaluate($model, $test_loader, $loss_name)\n"
            "print(f\"test loss {test_loss:.4f}, test accuracy {test_acc:.3f}\")\n"
        ),
        defaults={**LOOP_DEFAULTS, "test_loader": "test_loader"},
    ),
    Technique(
        id="fit-after-split",
        title="Fit preprocessing on the training split only",
        when=(
            "A scaler, encoder, imputer or feature selector is fitted on the full data set before "
            "it is split."
        ),
        why=(
            "Fitting learns statistics (means, variances, vocabularies, selected columns) from "
            "every row it sees. Fitted before the split, those statistics include the validation "
            "and test rows, so information about them leaks into training and their scores come "
            "out better than on truly new data. Split first, fit on the training part, and apply "
            "the fitted transform to the other parts."
        ),
        template=(
            "$scaler_import\n"
            "from sklearn.model_selection import train_test_split\n\n"
            "X_train, X_val, y_train, y_val = train_test_split(\n"
            "    $features, $labels, test_size=$test_size, stratify=$labels, random_state=42\n"
            ")\n"
            "$scaler = $scaler_name().fit(X_train)  # statistics from the training rows only\n"
            "X_train = $scaler.transform(X_train)\n"
            "X_val = $scaler.transform(X_val)  # reuse the training statistics; never refit here\n"
        ),
        defaults={
            "features": "X",
            "labels": "y",
            "test_size": 0.2,
            "scaler": "scaler",
            "scaler_class": "StandardScaler",
        },
        derive=derive_fit_after_split,
    ),
    Technique(
        id="clean-eval-transforms",
        title="Keep evaluation data un-augmented",
        when="Random augmentation (flips, crops, noise) is applied to validation or test data.",
        why=(
            "Augmentation is there to vary the training examples. Applied to evaluation data it "
            "makes the scores noisy from run to run and measures the model on inputs it will never "
            "get in use. Evaluation should see the data exactly as it comes, with only the "
            "deterministic steps (conversion, resizing, normalisation)."
        ),
        template=image_and_features(CLEAN_IMAGE_EVAL, CLEAN_FEATURE_EVAL),
        variants={"image": CLEAN_IMAGE_EVAL, "features": CLEAN_FEATURE_EVAL},
        defaults={
            "model": "model",
            "train_loader": "train_loader",
            "val_loader": "val_loader",
            "dataset_class": "datasets.CIFAR10",
            "train_transform": "train_transform",
            "val_fraction": 0.2,
            "noise_std": 0.05,
        },
    ),
    Technique(
        id="scheduler-order",
        title="Step the scheduler after the optimizer",
        when="scheduler.step() is called before optimizer.step().",
        why=(
            "Since PyTorch 1.1 a scheduler expects to be stepped after the optimizer. Stepping it "
            "first moves to the second learning rate before the first batch, so the schedule's "
            "first value is never used and every later one comes early; PyTorch warns about it."
        ),
        template=training_loop(after_epoch="$scheduler.step()  # after the epoch's optimizer steps"),
        defaults={**LOOP_DEFAULTS, "scheduler": "scheduler"},
    ),
    Technique(
        id="eval-mode",
        title="Switch to eval mode for evaluation",
        when="The model has dropout or batch norm and is evaluated without model.eval().",
        why=(
            "In training mode dropout keeps zeroing activations and batch norm normalises with the "
            "current batch and updates its running statistics. Evaluation in that mode gives "
            "noisy, pessimistic scores and silently changes the model. model.eval() switches both "
            "to their inference behaviour; model.train() switches back."
        ),
        template=eval_block(
            "dropout off; batch norm uses its running statistics",
            "no autograd graph while evaluating",
        ),
        defaults={"model": "model", "val_loader": "val_loader"},
    ),
    Technique(
        id="train-mode",
        title="Switch back to train mode before training",
        when=(
            "model.eval() is called for validation but model.train() is not called again before "
            "the next epoch's training."
        ),
        why=(
            "eval mode stays on until something switches it off. Training after the first "
            "validation then runs without dropout and with frozen batch-norm statistics, so the "
            "regularisation you configured quietly stops working. Call model.train() at the start "
            "of every training epoch."
        ),
        template=training_loop(train_note="every epoch: evaluation leaves the model in eval mode"),
        defaults=dict(LOOP_DEFAULTS),
    ),
    Technique(
        id="zero-grad",
        title="Clear gradients every batch",
        when="optimizer.zero_grad() is missing from the training loop, or called only once per epoch.",
        why=(
            "backward() adds into the .grad of each parameter rather than overwriting it. Without "
            "zero_grad() every step uses the sum of all previous batches' gradients, which grows "
            "without bound and makes the updates wrong and eventually unstable."
        ),
        template=training_loop(zero_grad_note="before backward(): gradients add up otherwise"),
        defaults=dict(LOOP_DEFAULTS),
    ),
    Technique(
        id="no-grad",
        title="Evaluate under torch.no_grad()",
        when="Validation or test batches run with autograd recording.",
        why=(
            "Outside no_grad() every forward pass builds the graph needed for backward, keeping "
            "all intermediate activations alive. For evaluation that graph is never used: it "
            "costs memory and time, and large validation sets can run out of memory. "
            "torch.inference_mode() is an even cheaper alternative."
        ),
        template=eval_block(
            "dropout and batch norm in inference behaviour",
            "or torch.inference_mode(): no graph is recorded",
        ),
        defaults={"model": "model", "val_loader": "val_loader"},
    ),
    Technique(
        id="raw-logits",
        title="Give the loss raw logits",
        when=(
            "The model ends in softmax (or sigmoid) and its output goes to CrossEntropyLoss (or "
            "BCEWithLogitsLoss)."
        ),
        why=(
            "CrossEntropyLoss applies log-softmax itself and BCEWithLogitsLoss applies the sigmoid "
            "itself, in a numerically stable combined form. Applying the activation first squashes "
            "the values twice: gradients shrink, training slows or stalls, and the loss can no "
            "longer reach its minimum. Return logits from the model and apply softmax only where "
            "you need probabilities."
        ),
        template=(
            "import torch.nn as nn\n\n"
            "# The last layer of $model returns raw scores (logits): no nn.Softmax or nn.Sigmoid after it.\n"
            "$loss_name = nn.CrossEntropyLoss()  # applies log-softmax itself\n"
            "# For one binary output: nn.BCEWithLogitsLoss(), which applies the sigmoid itself.\n\n"
            "logits = $model(inputs)\n"
            "loss = $loss_name(logits, targets)\n"
            "probabilities = logits.softmax(dim=1)  # only where you need probabilities, e.g. reports\n"
        ),
        defaults={"model": "model", "loss_name": "criterion"},
    ),
    Technique(
        id="shuffle-train",
        title="Shuffle the training loader",
        when="The training DataLoader is built without shuffle=True (and without a sampler).",
        why=(
            "Without shuffling, every epoch sees the batches in the same order, and data stored "
            "sorted by class gives batches of a single class. The gradient then swings from class "
            "to class and the model drifts toward whatever it saw last. Shuffling gives each batch "
            "a fair mix; evaluation loaders do not need it."
        ),
        template=(
            "from torch.utils.data import DataLoader\n\n"
            "$train_loader = DataLoader($dataset, batch_size=$batch_size, shuffle=True)  # new order every epoch\n"
            "$val_loader = DataLoader($val_dataset, batch_size=$batch_size, shuffle=False)  # order is irrelevant\n"
        ),
        defaults={
            "train_loader": "train_loader",
            "val_loader": "val_loader",
            "dataset": "train_dataset",
            "val_dataset": "val_dataset",
            "batch_size": 32,
        },
    ),
    Technique(
        id="gradient-clipping",
        title="Clip the gradient norm",
        when=(
            "Training a recurrent network, or the loss spikes or turns NaN after occasional huge "
            "gradients."
        ),
        why=(
            "clip_grad_norm_ rescales all gradients together whenever their combined norm exceeds "
            "max_norm, so one bad batch cannot throw the weights far away, while the direction of "
            "the step is kept. It must run after backward() has filled the gradients and before "
            "optimizer.step() uses them."
        ),
        template=(
            "import torch\n\n"
            + training_loop(
                after_backward=(
                    "torch.nn.utils.clip_grad_norm_($model.parameters(), max_norm=$max_norm)"
                    "  # between backward and step"
                )
            )
        ),
        defaults={**LOOP_DEFAULTS, "max_norm": 1.0},
    ),
    Technique(
        id="drop-last",
        title="Drop the incomplete last batch",
        when=(
            "A model with batch norm is trained on a dataset whose size is not a multiple of the "
            "batch size, so the last batch of each epoch holds only a few samples."
        ),
        why=(
            "Batch norm normalises with the mean and variance of the current batch. From one or two "
            "samples those statistics are noise (and a batch of one makes the variance zero, which "
            "BatchNorm1d refuses in training mode), and the running averages used at evaluation "
            "absorb that noise. drop_last=True skips the remainder batch; the skipped samples are "
            "different ones each epoch when the loader shuffles."
        ),
        template=(
            "from torch.utils.data import DataLoader\n\n"
            "# $dataset_size samples in batches of $batch_size leave a last batch of $remainder.\n"
            "$train_loader = DataLoader($dataset, batch_size=$batch_size, shuffle=True, drop_last=True)\n"
        ),
        defaults={"train_loader": "train_loader", "dataset": "train_dataset", "batch_size": 32,
                  "dataset_size": "N", "remainder": "a few"},
    ),
    Technique(
        id="optimize-all-parameters",
        title="Give the optimizer every trained parameter",
        when=(
            "Parts of the model receive gradients, but the optimizer was built from a subset of "
            "its parameters (one submodule, a list made before a layer was added)."
        ),
        why=(
            "optimizer.step() only updates the tensors in its parameter groups. Layers left out "
            "still take part in the forward and backward passes, and cost their compute, but keep "
            "their initial random weights for the whole run. Build the optimizer from "
            "model.parameters() after the model is complete, or add the missing module as its own "
            "parameter group when it needs a different learning rate."
        ),
        template=(
            "import torch\n\n"
            "# Every parameter of the finished model:\n"
            "$optimizer = torch.optim.$optimizer_class($model.parameters(), lr=$lr)\n\n"
            "# or, to train a part at its own rate, one group per part:\n"
            "# $optimizer = torch.optim.$optimizer_class([\n"
            "#     {\"params\": $model.backbone.parameters(), \"lr\": $lr / 10},\n"
            "#     {\"params\": $model.head.parameters()},\n"
            "# ], lr=$lr)\n"
        ),
        defaults={"optimizer": "optimizer", "optimizer_class": "Adam", "model": "model", "lr": 0.001},
    ),
    Technique(
        id="lower-learning-rate",
        title="Lower the learning rate, with a warm-up",
        when="The loss grows or becomes NaN within the first epochs.",
        why=(
            "A loss that climbs means the steps overshoot: each update lands further up the other "
            "side of the valley. A smaller learning rate shrinks the steps; a short warm-up starts "
            "smaller still while the weights and optimizer statistics are at their least reliable."
        ),
        template=(
            "import torch\n\n"
            "# Ten times lower than lr=$lr.\n"
            "$optimizer = torch.optim.$class_name($model.parameters(), lr=$new_lr)\n"
            "# Start at a tenth of that and reach it after $warmup_epochs epochs; call warmup.step()\n"
            "# once per epoch, after the epoch's optimizer steps.\n"
            "warmup = torch.optim.lr_scheduler.LinearLR($optimizer, start_factor=0.1, total_iters=$warmup_epochs)\n"
        ),
        defaults={
            "optimizer": "optimizer",
            "optimizer_class": "Adam",
            "model": "model",
            "lr": 0.001,
            "warmup_epochs": 5,
        },
        derive=derive_lower_learning_rate,
    ),
    Technique(
        id="check-data",
        title="Check the inputs and labels",
        when=(
            "The loss is NaN or infinite, or stays flat from the first epoch, which usually points "
            "at the data rather than the model."
        ),
        why=(
            "NaN or inf in the inputs spread to every weight after one step; labels outside "
            "0..n_classes-1 break the loss; unscaled features in the thousands saturate "
            "activations so the gradients vanish. Checking a few batches finds these in seconds, "
            "and anomaly detection names the operation that produced the first NaN."
        ),
        template=(
            "import torch\n\n\n"
            "def check_batch(inputs, targets, num_classes):\n"
            "    \"\"\"Fail fast on the data problems behind NaN or flat losses.\"\"\"\n"
            "    if not torch.isfinite(inputs).all():\n"
            "        raise ValueError(\"inputs contain NaN or inf\")\n"
            "    if targets.min() < 0 or targets.max() >= num_classes:\n"
            "        low, high = targets.min().item(), targets.max().item()\n"
            "        raise ValueError(f\"labels must lie in 0..{num_classes - 1}, got {low}..{high}\")\n"
            "    if inputs.abs().max() > 1e3:\n"
            "        print(\"large inputs: standardise the features (fit the scaler on the training split)\")\n\n\n"
            "torch.autograd.set_detect_anomaly(True)  # while debugging only: it slows training down\n"
            "for inputs, targets in $train_loader:\n"
            "    check_batch(inputs, targets, num_classes=$num_classes)\n"
            "    ...  # the usual training step\n"
        ),
        defaults={"train_loader": "train_loader", "num_classes": 10},
    ),
    Technique(
        id="fix-script",
        title="Make the script run on its own",
        when=(
            "trainlint could not use the script: it does not parse, or the probe could not finish "
            "running it."
        ),
        why=(
            "The static checks need a file Python can parse, and the probe runs the script as "
            "__main__ in a child process with the arguments you gave, under budgets for batches, "
            "epochs and time. A script that fails on its own, or only works when imported in a "
            "particular way, leaves nothing to measure. Reproduce the failure without trainlint, "
            "fix it, then check again."
        ),
        template=(
            "import sys\n\n\n"
            "# It failed with: $problem\n"
            "# Reproduce it without trainlint:  $command\n"
            "# fix what that reports, then run trainlint again.\n\n\n"
            "def main(argv):\n"
            "    ...  # build the data, model and optimizer, train, evaluate\n\n\n"
            "if __name__ == \"__main__\":\n"
            "    main(sys.argv[1:])\n"
        ),
        # ``error`` is the probe's failure, ``reason`` the static pass's (a syntax error).
        defaults={"script": "train.py", "args": "", "error": None, "reason": None},
        derive=derive_fix_script,
    ),
]

CATALOG: dict[str, Technique] = {t.id: t for t in SEED + PRACTICE}
