"""The pre-commit hook, run for real: ``pre-commit try-repo`` installs trainlint from this
checkout into a fresh environment (pip, from the registry: click, jinja2, numpy; no torch)
and runs the ``trainlint`` hook over a user's repository.

try-repo reads a local hook repository at its HEAD plus changes to tracked files; untracked
files would be left out. So the test snapshots this checkout's working tree (tracked and
untracked files that git does not ignore) into a temporary repository and points try-repo at
that: what is tested is exactly the code under test, committed or not.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from expectations import FIXTURES, REPO, expected_findings

BAD = FIXTURES / "static" / "schedule_constant_lr.py"
GOOD = FIXTURES / "static" / "schedule_constant_lr_good.py"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

GIT_ENV = {
    "GIT_AUTHOR_NAME": "trainlint test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "trainlint test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
}


def git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env={**os.environ, **GIT_ENV})


def new_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    git("init", "-q", cwd=path)
    return path


def commit_all(path: Path) -> None:
    git("add", "-A", cwd=path)
    git("commit", "-q", "--no-verify", "-m", "snapshot", cwd=path)


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory):
    """This checkout's working tree as a committed repository."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout.decode()
    snapshot = new_repo(tmp_path_factory.mktemp("hook") / "trainlint")
    for rel in filter(None, listed.split("\0")):
        source = REPO / rel
        if source.is_file():
            target = snapshot / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    commit_all(snapshot)
    return snapshot


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    # One pre-commit cache for both runs, so the hook environment is built once.
    return tmp_path_factory.mktemp("pre-commit-home")


def try_repo(hook_repo: Path, user_repo: Path, store: Path) -> subprocess.CompletedProcess:
    pre_commit = shutil.which("pre-commit")
    assert pre_commit, "pre-commit is a test dependency: pip install -e '.[test]'"
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(store), "NO_COLOR": "1"}
    return subprocess.run(
        [pre_commit, "try-repo", str(hook_repo), "trainlint", "--all-files", "--color", "never"],
        cwd=user_repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def user_repo_with(tmp_path: Path, source: Path) -> Path:
    repo = new_repo(tmp_path / "user")
    shutil.copy(source, repo / "train.py")
    commit_all(repo)
    return repo


def test_hook_fails_on_a_bad_script_with_its_findings(hook_repo, store, tmp_path):
    codes = sorted({code for _, _, code in expected_findings(BAD)})
    assert codes, f"{BAD.name} should expect findings"
    proc = try_repo(hook_repo, user_repo_with(tmp_path, BAD), store)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    # pre-commit exits 1 for any failing hook; the hook's own status says it found something
    # (1) rather than broke (2).
    assert "Failed" in output and "- exit code: 1" in output, output
    for _, line, code in sorted(expected_findings(BAD)):
        assert f"train.py:{line}:" in output and code in output, output


def test_hook_passes_on_the_good_twin(hook_repo, store, tmp_path):
    proc = try_repo(hook_repo, user_repo_with(tmp_path, GOOD), store)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "Passed" in output
