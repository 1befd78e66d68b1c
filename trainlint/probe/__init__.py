"""The probe: run a training script under the tracer in a child process and record a trace.

``trace.py`` (the format) and ``runner.py`` (the parent side) never import torch; only
``tracer.py`` and the child's ``bootstrap.py`` do. The exports load lazily: trace rules import
``trainlint.probe.trace`` on every static run, which must not pull in the runner's subprocess
and threading machinery.
"""

from trainlint.probe.trace import Budgets, Trace, TraceError

__all__ = ["Budgets", "Trace", "TraceError", "run_probe"]


def __getattr__(name):
    if name == "run_probe":
        from trainlint.probe.runner import run_probe

        return run_probe
    raise AttributeError(f"module 'trainlint.probe' has no attribute {name!r}")
