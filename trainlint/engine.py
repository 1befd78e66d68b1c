"""Runs the rules over static facts and probe traces and assembles the Report.

The engine never names a rule: it discovers them, applies the user's selection (ruff's
semantics: codes, prefixes such as "TL4", "ALL"; the more specific selector wins, an ignore
wins a tie), runs each on the evidence it needs, isolates a rule that raises as a RuleCrash,
merges a rule's static and probe findings for the same file into one, and then applies
suppressions (``# noqa``, ``# trainlint: noqa``, per-file ignores) and severity overrides.
"""

from __future__ import annotations

import fnmatch
import os
import re
import sys
import traceback
from typing import Any, Iterable

from trainlint.config import Config, ConfigError
from trainlint.files import find_files
from trainlint.model import Finding, FixRef, Report, RuleCrash, SkippedRule
from trainlint.rule import Rule, StaticContext, TraceContext, discover

NEEDS_TRACE = "needs a probe trace: run with --probe"
NEEDS_SOURCE = "needs the script's source: the traced script was not analysed"

# "# noqa" or "# noqa: TL401, TL505" anywhere on the reported line.
NOQA_RE = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
# "# trainlint: noqa" (or "# trainlint: noqa: TL401") alone on a line: the whole file.
FILE_NOQA_RE = re.compile(
    r"^[ \t]*#[ \t]*trainlint:[ \t]*noqa(?::[ \t]*(?P<codes>[A-Z]+[0-9]+(?:[, \t]+[A-Z]+[0-9]+)*))?[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
CODE_RE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)


# -- selection -------------------------------------------------------------------------------


class RulePlan:
    """The rules a run uses, with their effective options, from a Config.

    Building it validates every selector, severity key and option against the known rules, so
    a typo in the settings is a clear error rather than a silently ignored line.
    """

    def __init__(self, rules: list[type[Rule]], config: Config):
        self.config = config
        self.all_rules = rules
        self._by_code = {r.code: r for r in rules}
        self._by_name = {r.name: r for r in rules}
        select = config.select if config.select is not None else ["ALL"]
        enabled = select + config.extend_select
        disabled = config.ignore + config.extend_ignore
        for selector in enabled + disabled:
            self._check_selector(selector, "selection")
        for selector in config.severity:
            self._check_selector(selector, "severity")
        for glob, selectors in config.per_file_ignores.items():
            for selector in selectors:
                self._check_selector(selector, f"per-file-ignores.{glob}")
        self.rules = [r for r in rules if _wins(r.code, enabled, disabled)]
        self.options = {r.code: self._options_for(r) for r in self.rules}

    def _check_selector(self, selector: str, where: str) -> None:
        if selector == "ALL" or any(code.startswith(selector) for code in self._by_code):
            return
        raise ConfigError(f"unknown rule code or prefix `{selector}` in {where}")

    def _options_for(self, rule: type[Rule]) -> dict[str, Any]:
        merged = dict(rule.options)
        for key in (rule.code, rule.name):
            for option, value in self.config.options.get(key, {}).items():
                if option not in rule.options:
                    known = ", ".join(sorted(rule.options)) or "none"
                    raise ConfigError(f"unknown option `{option}` for {rule.code} ({rule.name}); options: {known}")
                merged[option] = value
        return merged

    def validate_options(self) -> None:
        for key in self.config.options:
            rule = self._by_code.get(key.upper()) or self._by_name.get(key)
            if rule is None:
                raise ConfigError(f"unknown rule `{key}` in options")
            self._options_for(rule)

    def severity_for(self, code: str):
        best = _most_specific(code, self.config.severity)
        return self.config.severity[best] if best is not None else None

    def ignored_in_file(self, code: str, path: str) -> bool:
        rel = _relative(path, self.config.root)
        name = os.path.basename(path)
        for glob, selectors in self.config.per_file_ignores.items():
            if fnmatch.fnmatchcase(rel, glob) or fnmatch.fnmatchcase(name, glob):
                if _most_specific(code, selectors) is not None:
                    return True
        return False


def _matches(code: str, selector: str) -> bool:
    return selector == "ALL" or code.startswith(selector)


