"""The ``trainlint`` command line: ``check``, ``rule``, ``rules``.

Exit status, as ruff: 0 nothing found, 1 findings (of any severity, info included: a finding
the user did not want is better ignored in the config than silently passed), 2 a usage or
config error, a path that does not exist, or an internal error (a rule or the static pass
crashed: the findings of everything else are still printed, but the check was incomplete).
``--exit-zero`` turns 1 into 0, never 2.

Start-up time matters (pre-commit runs this on every commit): the probe, jinja2, json and the
reporters load only when a command needs them.
"""

from __future__ import annotations

import os
import sys

import click

from trainlint import __version__
from trainlint.config import ConfigError

FORMATS = ("concise", "full", "json", "github", "sarif", "html")
TEXT_FORMATS = ("concise", "full")
EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class Failure(Exception):
    """An error worth one line to the user (exit 2), never a traceback."""


def _error(message: str) -> None:
    click.echo(f"trainlint: error: {message}", err=True)


def _warning(message: str) -> None:
    click.echo(f"trainlint: warning: {message}", err=True)


def _use_color(stream) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    return hasattr(stream, "isatty") and stream.isatty()


def _selector_list(values) -> list[str] | None:
    """``--select TL4,TL501 --select TL6`` -> ["TL4", "TL501", "TL6"]; None when not given."""
    if not values:
        return None
    return [part.strip().upper() for value in values for part in value.split(",") if part.strip()]


class _CheckCommand(click.Command):
    """``check`` keeps what follows ``--`` apart: with --probe it is the script's argv,
    otherwise more paths (so a path may start with a dash)."""

    def parse_args(self, ctx, args):
        if "--" in args:
            cut = args.index("--")
            ctx.meta["after_dashdash"] = args[cut + 1 :]
            args = args[:cut]
        return super().parse_args(ctx, args)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="trainlint")
def cli() -> None:
    """trainlint: a linter for PyTorch training code."""


