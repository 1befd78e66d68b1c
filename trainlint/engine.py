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
from typing import Any, Iterable

from trainlint.config import Config, ConfigError
from trainlint.files import find_files, relative_posix
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
        for key in config.options:
            rule = self._by_code.get(key.upper()) or self._by_name.get(key)
            if rule is None:
                raise ConfigError(f"unknown rule `{key}` in options")
            self._options_for(rule)  # a misspelt option of an unselected rule is still a typo
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

    def severity_for(self, code: str):
        best = _most_specific(code, self.config.severity)
        return self.config.severity[best] if best is not None else None

    def ignored_in_file(self, code: str, path: str) -> bool:
        rel = relative_posix(path, self.config.root)
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


# -- running ---------------------------------------------------------------------------------


# Below this many files a process pool costs more than it saves.
PARALLEL_MIN_FILES = 24


def check(
    paths,
    config: Config | None = None,
    trace=None,
    *,
    rules: list[type[Rule]] | None = None,
    jobs: int | None = None,
) -> Report:
    """Check the files under ``paths`` statically, and judge ``trace`` (a probe Trace) when
    given. Paths that do not exist are listed in ``report.run["missing_paths"]``. ``jobs``
    caps the worker processes for many files (default: one per CPU; 1 checks in-process)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]  # check("train.py") from a notebook means the one file
    config = config or Config()
    plan = _plan(rules, config)
    found = find_files(paths, exclude=config.exclude, extend_exclude=config.extend_exclude, root=config.root)
    results = _check_paths(plan, found.files, jobs)
    script_facts = None
    if trace is not None and trace.script and os.path.isfile(trace.script):
        script_facts = _analyze(trace.script, display=_display_name(trace.script, found.files), crashes=[])
    report = _judge(plan, results, trace, script_facts)
    report.run.update(paths=[str(p) for p in paths], missing_paths=found.missing)
    return report


def judge_trace(trace, config: Config | None = None, facts=None, *, rules: list[type[Rule]] | None = None) -> Report:
    """Judge a probe trace; with ``facts`` (the traced script's FileFacts) the static checks of
    that file run too and agreeing findings merge. Used by the notebook API."""
    plan = _plan(rules, config or Config())
    results = [_check_facts(plan, _instances(plan), facts, [])] if facts is not None else []
    return _judge(plan, results, trace, facts)


def _plan(rules, config: Config) -> RulePlan:
    return RulePlan(rules if rules is not None else discover(), config)


def _instances(plan: RulePlan) -> dict[str, Rule]:
    return {r.code: r() for r in plan.rules}


def _analyze(path: str, display: str | None = None, *, crashes: list[RuleCrash]):
    from trainlint.static import analyze_path
    from trainlint.static.facts import FileFacts, ParseError

    shown = display or path
    try:
        return analyze_path(path, display_path=shown)
    except Exception as exc:  # a bug in the static pass: keep checking the other files
        crashes.append(_crash("static", shown, exc))
        return FileFacts(path=shown, parse_error=ParseError(f"trainlint could not analyse this file ({type(exc).__name__})"))


def _crash(code: str, path: str | None, exc: Exception) -> RuleCrash:
    import traceback  # only a crash needs it; keeps start-up lean

    return RuleCrash(code=code, path=path, error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())


class _FileResult:
    """One file's static outcome; plain data, so that worker processes can send it back."""

    def __init__(self, path: str, findings: list[Finding], suppressed: list[Finding], crashes: list[RuleCrash]):
        self.path = path
        self.findings = findings
        # Findings a noqa comment silenced: a probe finding merging into one is silenced too.
        self.suppressed = suppressed
        self.crashes = crashes


def _check_facts(plan: RulePlan, instances: dict[str, Rule], facts, crashes: list[RuleCrash]) -> _FileResult:
    suppressions = _FileSuppressions(facts)
    found: list[Finding] = []
    if not suppressions.skip_file:
        for code, rule in instances.items():
            if "static" in rule.evidence():
                ctx = StaticContext(rule=rule, options=plan.options[code], facts=facts)
                found += _run(crashes, rule, facts.path, lambda: rule.check_static(ctx))
    kept: list[Finding] = []
    silenced: list[Finding] = []
    for finding in found:
        (silenced if suppressions.suppresses(finding) else kept).append(finding)
    return _FileResult(facts.path, kept, silenced, crashes)


def _check_path(plan: RulePlan, instances: dict[str, Rule], path: str) -> _FileResult:
    crashes: list[RuleCrash] = []
    return _check_facts(plan, instances, _analyze(path, crashes=crashes), crashes)


# The plan a forked worker inherits; set just before the pool forks.
_WORKER_PLAN: RulePlan | None = None


def _check_path_in_worker(path: str) -> _FileResult:
    return _check_path(_WORKER_PLAN, _instances(_WORKER_PLAN), path)


def _check_paths(plan: RulePlan, paths: list[str], jobs: int | None) -> list[_FileResult]:
    workers = min(jobs or os.cpu_count() or 1, os.cpu_count() or 1, len(paths))
    if workers > 1 and len(paths) >= PARALLEL_MIN_FILES and _can_fork():
        import multiprocessing

        global _WORKER_PLAN
        _WORKER_PLAN = plan
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                return pool.map(_check_path_in_worker, paths, chunksize=max(1, len(paths) // (workers * 4)))
        except OSError:
            pass  # no processes to be had (limits, sandbox): check in this one
        finally:
            _WORKER_PLAN = None
    instances = _instances(plan)
    return [_check_path(plan, instances, path) for path in paths]


def _can_fork() -> bool:
    # Forking a process that runs other threads (a notebook with torch loaded) can deadlock
    # the child; only a single-threaded process, on a platform with fork, uses workers.
    import threading

    return threading.active_count() == 1 and hasattr(os, "fork") and sys.platform != "darwin"


def _display_name(path: str, checked: list[str]) -> str:
    """A checked file's name as the user gave it, else the path as the trace has it."""
    wanted = os.path.realpath(path)
    return next((c for c in checked if os.path.realpath(c) == wanted), path)


def _judge(plan: RulePlan, results: list[_FileResult], trace, script_facts) -> Report:
    report = Report(files=[r.path for r in results], rules_run=[r.code for r in plan.rules])
    instances = _instances(plan)
    findings: list[Finding] = []
    silenced: list[Finding] = []
    for result in results:
        findings += result.findings
        silenced += result.suppressed
        report.crashes += result.crashes

    probe_findings: list[Finding] = []
    if trace is not None:
        report.trace = trace.to_dict()
        by_path = {os.path.realpath(r.path): r.path for r in results}
        for code, rule in instances.items():
            if "trace" in rule.evidence():
                ctx = TraceContext(rule=rule, options=plan.options[code], trace=trace, facts=script_facts)
                produced = _run(report.crashes, rule, trace.script, lambda: rule.check_trace(ctx))
                probe_findings += [_with_known_path(f, by_path) for f in produced]

    _record_skips(report, instances, has_trace=trace is not None, has_facts=bool(results))
    findings += _merge(findings, silenced, probe_findings, _ProbeSuppressions(script_facts))
    kept = []
    for finding in findings:
        if plan.ignored_in_file(finding.code, finding.location.path):
            continue
        severity = plan.severity_for(finding.code)
        if severity is not None:
            finding.severity = severity
        kept.append(finding)
    report.findings = sorted(kept, key=Finding.sort_key)
    report.run.update(_run_info(report.trace, trace, plan.config))
    return report


def _run(crashes: list[RuleCrash], rule: Rule, path: str | None, produce) -> list[Finding]:
    try:
        return list(produce() or ())
    except Exception as exc:  # a broken rule must not cost the user the other rules' findings
        crashes.append(_crash(rule.code, path, exc))
        return []


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


def _merge(static: list[Finding], silenced: list[Finding], probe: list[Finding], noqa: _ProbeSuppressions) -> list[Finding]:
    """Fold each probe finding into the first static finding of its rule in the same file:
    the static location (it names the user's line), both sources, both evidences, fixes by
    technique with the probe's measured params winning; the probe's message goes into the
    evidence. A probe finding that joins a noqa-silenced static one is silenced with it.
    Returns the probe findings that stand alone."""
    first: dict[tuple[str, str], Finding] = {}
    for finding in sorted(static + silenced, key=Finding.sort_key):
        first.setdefault((finding.code, os.path.realpath(finding.location.path)), finding)
    alone = []
    for finding in probe:
        target = first.get((finding.code, os.path.realpath(finding.location.path)))
        if target is not None:
            _absorb(target, finding)
        elif not noqa.suppresses(finding):
            alone.append(finding)
    return alone


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


class _ProbeSuppressions:
    """noqa comments for probe findings, which may point at any line of the user's files:
    each file is read (statically) the first time a finding points into it."""

    def __init__(self, script_facts):
        self._by_path: dict[str, _FileSuppressions | None] = {}
        if script_facts is not None:
            self._by_path[os.path.realpath(script_facts.path)] = _FileSuppressions(script_facts)

    def suppresses(self, finding: Finding) -> bool:
        path = finding.location.path
        key = os.path.realpath(path)
        if key not in self._by_path:
            readable = os.path.isfile(path)
            self._by_path[key] = _FileSuppressions(_analyze(path, crashes=[])) if readable else None
        found = self._by_path[key]
        return found is not None and found.suppresses(finding)


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