def _most_specific(code: str, selectors: Iterable[str]) -> str | None:
    best = None
    for selector in selectors:
        if _matches(code, selector) and (best is None or _specificity(selector) > _specificity(best)):
            best = selector
    return best


def _specificity(selector: str) -> int:
    return 0 if selector == "ALL" else len(selector)


def _wins(code: str, enabled: list[str], disabled: list[str]) -> bool:
    on = _most_specific(code, enabled)
    if on is None:
        return False
    off = _most_specific(code, disabled)
    return off is None or _specificity(on) > _specificity(off)


def _relative(path: str, root: str) -> str:
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
    return rel.replace(os.sep, "/")


# -- running ---------------------------------------------------------------------------------


def check(paths, config: Config | None = None, trace=None, *, rules: list[type[Rule]] | None = None) -> Report:
    """Check the files under ``paths`` statically, and judge ``trace`` (a probe Trace) when
    given. Paths that do not exist are listed in ``report.run["missing_paths"]``."""
    config = config or Config()
    plan = _plan(rules, config)
    found = find_files(paths, exclude=config.exclude, extend_exclude=config.extend_exclude, root=config.root)
    crashes: list[RuleCrash] = []
    facts = [_analyze(path, crashes) for path in found.files]
    report = _judge(plan, facts, trace)
    report.crashes[:0] = crashes
    report.run.update(paths=[str(p) for p in paths], missing_paths=found.missing)
    return report


def judge_trace(trace, config: Config | None = None, facts=None, *, rules: list[type[Rule]] | None = None) -> Report:
    """Judge a probe trace; with ``facts`` (the traced script's FileFacts) the static checks of
    that file run too and agreeing findings merge. Used by the notebook API."""
    config = config or Config()
    return _judge(_plan(rules, config), [facts] if facts is not None else [], trace)


def _plan(rules, config: Config) -> RulePlan:
    plan = RulePlan(rules if rules is not None else discover(), config)
    plan.validate_options()
    return plan