@cli.command(cls=_CheckCommand)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--select", multiple=True, help="Rule codes or prefixes to check (replaces the config's). ALL for every rule.")
@click.option("--ignore", multiple=True, help="Rule codes or prefixes not to check.")
@click.option("--extend-select", multiple=True, help="Rule codes or prefixes to add to the selection.")
@click.option("--output-format", type=click.Choice(FORMATS), default="concise", show_default=True)
@click.option("-o", "--output-file", type=click.Path(dir_okay=False), help="Write the output to this file.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False), help="Also write an HTML audit report here.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule instead of the findings.")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only: no summary, no probe progress.")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False), help="Settings file to use.")
@click.option("--isolated", is_flag=True, help="Ignore every configuration file.")
@click.option("--probe", is_flag=True, help="Also run the script under the tracer (args for it after --).")
@click.option("--max-batches", type=click.IntRange(min=1), help="Probe: batches per loader pass.")
@click.option("--max-epochs", type=click.IntRange(min=1), help="Probe: epochs before the run is stopped.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), help="Probe: wall-clock seconds.")
@click.option("--device", help="Probe: device for the run (e.g. cpu hides CUDA).")
@click.option("--trace-out", type=click.Path(dir_okay=False), help="Probe: save the recorded trace here.")
@click.option("--trace", "trace_file", type=click.Path(dir_okay=False), help="Judge a recorded trace file.")
@click.pass_context
def check(ctx, paths, **opts) -> None:
    """Check training scripts and notebooks (default: the current folder)."""
    try:
        code = _check(list(paths), ctx.meta.get("after_dashdash", []), opts)
    except (Failure, ConfigError) as exc:
        _error(str(exc))
        code = EXIT_ERROR
    ctx.exit(code)


def _check(paths: list[str], after_dashdash: list[str], opts) -> int:
    from trainlint import config as config_mod
    from trainlint import engine

    script_args: list[str] = []
    if opts["probe"]:
        script_args = after_dashdash
    else:
        paths += after_dashdash
    if opts["probe"] and opts["trace_file"]:
        raise Failure("--probe and --trace cannot be combined: record a trace, or judge one")
    if not opts["probe"]:
        used = [f"--{k.replace('_', '-')}" for k in ("max_batches", "max_epochs", "timeout", "device", "trace_out") if opts[k]]
        if used:
            raise Failure(f"{', '.join(used)} {'needs' if len(used) == 1 else 'need'} --probe")

    trace = None
    if opts["trace_file"]:
        trace = _load_trace(opts["trace_file"])
        if not paths and os.path.isfile(trace.script):
            paths = [trace.script]
    elif not paths:
        paths = ["."]

    config = config_mod.load(paths, config_file=opts["config_file"], isolated=opts["isolated"])
    config = config.with_overrides(
        select=_selector_list(opts["select"]),
        ignore=_selector_list(opts["ignore"]),
        extend_select=_selector_list(opts["extend_select"]),
        max_batches=opts["max_batches"],
        max_epochs=opts["max_epochs"],
        timeout=opts["timeout"],
    )
    if opts["probe"]:
        trace = _probe(paths, script_args, config, opts)

    report = engine.check(paths, config, trace)
    for missing in report.run.get("missing_paths", []):
        _error(f"path does not exist: {missing}")
    if not report.files and trace is None and not report.run.get("missing_paths") and not opts["quiet"]:
        _warning(f"no .py or .ipynb files found in {', '.join(paths)}")
    _emit(report, opts)
    for crash in report.crashes:
        where = f" on {crash.path}" if crash.path else ""
        what = "the static analysis" if crash.code == "static" else f"rule {crash.code}"
        _warning(f"{what} crashed{where}: {crash.error} (traceback in --output-format json)")

    if report.crashes or report.run.get("missing_paths"):
        return EXIT_ERROR
    if report.findings and not opts["exit_zero"]:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _load_trace(path: str):
    from trainlint.probe.trace import Trace, TraceError

    try:
        return Trace.load(path)
    except TraceError as exc:
        raise Failure(str(exc)) from None


def _probe(paths: list[str], script_args: list[str], config, opts):
    if len(paths) != 1 or os.path.isdir(paths[0]):
        raise Failure("--probe takes exactly one script file (its arguments go after --)")
    if not os.path.exists(paths[0]):
        raise Failure(f"path does not exist: {paths[0]}")
    from trainlint.probe import Budgets
    from trainlint.probe.runner import ProbeError, run_probe

    limits = {"max_batches": config.max_batches, "max_epochs": config.max_epochs, "timeout_s": config.timeout}
    budgets = Budgets(**{k: v for k, v in limits.items() if v is not None})
    try:
        trace = run_probe(paths[0], script_args, budgets, device=opts["device"], quiet=opts["quiet"])
    except ProbeError as exc:
        raise Failure(str(exc)) from None
    if opts["trace_out"]:
        try:
            trace.save(opts["trace_out"])
        except OSError as exc:
            raise Failure(f"cannot write trace to {opts['trace_out']}: {exc.strerror}") from None
    return trace


def _emit(report, opts) -> None:
    from trainlint import reporters

    fmt = opts["output_format"]
    out_path = opts["output_file"]
    stream = sys.stdout
    color = out_path is None and fmt in TEXT_FORMATS and _use_color(stream)
    if opts["statistics"]:
        text = _statistics(report)
    else:
        render_opts = {"color": color} if fmt in TEXT_FORMATS else {}
        text = reporters.render(report, fmt, **render_opts)
    summary = None if opts["quiet"] else _summary(report, color)
    if summary and (fmt in TEXT_FORMATS or opts["statistics"]):
        # As ruff: a human-readable format ends with its summary line.
        text = text.rstrip("\n") + ("\n" if text.strip() else "") + summary + "\n"
        summary = None
    if out_path:
        _write(out_path, text)
    else:
        click.echo(text, nl=not text.endswith("\n"))
    if summary:
        click.echo(summary, err=True)  # keeps machine-readable stdout parseable
    if opts["html_path"]:
        _write(opts["html_path"], reporters.render(report, "html"))
        if not opts["quiet"]:
            click.echo(f"Wrote the HTML audit report to {opts['html_path']}", err=True)


def _write(path: str, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise Failure(f"cannot write {path}: {exc.strerror}") from None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _summary(report, color: bool) -> str:
    if not report.findings and (report.run.get("missing_paths") or report.crashes):
        # Something was not checked: "All checks passed!" would be a false all-clear.
        return "No findings in what was checked."
    if not report.findings:
        line = "All checks passed!"
        return click.style(line, fg="green", bold=True) if color else line
    counts = report.counts()
    # "info" is uncountable: "2 errors, 1 warning, 3 info".
    parts = [_plural(counts[s], s) if s != "info" else f"{counts[s]} info" for s in ("error", "warning", "info") if counts[s]]
    return f"Found {_plural(len(report.findings), 'finding')} ({', '.join(parts)})."


def _statistics(report) -> str:
    by_code: dict[str, list] = {}
    for finding in report.findings:
        by_code.setdefault(finding.code, []).append(finding)
    rows = sorted(by_code.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    width = max((len(str(len(v))) for _, v in rows), default=1)
    return "".join(
        f"{len(found):>{width}}\t{code}\t{found[0].name}\t{found[0].severity.value}\n" for code, found in rows
    )


# -- rule documentation ----------------------------------------------------------------------


def _rules():
    from trainlint.rule import discover

    return discover()


@cli.command("rule")
@click.argument("code_or_name")
def rule_cmd(code_or_name: str) -> None:
    """Explain one rule: what it checks, why, examples, options and the fixes it suggests."""
    wanted = code_or_name.strip()
    for rule in _rules():
        if rule.code == wanted.upper() or rule.name == wanted.lower():
            click.echo(_describe(rule))
            return
    _error(f"unknown rule `{code_or_name}` (see `trainlint rules`)")
    sys.exit(EXIT_ERROR)


def _describe(rule) -> str:
    from trainlint import catalog
    from trainlint.model import FixRef

    lines = [
        f"# {rule.code} {rule.name}",
        "",
        f"Default severity: {rule.severity.value}",
        f"Evidence: {', '.join(sorted(rule.evidence())) or 'none'}",
    ]
    if rule.options:
        lines.append("Options (under [tool.trainlint.options." + rule.code + "]):")
        lines += [f"  {name} = {value!r}" for name, value in rule.options.items()]
    else:
        lines.append("Options: none")
    lines += ["", rule.doc()]
    if rule.techniques:
        lines += ["", "## Fixes it suggests"]
        for technique in rule.techniques:
            fix = catalog.render(FixRef(technique))
            lines += ["", f"### {fix.title} ({fix.technique_id})", "", fix.when, "", fix.why]
            lines += ["", "```python", fix.code.rstrip(), "```"]
    return "\n".join(lines)


@cli.command("rules")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def rules_cmd(output_format: str) -> None:
    """List every rule: code, name, default severity, evidence and summary."""
    rows = [
        {
            "code": r.code,
            "name": r.name,
            "severity": r.severity.value,
            "evidence": sorted(r.evidence()),
            "summary": r.summary(),
        }
        for r in _rules()
    ]
    if output_format == "json":
        import json

        click.echo(json.dumps(rows, indent=2))
        return
    name_w = max((len(r["name"]) for r in rows), default=4)
    for r in rows:
        click.echo(f"{r['code']}  {r['name']:<{name_w}}  {r['severity']:<7}  {'+'.join(r['evidence']):<12}  {r['summary']}")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: never lets a traceback reach the user."""
    try:
        cli.main(args=argv, prog_name="trainlint")
    except Exception as exc:  # click handles its own errors; anything else is a trainlint bug
        _error(f"internal error: {type(exc).__name__}: {exc}")
        sys.exit(EXIT_ERROR)
