"""The static path never imports torch, scikit-learn or the user's code, and never runs it.

Each check runs ``trainlint check`` in a fresh interpreter and reads back what ended up in
``sys.modules``: an import anywhere on the path (engine, rules, reporters) shows up there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NEVER_RUN = REPO / "tests" / "data" / "never_run"

FORBIDDEN = ("torch", "sklearn", "imblearn", "never_run_helper", "train")
# Loaded only by the formats that need them (HTML, SARIF validation) or by the probe.
LAZY = ("jinja2", "jsonschema", "trainlint.probe.tracer")
# The probe's parent side (subprocess, threading, signal): only `--probe` needs it.
PROBE_RUNNER = ("trainlint.probe.runner",)

PROGRAM = """
import json, sys
from trainlint.cli import main
code = None
try:
    main(sys.argv[2:])
except SystemExit as exc:
    code = exc.code
with open(sys.argv[1], "w") as fh:
    json.dump({"exit": code, "modules": sorted(sys.modules)}, fh)
"""


def run_check(tmp_path, *args, cwd=None):
    out = tmp_path / "modules.json"
    mark = tmp_path / "executed.mark"
    env = dict(os.environ, TRAINLINT_EXECUTED_MARK=str(mark))
    proc = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(out), *args],
        cwd=cwd or REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.exists(), proc.stderr
    data = json.loads(out.read_text())
    return data, proc, mark


def loaded(modules, names):
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


def test_user_script_is_read_not_run(tmp_path):
    data, proc, mark = run_check(tmp_path, "check", "--isolated", str(NEVER_RUN))
    assert not mark.exists(), mark.read_text()
    assert loaded(data["modules"], FORBIDDEN) == []
    assert "Traceback" not in proc.stderr
    assert data["exit"] in (0, 1), proc.stderr


@pytest.mark.parametrize("fmt", ["concise", "full", "json", "github"])
def test_checking_every_fixture_imports_no_heavy_module(tmp_path, fmt):
    data, proc, _ = run_check(tmp_path, "check", "--isolated", "--exit-zero", "--output-format", fmt, "fixtures")
    assert data["exit"] == 0, proc.stderr
    assert loaded(data["modules"], FORBIDDEN) == []
    assert loaded(data["modules"], LAZY) == []


def test_rule_listing_imports_no_heavy_module(tmp_path):
    data, proc, _ = run_check(tmp_path, "rules")
    assert data["exit"] == 0, proc.stderr
    assert loaded(data["modules"], FORBIDDEN + LAZY) == []


def test_static_check_does_not_load_the_probe_runner(tmp_path):
    data, proc, _ = run_check(tmp_path, "check", "--isolated", "--exit-zero", "fixtures")
    assert data["exit"] == 0, proc.stderr
    assert loaded(data["modules"], PROBE_RUNNER) == []
