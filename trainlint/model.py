"""The data every part of trainlint exchanges: findings, their locations and fixes, the report.

Everything here is plain data that converts to and from JSON-safe dicts, so that reporters only
render and a recorded report or trace can be judged again without torch.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True)
class Location:
    """A place in the user's code. ``line`` and ``col`` are 1-based; ``cell`` is the 1-based
    notebook cell (lines then count within the cell), None for plain files."""

    path: str
    line: int = 1
    col: int = 1
    end_line: int | None = None
    end_col: int | None = None
    cell: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Location:
        return cls(**data)

    def display(self) -> str:
        """``path:line:col`` as ruff prints it; ``path:cell N:line:col`` for notebooks."""
        if self.cell is not None:
            return f"{self.path}:cell {self.cell}:{self.line}:{self.col}"
        return f"{self.path}:{self.line}:{self.col}"


@dataclass(frozen=True)
class FixRef:
    """A pointer at a technique of the fix catalog, with the values that fill its template
    (the user's variable names, counts, learning rates...)."""

    technique: str
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"technique": self.technique, "params": dict(self.params)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FixRef:
        return cls(technique=data["technique"], params=dict(data.get("params", {})))


@dataclass
class Finding:
    code: str
    name: str
    severity: Severity
    message: str
    location: Location
    evidence: dict[str, Any] = field(default_factory=dict)
    fixes: list[FixRef] = field(default_factory=list)
    # Which kinds of evidence support it: "static", "probe" or both once merged.
    sources: list[str] = field(default_factory=lambda: ["static"])

    def sort_key(self):
        loc = self.location
        return (loc.path, loc.cell or 0, loc.line, loc.col, self.code)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.value,
            "message": self.message,
            "location": self.location.to_dict(),
            "evidence": self.evidence,
            "fixes": [f.to_dict() for f in self.fixes],
            "sources": list(self.sources),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(
            code=data["code"],
            name=data["name"],
            severity=Severity(data["severity"]),
            message=data["message"],
            location=Location.from_dict(data["location"]),
            evidence=dict(data.get("evidence", {})),
            fixes=[FixRef.from_dict(f) for f in data.get("fixes", [])],
            sources=list(data.get("sources", ["static"])),
        )


@dataclass
class RuleCrash:
    """A rule that raised: recorded so the other rules' findings are kept."""

    code: str
    path: str | None
    error: str
    traceback: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SkippedRule:
    code: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Report:
    """Everything a reporter renders. ``trace`` is the probe's trace as a dict (None for a
    static-only run); reporters draw curves, histograms and the model table from it."""

    findings: list[Finding] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    rules_run: list[str] = field(default_factory=list)
    skipped: list[SkippedRule] = field(default_factory=list)
    crashes: list[RuleCrash] = field(default_factory=list)
    trace: dict[str, Any] | None = None
    run: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Severity}
        for f in self.findings:
            out[f.severity.value] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "findings": [f.to_dict() for f in self.findings],
            "files": list(self.files),
            "rules_run": list(self.rules_run),
            "skipped": [s.to_dict() for s in self.skipped],
            "crashes": [c.to_dict() for c in self.crashes],
            "counts": self.counts(),
            "trace": self.trace,
            "run": self.run,
        }
