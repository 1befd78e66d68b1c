"""The README is what a user reads first: its rule table and quick start must match the code."""

from __future__ import annotations

import re
import subprocess
import sys

from expectations import REPO
from trainlint.rule import discover

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_rule_table_lists_every_rule_with_its_name_and_severity():
    rows = dict(re.findall(r"^\| (TL\d{3}) \| `([a-z0-9-]+)` \|", README, re.MULTILINE))
    assert rows == {r.code: r.name for r in discover()}
    severities = dict(re.findall(r"^\| (TL\d{3}) \| `[a-z0-9-]+` \| (\w+) \|", README, re.MULTILINE))
    assert severities == {r.code: r.severity.value for r in discover()}


def test_quick_start_audits_a_bundled_fixture_and_runs_the_tests():
    blocks = re.findall(r"```bash\n(.*?)```", README, re.DOTALL)
    assert any("trainlint check fixtures/" in b and "--probe" in b and "--html" in b for b in blocks[:2])
    assert any("python -m pytest -q" in b for b in blocks[:2])
    fixture = re.search(r"trainlint check (fixtures/\S+)", blocks[0]).group(1)
    assert (REPO / fixture).is_file()


def test_ci_runs_the_readme_test_command():
    assert "python -m pytest -q" in (REPO / ".ci" / "run").read_text(encoding="utf-8")


def test_example_output_in_readme_is_what_trainlint_prints():
    m = re.search(r"```text\n\$ (trainlint check [^\n]+)\n(.*?)```", README, re.DOTALL)
    command, shown = m.group(1), m.group(2)
    proc = subprocess.run([sys.executable, "-m", "trainlint", *command.split()[1:], "--isolated"],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.stdout == shown
