"""The probe: run a training script under the tracer in a child process and record a trace.

``trace.py`` (the format) and ``runner.py`` (the parent side) never import torch; only
``tracer.py`` and the child's ``bootstrap.py`` do.
"""

from trainlint.probe.runner import run_probe
from trainlint.probe.trace import Budgets, Trace, TraceError

__all__ = ["Budgets", "Trace", "TraceError", "run_probe"]
