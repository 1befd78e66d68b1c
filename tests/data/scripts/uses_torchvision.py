"""Imports torchvision, which may not be installed where the probe runs."""

import torch
import torchvision  # noqa: F401

print("torchvision", torchvision.__version__, "torch", torch.__version__)
