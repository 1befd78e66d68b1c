"""A training script trainlint must read but never run: running or importing it leaves a mark."""
import os

import never_run_helper  # noqa: F401  (importing it is the proof trainlint executed user code)
import torch
import torch.nn as nn

with open(os.environ.get("TRAINLINT_EXECUTED_MARK", "trainlint-executed-user-code"), "w") as fh:
    fh.write("train.py was executed\n")
raise SystemExit("trainlint executed a user script")

model = nn.Linear(8, 2)
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
