"""The rule API: what a check in ``trainlint.rules`` subclasses, and how the engine finds them.

A rule is one class with a code, a kebab-case name, a default severity, options with defaults,
the catalog techniques it suggests, and a docstring with the fixed sections

    ## What it does / ## Why is this bad? / ## Example / ## Use instead / ## Fix safety

It implements ``check_static`` (per file, reads the static facts), ``check_trace`` (per probe
run, reads the trace), or both. When both report the same code for the same file the engine
merges them into one finding that carries both kinds of evidence.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Iterable

from trainlint.model import Finding, FixRef, Location, Severity

if TYPE_CHECKING:  # pragma: no cover
    from trainlint.probe.trace import Trace
    from trainlint.static.facts import FileFacts


CODE_RE = re.compile(r"^TL\d{3}$")
NAME_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
SECTION_RE = re.compile(r"^## (.+?)\s*$", re.MULTILINE)
CODE_BLOCK_RE = re.compile(r"```(?:python|py)?\n(.*?)```", re.DOTALL)
REQUIRED_SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead")


class Rule:
    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    severity: ClassVar[Severity] = Severity.WARNING
    # Options a user may set under [tool.trainlint.options.<code or name>]; values here are defaults.
    options: ClassVar[dict[str, Any]] = {}
    # Catalog techniques this rule suggests (ids from trainlint.catalog).
    techniques: ClassVar[tuple[str, ...]] = ()

    def check_static(self, ctx: StaticContext) -> Iterable[Finding]:
        return ()

    def check_trace(self, ctx: TraceContext) -> Iterable[Finding]:
        return ()

    # -- introspection used by the engine, `trainlint rule`, SARIF and the HTML report --------

    @classmethod
    def evidence(cls) -> frozenset[str]:
        """Which evidence the rule reads: "static", "trace" or both (from what it overrides)."""
        kinds = set()
        if cls.check_static is not Rule.check_static:
            kinds.add("static")
        if cls.check_trace is not Rule.check_trace:
            kinds.add("trace")
        return frozenset(kinds)

    @classmethod
    def doc(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def sections(cls) -> dict[str, str]:
        """The docstring split at its ``## Heading`` lines."""
        text = cls.doc()
        parts = SECTION_RE.split(text)
        # parts = [preamble, title1, body1, title2, body2, ...]
        return {parts[i].strip(): parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}

    @classmethod
    def summary(cls) -> str:
        """First sentence of "What it does", used as SARIF shortDescription and in rule tables."""
        what = cls.sections().get("What it does", "")
        first = re.split(r"(?<=[.!?])\s", " ".join(what.split()), maxsplit=1)[0]
        return first

    @classmethod
    def examples(cls) -> tuple[list[str], list[str]]:
        """(bad, good) code snippets from the Example and Use instead sections."""
        secs = cls.sections()
        # dedent, not cleandoc: cleandoc would strip the indentation of a block's second line.
        bad = [textwrap.dedent(b) for b in CODE_BLOCK_RE.findall(secs.get("Example", ""))]
        good = [textwrap.dedent(b) for b in CODE_BLOCK_RE.findall(secs.get("Use instead", ""))]
        return bad, good


@dataclass
class _Context:
    rule: Rule
    options: dict[str, Any] = field(default_factory=dict)
    # "static" or "probe": which kind of evidence the findings made here rest on.
    source: ClassVar[str] = ""

    def finding(
        self,
        at: Any,
        message: str,
        *,
        evidence: dict[str, Any] | None = None,
        fixes: list[FixRef] | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        """A finding of this context's rule at ``at`` (see ``locate`` for what ``at`` may be)."""
        return Finding(
            code=self.rule.code,
            name=self.rule.name,
            severity=severity or self.rule.severity,
            message=message,
            location=self.locate(at),
            evidence=dict(evidence or {}),
            fixes=list(fixes or []),
            sources=[self.source],
        )

    def locate(self, at: Any) -> Location:
        raise NotImplementedError


@dataclass
class StaticContext(_Context):
    """What a static check sees: one file's facts and the rule's effective options."""

    facts: FileFacts | None = None
    source: ClassVar[str] = "static"

    def locate(self, at: Any) -> Location:
        """An ast node, anything with ``lineno``/``col_offset``, a line number, or a Location."""
        return self.facts.location_of(at)


@dataclass
class TraceContext(_Context):
    """What a trace check sees: the probe's trace, and the static facts of the probed script
    when it was also analysed (None for a recorded trace of a script not on disk)."""

    trace: Trace | None = None
    facts: FileFacts | None = None
    source: ClassVar[str] = "probe"

    def locate(self, at: Any) -> Location:
        """A Location, a trace frame dict ``{"path", "line"}``, an ast node of the analysed
        script, or None for the probed script's first line."""
        if isinstance(at, Location):
            return at
        if isinstance(at, dict) and "path" in at:
            return Location(path=at["path"], line=int(at.get("line") or 1), col=1)
        if at is not None and self.facts is not None:
            return self.facts.location_of(at)
        return Location(path=self.trace.script if self.trace else "<probe>", line=1, col=1)


def discover(package: str = "trainlint.rules") -> list[type[Rule]]:
    """Every Rule subclass defined in the modules of ``package``, sorted by code.

    The engine never names a rule: adding a module under rules/ is enough.
    """
    pkg = importlib.import_module(package)
    found: dict[str, type[Rule]] = {}
    for info in pkgutil.iter_modules(pkg.__path__, prefix=package + "."):
        if info.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if inspect.isclass(obj) and issubclass(obj, Rule) and obj is not Rule and obj.code:
                if obj.__module__ != module.__name__:
                    continue  # imported helper base classes, not defined here
                if obj.code in found and found[obj.code] is not obj:
                    raise RuntimeError(f"two rules share code {obj.code}: {found[obj.code]} and {obj}")
                found[obj.code] = obj
    return [found[c] for c in sorted(found)]
