"""``[tool.trainlint]``: which file is used, what each key becomes, and the errors for bad ones."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from trainlint import config as config_mod
from trainlint.config import Config, ConfigError
from trainlint.files import DEFAULT_EXCLUDE
from trainlint.model import Severity


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


FULL = """
[tool.trainlint]
select = ["TL4", "tl5"]
ignore = ["TL505"]
extend-select = ["TL901"]
extend-ignore = ["TL408"]
exclude = ["notebooks"]
extend-exclude = ["scratch_*.py"]
max-batches = 20
max-epochs = 3
timeout = 90

[tool.trainlint.per-file-ignores]
"tests/*" = ["TL1"]

[tool.trainlint.severity]
TL401 = "error"
tl406 = "Warning"

[tool.trainlint.options.tl201]
min_gap = 0.3

[tool.trainlint.options.overfitting-gap]
patience = 2
"""


def test_every_key_is_read(tmp_path):
    pyproject = write(tmp_path / "pyproject.toml", FULL)
    cfg = config_mod.load([str(tmp_path)])
    assert cfg.path == str(pyproject)
    assert cfg.root == str(tmp_path)
    assert cfg.select == ["TL4", "TL5"]
    assert cfg.ignore == ["TL505"]
    assert cfg.extend_select == ["TL901"]
    assert cfg.extend_ignore == ["TL408"]
    assert cfg.exclude == ["notebooks"]
    assert cfg.extend_exclude == ["scratch_*.py"]
    assert (cfg.max_batches, cfg.max_epochs, cfg.timeout) == (20, 3, 90.0)
    assert cfg.per_file_ignores == {"tests/*": ["TL1"]}
    assert cfg.severity == {"TL401": Severity.ERROR, "TL406": Severity.WARNING}
    assert cfg.options == {"TL201": {"min_gap": 0.3}, "overfitting-gap": {"patience": 2}}


def test_nearest_pyproject_with_a_section_wins(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.trainlint]\nselect = ["TL4"]\n')
    # A nearer pyproject.toml without [tool.trainlint] is not ours and is passed over.
    write(tmp_path / "pkg" / "pyproject.toml", '[project]\nname = "pkg"\n')
    script = write(tmp_path / "pkg" / "src" / "train.py", "x = 1\n")
    assert config_mod.load([str(script)]).select == ["TL4"]
    write(tmp_path / "pkg" / "pyproject.toml", '[tool.trainlint]\nselect = ["TL5"]\n')
    assert config_mod.load([str(script)]).select == ["TL5"]


def test_no_settings_means_defaults(tmp_path):
    cfg = config_mod.load([str(write(tmp_path / "train.py", "x = 1\n"))])
    assert cfg.path is None
    assert cfg.select is None and cfg.ignore == []
    assert cfg.exclude == list(DEFAULT_EXCLUDE)


def test_isolated_ignores_the_file(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.trainlint]\nselect = ["TL4"]\n')
    assert config_mod.load([str(tmp_path)], isolated=True).select is None


def test_named_config_file(tmp_path):
    named = write(tmp_path / "ci" / "trainlint.toml", 'select = ["TL6"]\n')
    assert config_mod.load([str(tmp_path)], config_file=str(named)).select == ["TL6"]
    other = write(tmp_path / "other" / "pyproject.toml", '[tool.trainlint]\nignore = ["TL6"]\n')
    assert config_mod.load([], config_file=str(other)).ignore == ["TL6"]


def test_overrides_replace_only_given_values():
    cfg = Config(select=["TL4"], ignore=["TL401"]).with_overrides(select=["TL5"], ignore=None)
    assert (cfg.select, cfg.ignore) == (["TL5"], ["TL401"])


@pytest.mark.parametrize(
    "body, message",
    [
        ("selct = ['TL4']", "unknown setting `selct`"),
        ("select = 'TL4'", "`select` must be a list of rule codes or prefixes"),
        ("max-batches = 0", "`max-batches` must be a positive integer"),
        ("max-epochs = 2.5", "`max-epochs` must be a positive integer"),
        ("timeout = 'soon'", "`timeout` must be a positive number"),
        ("exclude = 'build'", "`exclude` must be a list of glob strings"),
        ("[tool.trainlint.severity]\nTL401 = 'fatal'", '`severity.TL401` must be "error", "warning" or "info"'),
        ("[tool.trainlint.per-file-ignores]\n'tests/*' = 'TL1'", "`per-file-ignores.tests/*` must be a list"),
        ("options = 3", "`options` must hold one table per rule"),
        ("select = [", "cannot parse config"),
    ],
)
def test_bad_settings_are_one_clear_error(tmp_path, body, message):
    text = body if body.startswith("[tool") else "[tool.trainlint]\n" + body
    pyproject = write(tmp_path / "pyproject.toml", text + "\n")
    with pytest.raises(ConfigError) as info:
        config_mod.load([str(tmp_path)])
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    if "parse" not in message:
        assert str(pyproject) in str(info.value)


def test_pyproject_without_section_named_explicitly_is_an_error(tmp_path):
    pyproject = write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')
    with pytest.raises(ConfigError, match="has no \\[tool.trainlint\\] table"):
        config_mod.load([], config_file=str(pyproject))


@pytest.mark.parametrize(
    "body, message",
    [
        ('selct = ["TL4"]', "unknown setting `selct`"),
        ('ignore = ["TL999"]', "unknown rule code or prefix `TL999`"),
        ('[tool.trainlint.options.TL901]\nlevel = 3', "unknown option `level` for TL901"),
    ],
)
def test_cli_exits_2_with_one_line_for_bad_settings(tmp_path, body, message):
    text = body if body.startswith("[tool") else "[tool.trainlint]\n" + body
    write(tmp_path / "pyproject.toml", text + "\n")
    write(tmp_path / "train.py", "x = 1\n")
    proc = subprocess.run(
        [sys.executable, "-m", "trainlint", "check", "train.py"], cwd=tmp_path, capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("trainlint: error: ") and message in lines[0]


def test_cli_config_flag_and_severity_override(tmp_path):
    write(tmp_path / "strict.toml", '[severity]\nTL901 = "info"\n')
    write(tmp_path / "broken.py", "for i in range(3)\n    pass\n")
    proc = subprocess.run(
        [sys.executable, "-m", "trainlint", "check", "--config", "strict.toml", "--output-format", "json", "broken.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert [(f["code"], f["severity"]) for f in data["findings"]] == [("TL901", "info")]
