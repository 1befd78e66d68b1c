"""trainlint: a linter for PyTorch training code.

The static path (``trainlint check``) never imports torch or the user's code. The probe and the
Python API (``trainlint.audit``, ``trainlint.trace``) import torch lazily, only when called.
"""

from trainlint.model import Finding, FixRef, Location, Report, Severity
from trainlint.rule import Rule, StaticContext, TraceContext

__version__ = "0.1.0"

__all__ = [
    "Finding",
    "FixRef",
    "Location",
    "Report",
    "Rule",
    "Severity",
    "StaticContext",
    "TraceContext",
    "__version__",
    "audit",
    "trace",
]


def __getattr__(name):
    # The API pulls in torch; load it only when a notebook user asks for it.
    if name in ("audit", "trace"):
        from trainlint import api

        return getattr(api, name)
    raise AttributeError(f"module 'trainlint' has no attribute {name!r}")
