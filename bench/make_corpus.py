"""Generate a corpus of realistic training scripts for the static-speed benchmark.

Sources: every ``.py`` fixture under fixtures/ (tutorial, course, research and old-PyTorch
styles written by the team) and the script templates below. Each output file is one of them
with its names and numbers varied and, for some, its top-level code moved into ``main()``,
so the corpus is not one file repeated. Only files that still parse are written.

    python bench/make_corpus.py [OUT_DIR] [--count N]
"""

from __future__ import annotations

import argparse
import ast
import random
import re
import sys
import tempfile
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Variable names real scripts use for the same things; a variant swaps them consistently.
RENAMES = {
    "model": ["net", "classifier", "network", "clf_model"],
    "optimizer": ["opt", "optim_", "sgd_opt", "adam"],
    "criterion": ["loss_fn", "loss_func", "objective"],
    "train_loader": ["trainloader", "train_dl", "dl_train"],
    "val_loader": ["valloader", "val_dl", "dl_valid"],
    "test_loader": ["testloader", "test_dl", "dl_test"],
    "epoch": ["ep", "e", "epoch_idx"],
    "scheduler": ["sched", "lr_scheduler_", "lr_sched"],
}
NUMBER_RE = re.compile(r"(?<![\w.])(0\.\d+|[1-9]\d{0,3})(?![\w.])")

TEMPLATES = [
    '''
    """Image classifier on generated 28x28 data, tutorial style."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from torch.utils.data import DataLoader, TensorDataset, random_split

    images = torch.randn(3000, 1, 28, 28)
    targets = torch.randint(0, 10, (3000,))
    full = TensorDataset(images, targets)
    train_part, val_part = random_split(full, [2400, 600], generator=torch.Generator().manual_seed(0))
    train_loader = DataLoader(train_part, batch_size=64, shuffle=True)
    val_loader = DataLoader(val_part, batch_size=256)


    class SmallCNN(nn.Module):
        def __init__(self, classes=10):
            super().__init__()
            self.conv = nn.Conv2d(1, 16, 3, padding=1)
            self.bn = nn.BatchNorm2d(16)
            self.drop = nn.Dropout(0.3)
            self.head = nn.Linear(16 * 14 * 14, classes)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)
            return self.head(self.drop(torch.flatten(x, 1)))


    model = SmallCNN()
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.1)

    for epoch in range(30):
        model.train()
        for xb, yb in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
        scheduler.step()
        model.eval()
        correct = 0
        with torch.no_grad():
            for xb, yb in val_loader:
                correct += (model(xb).argmax(1) == yb).sum().item()
        print(epoch, correct / len(val_part))
    ''',
    '''
    """Tabular model with scikit-learn preprocessing, course-notebook style."""
    import numpy as np
    import torch
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_rest, y_train, y_rest = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    X_val, X_test, y_val, y_test = train_test_split(X_rest, y_rest, test_size=0.5, stratify=y_rest, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_val, X_test = (torch.tensor(scaler.transform(a), dtype=torch.float32) for a in (X_train, X_val, X_test))
    y_train = torch.tensor(y_train, dtype=torch.float32)

    model = torch.nn.Sequential(torch.nn.Linear(30, 32), torch.nn.ReLU(), torch.nn.Dropout(0.2), torch.nn.Linear(32, 1))
    criterion = torch.nn.BCEWithLogitsLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.001, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=3)

    best = np.inf
    for epoch in range(200):
        model.train()
        optimizer.zero_grad()
        loss = criterion(model(X_train).squeeze(1), y_train)
        loss.backward()
        optimizer.step()
        model.eval()
        with torch.no_grad():
            val_loss = criterion(model(X_val).squeeze(1), torch.tensor(y_val, dtype=torch.float32)).item()
        scheduler.step(val_loss)
        if val_loss < best:
            best = val_loss
            torch.save(model.state_dict(), "best.pt")
    ''',
    '''
    """Research-style trainer class with argparse settings and a recurrent model."""
    import argparse

    import torch
    from torch import nn, optim
    from torch.utils.data import DataLoader, TensorDataset


    def get_args():
        parser = argparse.ArgumentParser()
        parser.add_argument("--epochs", type=int, default=20)
        parser.add_argument("--lr", type=float, default=0.001)
        parser.add_argument("--batch-size", type=int, default=32)
        parser.add_argument("--clip", type=float, default=1.0)
        return parser.parse_args()


    class SequenceModel(nn.Module):
        def __init__(self, vocab=100, hidden=64):
            super().__init__()
            self.embed = nn.Embedding(vocab, hidden)
            self.rnn = nn.LSTM(hidden, hidden, batch_first=True)
            self.out = nn.Linear(hidden, 2)

        def forward(self, tokens):
            out, _ = self.rnn(self.embed(tokens))
            return self.out(out[:, -1])


    class Trainer:
        def __init__(self, model, loader, val_loader, args):
            self.model = model
            self.loader = loader
            self.val_loader = val_loader
            self.args = args
            self.optimizer = optim.Adam(model.parameters(), lr=args.lr)
            self.scheduler = optim.lr_scheduler.CosineAnnealingLR(self.optimizer, T_max=args.epochs)
            self.criterion = nn.CrossEntropyLoss()

        def train_epoch(self):
            self.model.train()
            for tokens, labels in self.loader:
                self.optimizer.zero_grad()
                loss = self.criterion(self.model(tokens), labels)
                loss.backward()
                nn.utils.clip_grad_norm_(self.model.parameters(), self.args.clip)
                self.optimizer.step()
            self.scheduler.step()

        @torch.no_grad()
        def evaluate(self):
            self.model.eval()
            return sum((self.model(t).argmax(1) == l).sum().item() for t, l in self.val_loader)

        def fit(self):
            for epoch in range(self.args.epochs):
                self.train_epoch()
                print(epoch, self.evaluate())


    def main():
        args = get_args()
        tokens = torch.randint(0, 100, (1000, 20))
        labels = torch.randint(0, 2, (1000,))
        train = DataLoader(TensorDataset(tokens[:800], labels[:800]), batch_size=args.batch_size, shuffle=True)
        val = DataLoader(TensorDataset(tokens[800:], labels[800:]), batch_size=128)
        Trainer(SequenceModel(), train, val, args).fit()


    if __name__ == "__main__":
        main()
    ''',
    '''
    """Old-style script (Variable, volatile, loss.data[0]) with a test loader only."""
    import torch
    import torch.nn as nn
    import torch.optim as optim
    from torch.autograd import Variable
    from torch.utils.data import DataLoader, TensorDataset

    train_data = TensorDataset(torch.randn(500, 20), torch.randint(0, 3, (500,)))
    test_data = TensorDataset(torch.randn(100, 20), torch.randint(0, 3, (100,)))
    train_loader = DataLoader(train_data, batch_size=50, shuffle=True)
    test_loader = DataLoader(test_data, batch_size=50)

    model = nn.Sequential(nn.Linear(20, 50), nn.ReLU(), nn.Linear(50, 3))
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.01)

    for epoch in range(10):
        for i, (inputs, labels) in enumerate(train_loader):
            inputs, labels = Variable(inputs), Variable(labels)
            optimizer.zero_grad()
            outputs = model(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            if i % 5 == 0:
                print(epoch, i, loss.data[0])
        correct = 0
        for inputs, labels in test_loader:
            outputs = model(Variable(inputs, volatile=True))
            correct += (outputs.data.max(1)[1] == labels).sum()
        print("test accuracy", correct / len(test_data))
    ''',
]


