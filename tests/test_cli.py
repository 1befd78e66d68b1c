"""``trainlint`` as a user runs it: output formats, summary, exit codes, selection flags, the
rule documentation commands, colour, crash reporting and the probe hand-off."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from expectations import FIXTURES, REPO
from trainlint import __version__, engine
from trainlint.cli import cli
from trainlint.config import Config
from trainlint.rule import Rule, discover

BROKEN = "import torch\nfor epoch in range(3)\n    pass\n"
CLEAN = "import torch\n\nmodel = torch.nn.Linear(4, 2)\n"


def run(*args, cwd, env=None):
    return subprocess.run(
        [sys.executable, "-m", "trainlint", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=dict(os.environ, **(env or {})),
    )


@pytest.fixture
def project(tmp_path):
    (tmp_path / "a_broken.py").write_text(BROKEN)
    (tmp_path / "b_broken.py").write_text("x = 1\n\ndef f(:\n    pass\n")
    (tmp_path / "clean.py").write_text(CLEAN)
    return tmp_path


def expected_lines(paths, cwd):
    """What concise output must say, one line per finding the engine reports."""
    old = os.getcwd()
    os.chdir(cwd)
    try:
        report = engine.check(paths, Config())
    finally:
        os.chdir(old)
    return [f"{f.location.display()}: {f.code} {f.message}" for f in report.findings]


def test_concise_output_then_summary(project):
    proc = run("check", "--isolated", cwd=project)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("a_broken.py:2:") and " TL901 " in lines[0]
    assert lines[1].startswith("b_broken.py:3:") and " TL901 " in lines[1]
    assert lines[:-1] == expected_lines(["."], project)
    assert lines[-1] == "Found 2 findings (2 errors)."
    assert proc.stderr == ""


def test_clean_run_says_all_checks_passed(project):
    proc = run("check", "--isolated", "clean.py", cwd=project)
    assert (proc.returncode, proc.stdout) == (0, "All checks passed!\n")


def test_quiet_drops_the_summary(project):
    proc = run("check", "--isolated", "--quiet", "a_broken.py", cwd=project)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == expected_lines(["a_broken.py"], project)
    clean = run("check", "--isolated", "-q", "clean.py", cwd=project)
    assert (clean.returncode, clean.stdout.strip(), clean.stderr) == (0, "", "")


def test_exit_zero_keeps_output(project):
    proc = run("check", "--isolated", "--exit-zero", cwd=project)
    assert proc.returncode == 0
    assert proc.stdout.splitlines()[-1] == "Found 2 findings (2 errors)."


def test_statistics_counts_per_code(project):
    proc = run("check", "--isolated", "--statistics", cwd=project)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == ["2\tTL901\tunparsable-file\terror", "Found 2 findings (2 errors)."]


def test_json_output_parses_and_summary_goes_to_stderr(project):
    proc = run("check", "--isolated", "--output-format", "json", cwd=project)
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert [(f["location"]["path"], f["code"]) for f in data["findings"]] == [
        ("a_broken.py", "TL901"),
        ("b_broken.py", "TL901"),
    ]
    assert sorted(data["files"]) == ["a_broken.py", "b_broken.py", "clean.py"]
    assert proc.stderr == "Found 2 findings (2 errors).\n"
    quiet = run("check", "--isolated", "--output-format", "json", "--quiet", cwd=project)
    assert quiet.stderr == ""


def test_github_output_is_one_annotation_per_finding(project):
    proc = run("check", "--isolated", "--output-format", "github", cwd=project)
    assert proc.returncode == 1
    annotations = [line for line in proc.stdout.splitlines() if line.startswith("::")]
    assert len(annotations) == 2
    assert annotations[0].startswith("::error ") and "file=a_broken.py" in annotations[0]


def test_output_file_gets_the_output(project):
    proc = run("check", "--isolated", "-o", "out.txt", cwd=project)
    assert proc.returncode == 1
    assert proc.stdout == ""
    written = (project / "out.txt").read_text().splitlines()
    assert written[-1] == "Found 2 findings (2 errors)."
    assert written[:-1] == expected_lines(["a_broken.py", "b_broken.py", "clean.py"], project)


@pytest.mark.parametrize(
    "flags, exit_code",
    [
        (["--ignore", "TL901"], 0),
        (["--ignore", "tl9"], 0),
        (["--select", "TL4,TL5"], 0),
        (["--select", "TL4", "--extend-select", "TL901"], 1),
        (["--select", "ALL"], 1),
    ],
)
def test_selection_flags(project, flags, exit_code):
    proc = run("check", "--isolated", *flags, "a_broken.py", cwd=project)
    assert proc.returncode == exit_code, proc.stderr


def test_cli_selection_replaces_the_config_selection(project):
    (project / "pyproject.toml").write_text('[tool.trainlint]\nignore = ["TL901"]\n')
    assert run("check", "a_broken.py", cwd=project).returncode == 0
    assert run("check", "--isolated", "a_broken.py", cwd=project).returncode == 1
    assert run("check", "--ignore", "TL4", "a_broken.py", cwd=project).returncode == 1


def test_unknown_selector_on_the_command_line(project):
    proc = run("check", "--select", "TL999", cwd=project)
    assert proc.returncode == 2
    assert proc.stderr == "trainlint: error: unknown rule code or prefix `TL999` in selection\n"


def test_paths_after_double_dash_without_probe(project):
    (project / "-odd.py").write_text(BROKEN)
    proc = run("check", "--isolated", "--quiet", "--", "-odd.py", cwd=project)
    assert proc.returncode == 1
    assert proc.stdout.startswith("-odd.py:2:")


def test_console_script_and_module_entry_points(project):
    exe = shutil.which("trainlint")
    assert exe, "the trainlint console script is not installed"
    via_script = subprocess.run([exe, "check", "--isolated", "a_broken.py"], cwd=project, capture_output=True, text=True)
    via_module = run("check", "--isolated", "a_broken.py", cwd=project)
    assert via_script.returncode == via_module.returncode == 1
    assert via_script.stdout == via_module.stdout


def test_version():
    proc = run("--version", cwd=REPO)
    assert (proc.returncode, proc.stdout) == (0, f"trainlint, version {__version__}\n")


def test_rules_lists_every_rule():
    rules = discover()
    text = run("rules", cwd=REPO)
    assert text.returncode == 0
    rows = text.stdout.splitlines()
    assert [row.split()[0] for row in rows] == [r.code for r in rules]
    assert all(row.split()[1] == r.name for row, r in zip(rows, rules))
    as_json = json.loads(run("rules", "--output-format", "json", cwd=REPO).stdout)
    assert [(r["code"], r["name"], r["severity"]) for r in as_json] == [(r.code, r.name, r.severity.value) for r in rules]
    assert all(r["summary"] and r["evidence"] for r in as_json)


@pytest.mark.parametrize("key", ["TL901", "tl901", "unparsable-file"])
def test_rule_prints_doc_and_fixes(key):
    from trainlint import catalog
    from trainlint.model import FixRef

    proc = run("rule", key, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("# TL901 unparsable-file\n")
    assert "Default severity: error" in out
    assert "Evidence: static" in out
    for section in ("## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Fixes it suggests"):
        assert section in out
    fix = catalog.render(FixRef("fix-script"))
    assert f"### {fix.title} (fix-script)" in out
    assert fix.code.strip() in out


def test_colour_only_on_a_terminal_and_never_with_no_color(project):
    def on_tty(env):
        leader, follower = pty.openpty()
        proc = subprocess.run(
            [sys.executable, "-m", "trainlint", "check", "--isolated", "clean.py"],
            cwd=project,
            stdout=follower,
            stderr=follower,
            env={k: v for k, v in {**os.environ, **env}.items() if v is not None},
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(leader)
        return proc.returncode, b"".join(chunks).decode()

    code, coloured = on_tty({"NO_COLOR": None})
    assert code == 0 and "\x1b[" in coloured and "All checks passed!" in coloured
    code, plain = on_tty({"NO_COLOR": "1"})
    assert code == 0 and "\x1b[" not in plain and "All checks passed!" in plain
    piped = run("check", "--isolated", "clean.py", cwd=project, env={"NO_COLOR": ""})
    assert "\x1b[" not in piped.stdout


class AlwaysCrashes(Rule):
    """Raises on every file."""

    code = "TL899"
    name = "always-crashes"

    def check_static(self, ctx):
        raise RuntimeError("rule bug")


def test_a_crashing_rule_is_a_warning_keeps_findings_and_exits_2(project, monkeypatch):
    monkeypatch.chdir(project)
    monkeypatch.setattr(engine, "discover", lambda: discover() + [AlwaysCrashes])
    result = CliRunner().invoke(cli, ["check", "--isolated", "a_broken.py"])
    assert result.exit_code == 2
    assert result.stdout.splitlines()[0].startswith("a_broken.py:2:")
    assert (
        "trainlint: warning: rule TL899 crashed on a_broken.py: RuntimeError: rule bug "
        "(traceback in --output-format json)"
    ) in result.stderr
    assert "Traceback" not in result.stderr


def test_recorded_trace_is_judged_with_its_script(tmp_path):
    sample = json.loads((REPO / "tests" / "data" / "sample_trace.json").read_text())
    script = FIXTURES / "probe" / "imbalance.py"
    trace_path = tmp_path / "trace.json"
    sample["script"] = str(script)
    trace_path.write_text(json.dumps(sample))
    proc = run("check", "--isolated", "--exit-zero", "--trace", str(trace_path), "--output-format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["trace"]["script"] == str(script)
    assert data["files"] == ([str(script)] if script.exists() else [])
    trace_codes = {r.code for r in discover() if "trace" in r.evidence()}
    assert not any(s["code"] in trace_codes for s in data["skipped"])
    assert any("probe" in f["sources"] for f in data["findings"]) or not trace_codes


@pytest.mark.probe
def test_probe_runs_the_script_with_args_after_double_dash(tmp_path):
    pytest.importorskip("torch")
    script = tmp_path / "tiny.py"
    script.write_text(
        "import sys\n"
        "import torch\n"
        "from torch.utils.data import DataLoader, TensorDataset\n"
        "epochs = int(sys.argv[sys.argv.index('--epochs') + 1])\n"
        "data = TensorDataset(torch.randn(64, 4), torch.randint(0, 2, (64,)))\n"
        "loader = DataLoader(data, batch_size=16, shuffle=True)\n"
        "model = torch.nn.Linear(4, 2)\n"
        "opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)\n"
        "for epoch in range(epochs):\n"
        "    for x, y in loader:\n"
        "        opt.zero_grad()\n"
        "        torch.nn.functional.cross_entropy(model(x), y).backward()\n"
        "        opt.step()\n"
    )
    proc = run(
        "check", "--isolated", "--exit-zero", "--quiet", "tiny.py", "--probe", "--max-epochs", "2",
        "--trace-out", "trace.json", "--", "--epochs", "3",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    trace = json.loads((tmp_path / "trace.json").read_text())
    assert trace["run"]["argv"] == ["--epochs", "3"]
    assert trace["run"]["budgets"]["max_epochs"] == 2
    assert Path(trace["script"]).name == "tiny.py"


def test_html_report_is_written_alongside_the_terminal_output(project):
    proc = run("check", "--isolated", "--html", "report.html", "a_broken.py", cwd=project)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == expected_lines(["a_broken.py"], project) + ["Found 1 finding (1 error)."]
    assert proc.stderr == "Wrote the HTML audit report to report.html\n"
    html = (project / "report.html").read_text()
    assert html.lstrip().lower().startswith("<!doctype html") and "TL901" in html


def test_sarif_output_is_sarif_2_1_0(project):
    proc = run("check", "--isolated", "--output-format", "sarif", cwd=project)
    assert proc.returncode == 1
    sarif = json.loads(proc.stdout)
    assert sarif["version"] == "2.1.0"
    results = sarif["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["TL901", "TL901"]


def test_summary_counts_each_severity(project):
    (project / "pyproject.toml").write_text('[tool.trainlint.severity]\nTL901 = "info"\n')
    proc = run("check", "a_broken.py", "b_broken.py", cwd=project)
    assert proc.stdout.splitlines()[-1] == "Found 2 findings (2 info)."
    assert proc.returncode == 1  # info findings count: the user silences a rule in the config


def test_a_folder_without_sources_warns_and_passes(tmp_path):
    (tmp_path / "notes.txt").write_text("nothing to lint\n")
    proc = run("check", "--isolated", ".", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stderr == "trainlint: warning: no .py or .ipynb files found in .\n"
    assert proc.stdout == "All checks passed!\n"
