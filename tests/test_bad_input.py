"""Files trainlint cannot analyse become a TL901 finding, a missing path one error line; never
a traceback, and every other file is still checked."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from expectations import FIXTURES, expected_findings
from trainlint.rule import discover

STATIC_CODES = {r.code for r in discover() if "static" in r.evidence()}
# A fixture with real findings, checked alongside the bad files to show they cost nothing else.
SOUND = FIXTURES / "static" / "schedule_constant_lr.py"

BAD_FILES = {
    "syntax.py": b"import torch\nfor epoch in range(3)\n    pass\n",
    "latin1.py": b"name = 'caf\xe9'\n",
    "latin1_late.py": b"import torch\n\nname = 'caf\xe9'\n",
    "binary.py": b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00",
    "nested_parens.py": b"x = " + b"(" * 5000 + b"1" + b")" * 5000 + b"\n",
    "long_sum.py": b"x = " + b" + ".join([b"1"] * 200_000) + b"\n",
    "notebook.ipynb": b'{"cells": [',
    "huge.py": b"",  # written below: 20 MB of generated code
}


def cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "trainlint", *args], cwd=cwd, capture_output=True, text=True)


@pytest.fixture(scope="module")
def bad_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    for name, data in BAD_FILES.items():
        (root / name).write_bytes(data)
    (root / "empty.py").write_bytes(b"")
    line = b"w = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]\n"
    with open(root / "huge.py", "wb") as fh:
        fh.write(line * (20_000_000 // len(line) + 1))
    shutil.copy(SOUND, root / SOUND.name)
    return root


def test_each_bad_file_is_one_finding_and_the_rest_is_checked(bad_tree):
    proc = cli("check", "--isolated", "--output-format", "json", ".", cwd=bad_tree)
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 1, proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    unparsable = sorted(f["location"]["path"] for f in findings if f["code"] == "TL901")
    assert unparsable == sorted(n for n in BAD_FILES)
    messages = {f["location"]["path"]: f["message"] for f in findings if f["code"] == "TL901"}
    assert "syntax error" in messages["syntax.py"]
    assert "not valid UTF-8 text (byte 0xe9 on line 1)" in messages["latin1.py"]
    late = [f for f in findings if f["location"]["path"] == "latin1_late.py"]
    assert [f["location"]["line"] for f in late] == [3] and "byte 0xe9 on line 3" in late[0]["message"]
    assert "binary" in messages["binary.py"]
    assert "MB" in messages["huge.py"]
    syntax_line = [f["location"]["line"] for f in findings if f["location"]["path"] == "syntax.py"]
    assert syntax_line == [2]
    sound = {(None, f["location"]["line"], f["code"]) for f in findings if f["location"]["path"] == SOUND.name}
    assert sound == {m for m in expected_findings(SOUND) if m[2] in STATIC_CODES}
    assert not [f for f in findings if f["location"]["path"] == "empty.py"]


def test_missing_path_is_one_error_line_and_other_paths_still_checked(bad_tree):
    proc = cli("check", "--isolated", "no_such_dir", "syntax.py", "gone.py", cwd=bad_tree)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("trainlint: error:")]
    assert errors == [
        "trainlint: error: path does not exist: no_such_dir",
        "trainlint: error: path does not exist: gone.py",
    ]
    assert "Traceback" not in proc.stderr
    assert proc.stdout.splitlines()[0].startswith("syntax.py:2:")
    assert " TL901 " in proc.stdout.splitlines()[0]


def test_missing_path_alone_is_no_all_clear(bad_tree):
    proc = cli("check", "--isolated", "no_such_dir", "empty.py", cwd=bad_tree)
    assert proc.returncode == 2
    assert "All checks passed" not in proc.stdout
    assert proc.stdout == "No findings in what was checked.\n"


def test_unreadable_trace_file_is_one_error_line(bad_tree):
    proc = cli("check", "--trace", "notebook.ipynb", cwd=bad_tree)
    assert proc.returncode == 2
    assert proc.stderr.startswith("trainlint: error: ")
    assert len(proc.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["check", "--output-format", "xml"], "Invalid value for '--output-format'"),
        (["check", "--max-batches", "0"], "Invalid value for '--max-batches'"),
        (["check", "--max-epochs", "3", "syntax.py"], "--max-epochs needs --probe"),
        (["check", "--probe", "syntax.py", "empty.py"], "--probe takes exactly one script file"),
        (["check", "--probe", "gone.py"], "trainlint: error: path does not exist: gone.py"),
        (["check", "--probe", "--trace", "t.json", "syntax.py"], "--probe and --trace cannot be combined"),
        (["rule", "TL000"], "unknown rule `TL000`"),
        (["frobnicate"], "No such command 'frobnicate'"),
    ],
)
def test_usage_errors_exit_2_without_traceback(bad_tree, args, message):
    proc = cli(*args, cwd=bad_tree)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