def sources() -> list[tuple[str, str]]:
    found = [(p.name, p.read_text(encoding="utf-8")) for p in sorted((REPO / "fixtures").rglob("*.py"))]
    found += [(f"template_{i}.py", textwrap.dedent(t).lstrip()) for i, t in enumerate(TEMPLATES)]
    return found


def vary(text: str, rng: random.Random) -> str:
    for name, choices in RENAMES.items():
        if rng.random() < 0.6:
            text = re.sub(rf"\b{name}\b", rng.choice(choices), text)
    text = NUMBER_RE.sub(lambda m: _nudge(m.group(0), rng), text)
    if rng.random() < 0.4:
        text = _into_main(text)
    return text


def _nudge(number: str, rng: random.Random) -> str:
    if rng.random() < 0.7:
        return number
    if "." in number:
        return repr(round(float(number) * rng.choice((0.5, 2.0, 3.0)), 6))
    return str(max(1, int(number) * rng.choice((1, 2, 3)) // rng.choice((1, 2))))


def _into_main(text: str) -> str:
    """Move the statements after the imports into ``def main()``, as many scripts are laid out."""
    lines = text.splitlines()
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return text
    body = [n for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom, ast.Expr))]
    if not body or any(isinstance(n, (ast.FunctionDef, ast.ClassDef)) for n in body):
        return text
    start = body[0].lineno - 1
    indented = ["    " + line if line.strip() else line for line in lines[start:]]
    return "\n".join(lines[:start] + ["", "def main():"] + indented + ["", 'if __name__ == "__main__":', "    main()", ""])


def make_corpus(out_dir: Path, count: int = 240, seed: int = 0) -> list[Path]:
    rng = random.Random(seed)
    pool = sources()
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    attempt = 0
    while len(written) < count:
        name, text = pool[attempt % len(pool)]
        attempt += 1
        variant = vary(text, rng)
        try:
            ast.parse(variant)
        except SyntaxError:
            continue  # the intentionally broken fixtures, and renames that collide with syntax
        path = out_dir / f"{len(written):04d}_{name}"
        path.write_text(variant, encoding="utf-8")
        written.append(path)
        if attempt > count * 10:
            raise SystemExit("could not generate enough parseable scripts")
    return written


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", help="where to write (default: a new temp dir)")
    parser.add_argument("--count", type=int, default=240)
    args = parser.parse_args(argv)
    out = Path(args.out_dir or tempfile.mkdtemp(prefix="trainlint-corpus-"))
    files = make_corpus(out, args.count)
    lines = sum(p.read_text(encoding="utf-8").count("\n") for p in files)
    print(f"{len(files)} files, {lines} lines in {out}", file=sys.stderr)
    print(out)


if __name__ == "__main__":
    main()