def _analyze(path: str, crashes: list[RuleCrash]):
    from trainlint.static import analyze_path
    from trainlint.static.facts import FileFacts, ParseError

    try:
        return analyze_path(path, display_path=path)
    except Exception as exc:  # a bug in the static pass: keep checking the other files
        crashes.append(
            RuleCrash(code="static", path=path, error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
        )
        return FileFacts(path=path, parse_error=ParseError(f"trainlint could not analyse this file ({type(exc).__name__})"))


def _judge(plan: RulePlan, all_facts: list, trace) -> Report:
    report = Report(files=[f.path for f in all_facts], rules_run=[r.code for r in plan.rules])
    instances = {r.code: r() for r in plan.rules}
    findings: list[Finding] = []
    suppressions = {f.path: _FileSuppressions(f) for f in all_facts}

    for facts in all_facts:
        if suppressions[facts.path].skip_file:
            continue
        for code, rule in instances.items():
            if "static" not in rule.evidence():
                continue
            ctx = StaticContext(rule=rule, options=plan.options[code], facts=facts)
            findings.extend(_run(report, rule, facts.path, lambda: rule.check_static(ctx)))

    if trace is not None:
        report.trace = trace.to_dict()
        script_facts = _facts_for(trace.script, all_facts)
        by_path = {os.path.realpath(f.path): f.path for f in all_facts}
        for code, rule in instances.items():
            if "trace" not in rule.evidence():
                continue
            ctx = TraceContext(rule=rule, options=plan.options[code], trace=trace, facts=script_facts)
            for finding in _run(report, rule, trace.script, lambda: rule.check_trace(ctx)):
                findings.append(_with_known_path(finding, by_path))

    _record_skips(report, instances, has_trace=trace is not None, has_facts=bool(all_facts))
    findings = _merge(findings)
    kept = []
    for finding in findings:
        path = finding.location.path
        if path in suppressions and suppressions[path].suppresses(finding):
            continue
        if plan.ignored_in_file(finding.code, path):
            continue
        severity = plan.severity_for(finding.code)
        if severity is not None:
            finding.severity = severity
        kept.append(finding)
    report.findings = sorted(kept, key=Finding.sort_key)
    report.run.update(_run_info(report.trace, trace, plan.config))
    return report


def _run(report: Report, rule: Rule, path: str | None, produce) -> list[Finding]:
    try:
        return list(produce() or ())
    except Exception as exc:  # a broken rule must not cost the user the other rules' findings
        report.crashes.append(
            RuleCrash(code=rule.code, path=path, error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
        )
        return []


def _facts_for(script: str | None, all_facts: list):
    if not script:
        return None
    wanted = os.path.realpath(script)
    for facts in all_facts:
        if os.path.realpath(facts.path) == wanted:
            return facts
    return None


def _with_known_path(finding: Finding, by_path: dict[str, str]) -> Finding:
    """Probe frames carry absolute paths; show a checked file under the name the user gave."""
    loc = finding.location
    known = by_path.get(os.path.realpath(loc.path))
    if known is not None and known != loc.path:
        finding.location = type(loc)(known, loc.line, loc.col, loc.end_line, loc.end_col, loc.cell)
    return finding


def _record_skips(report: Report, instances: dict[str, Rule], *, has_trace: bool, has_facts: bool) -> None:
    for code, rule in instances.items():
        evidence = rule.evidence()
        if evidence == {"trace"} and not has_trace:
            report.skipped.append(SkippedRule(code=code, reason=NEEDS_TRACE))
        elif evidence == {"static"} and not has_facts and has_trace:
            report.skipped.append(SkippedRule(code=code, reason=NEEDS_SOURCE))


def _merge(findings: list[Finding]) -> list[Finding]:
    """One finding per (code, file) when static and probe evidence agree: the static location
    (it names the user's line), both sources, both evidences, fixes by technique with the
    probe's measured params winning. The probe's own message is kept in the evidence."""
    static_first: dict[tuple[str, str], Finding] = {}
    for finding in sorted(findings, key=Finding.sort_key):
        if "static" in finding.sources:
            static_first.setdefault((finding.code, os.path.realpath(finding.location.path)), finding)
    out = []
    for finding in findings:
        if finding.sources == ["probe"]:
            target = static_first.get((finding.code, os.path.realpath(finding.location.path)))
            if target is not None:
                _absorb(target, finding)
                continue
        out.append(finding)
    return out


def _absorb(static: Finding, probe: Finding) -> None:
    if "probe" not in static.sources:
        static.sources = static.sources + ["probe"]
    static.evidence = {**static.evidence, **probe.evidence, "probe_message": probe.message}
    fixes: dict[str, FixRef] = {f.technique: f for f in static.fixes}
    for fix in probe.fixes:
        base = fixes.get(fix.technique)
        fixes[fix.technique] = FixRef(fix.technique, {**(base.params if base else {}), **fix.params})
    static.fixes = list(fixes.values())


class _FileSuppressions:
    """The ``# noqa`` comments of one file."""

    def __init__(self, facts):
        self.facts = facts
        self.skip_file = False
        self.file_codes: set[str] = set()
        for match in FILE_NOQA_RE.finditer(facts.text or ""):
            codes = match.group("codes")
            if codes is None:
                self.skip_file = True
            else:
                self.file_codes.update(c.upper() for c in CODE_RE.findall(codes))

    def suppresses(self, finding: Finding) -> bool:
        if self.skip_file or finding.code in self.file_codes:
            return True
        line = self.facts.line_text(finding.location)
        if not line or "noqa" not in line.lower():
            return False
        for match in NOQA_RE.finditer(line):
            codes = match.group("codes")
            if codes is None or finding.code in {c.upper() for c in CODE_RE.findall(codes)}:
                return True
        return False


def _run_info(trace_data: dict[str, Any] | None, trace, config: Config) -> dict[str, Any]:
    from trainlint import __version__

    info: dict[str, Any] = {
        "trainlint": __version__,
        "python": ".".join(map(str, sys.version_info[:3])),
        "platform": sys.platform,
        "config": config.path,
    }
    if trace is not None:
        info["budgets"] = ((trace_data or {}).get("run") or {}).get("budgets") or {
            "max_batches": config.max_batches,
            "max_epochs": config.max_epochs,
            "timeout_s": config.timeout,
        }
        info["script"] = trace.script
    return info
