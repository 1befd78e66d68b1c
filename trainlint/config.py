"""``[tool.trainlint]`` settings: where they are found, what keys mean, and their checks.

The nearest ``pyproject.toml`` above the first checked path (or the cwd) that has a
``[tool.trainlint]`` table is used, as ruff finds its settings; ``--config PATH`` names one,
``--isolated`` ignores them all. Values that name rules (codes, prefixes, names) are checked
against the discovered rules by the engine, which knows them; this module checks the shape.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from typing import Any

from trainlint.files import DEFAULT_EXCLUDE
from trainlint.model import Severity

SECTION_MARK = "tool.trainlint"
CODE_KEY_RE = re.compile(r"^[a-z]+[0-9]+$", re.IGNORECASE)


class ConfigError(Exception):
    """A setting trainlint cannot use; the CLI prints it as one line and exits 2."""


@dataclass
class Config:
    # None means every rule, as ruff's default of "ALL" for a linter with no noisy rules.
    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    extend_ignore: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    severity: dict[str, Severity] = field(default_factory=dict)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=lambda: list(DEFAULT_EXCLUDE))
    extend_exclude: list[str] = field(default_factory=list)
    max_batches: int | None = None
    max_epochs: int | None = None
    timeout: float | None = None
    # The file the settings came from (None: defaults), and the folder relative globs start at.
    path: str | None = None
    root: str = field(default_factory=os.getcwd)

    def with_overrides(self, **changes: Any) -> Config:
        """A copy with the command line's values (those not None) replacing the file's."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _selectors(value: Any, key: str) -> list[str]:
    if isinstance(value, str) or not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"`{key}` must be a list of rule codes or prefixes, got {value!r}")
    return [v.strip().upper() for v in value]


def _number(value: Any, key: str, kind: type) -> int | float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
    if kind is int:
        ok = ok and float(value).is_integer()
    if not ok:
        raise ConfigError(f"`{key}` must be a positive {'integer' if kind is int else 'number'}, got {value!r}")
    return kind(value)


def _string_list(value: Any, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"`{key}` must be a list of glob strings, got {value!r}")
    return list(value)


def _per_file_ignores(value: Any) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        raise ConfigError("`per-file-ignores` must be a table of glob = [codes]")
    return {glob: _selectors(codes, f"per-file-ignores.{glob}") for glob, codes in value.items()}


def _severity(value: Any) -> dict[str, Severity]:
    if not isinstance(value, dict):
        raise ConfigError("`severity` must be a table of code = \"error\" | \"warning\" | \"info\"")
    out = {}
    for code, level in value.items():
        try:
            out[code.upper()] = Severity(str(level).lower())
        except ValueError:
            raise ConfigError(
                f"`severity.{code}` must be \"error\", \"warning\" or \"info\", got {level!r}"
            ) from None
    return out


def _options(value: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise ConfigError("`options` must hold one table per rule: [tool.trainlint.options.TL201]")
    # Codes are case-insensitive like everywhere else; rule names are kebab-case already.
    return {(key.upper() if CODE_KEY_RE.match(key) else key): dict(opts) for key, opts in value.items()}


# key in the file -> (field, converter)
_KEYS = {
    "select": ("select", _selectors),
    "ignore": ("ignore", _selectors),
    "extend-select": ("extend_select", _selectors),
    "extend-ignore": ("extend_ignore", _selectors),
    "per-file-ignores": ("per_file_ignores", lambda v, k: _per_file_ignores(v)),
    "severity": ("severity", lambda v, k: _severity(v)),
    "options": ("options", lambda v, k: _options(v)),
    "exclude": ("exclude", _string_list),
    "extend-exclude": ("extend_exclude", _string_list),
    "max-batches": ("max_batches", lambda v, k: _number(v, k, int)),
    "max-epochs": ("max_epochs", lambda v, k: _number(v, k, int)),
    "timeout": ("timeout", lambda v, k: _number(v, k, float)),
}


def from_table(table: dict[str, Any], *, path: str | None = None, root: str | None = None) -> Config:
    """A Config from the contents of a ``[tool.trainlint]`` table."""
    where = f" in {path}" if path else ""
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in _KEYS:
            known = ", ".join(sorted(_KEYS))
            raise ConfigError(f"unknown setting `{key}`{where} (known: {known})")
        name, convert = _KEYS[key]
        try:
            values[name] = convert(value, key)
        except ConfigError as err:
            raise ConfigError(f"{err}{where}") from None
    return Config(path=path, root=root or os.getcwd(), **values)


def _read_toml(path: str) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as err:
        raise ConfigError(f"cannot read config {path}: {err.strerror}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"cannot parse config {path}: {err}") from None


def load_file(path: str) -> Config:
    """Settings from a named file: its ``[tool.trainlint]`` table, or, for a file that is not
    a pyproject.toml (say ``trainlint.toml``), its top level."""
    data = _read_toml(path)
    table = data.get("tool", {}).get("trainlint")
    if table is None:
        if os.path.basename(path) == "pyproject.toml":
            raise ConfigError(f"{path} has no [tool.trainlint] table")
        table = data
    return from_table(table, path=path, root=os.path.dirname(os.path.abspath(path)))


def find_pyproject(start: str) -> str | None:
    """The nearest pyproject.toml at or above ``start`` that has a [tool.trainlint] table."""
    folder = os.path.abspath(start)
    if not os.path.isdir(folder):
        folder = os.path.dirname(folder)
    while True:
        candidate = os.path.join(folder, "pyproject.toml")
        if os.path.isfile(candidate) and _mentions_section(candidate):
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _mentions_section(path: str) -> bool:
    # A cheap text test first: most pyproject.toml files on the way up have no such table, and
    # not parsing them keeps start-up fast.
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return False
    return SECTION_MARK in text and "trainlint" in _read_toml(path).get("tool", {})


def load(paths=(), *, config_file: str | None = None, isolated: bool = False) -> Config:
    """The settings for a run over ``paths``."""
    if isolated:
        return Config()
    if config_file:
        return load_file(config_file)
    start = str(paths[0]) if paths else os.getcwd()
    if not os.path.exists(start):
        start = os.getcwd()
    found = find_pyproject(start)
    return load_file(found) if found else Config()
