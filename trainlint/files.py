"""Which files ``trainlint check PATH...`` looks at.

Files named on the command line are always checked, whatever their extension: the user asked
for them. Directories are walked for ``.py`` and ``.ipynb`` files, skipping version-control
folders, virtualenvs, build output and whatever the ``.gitignore`` files of the tree exclude.
"""

from __future__ import annotations

import fnmatch
import os
import re

SOURCE_SUFFIXES = (".py", ".ipynb")

# Folder names never worth linting: tooling state, build output, environments.
DEFAULT_EXCLUDE = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    "env",
    "__pycache__",
    "build",
    "dist",
    "*.egg-info",
    "node_modules",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".ipynb_checkpoints",
)


class Discovery:
    """The files to check (display paths, in a stable order) and the paths that do not exist."""

    def __init__(self) -> None:
        self.files: list[str] = []
        self.missing: list[str] = []


def find_files(
    paths,
    *,
    exclude=DEFAULT_EXCLUDE,
    extend_exclude=(),
    root: str | None = None,
) -> Discovery:
    """Expand ``paths`` into the source files to check.

    ``exclude`` / ``extend_exclude`` are globs matched against a folder or file's name and
    against its path relative to ``root`` (the project folder, default the cwd); they apply to
    what a directory walk finds, never to a file named explicitly.
    """
    excluder = _Excluder(list(exclude) + list(extend_exclude), root or os.getcwd())
    found = Discovery()
    seen: set[str] = set()

    def add(path: str) -> None:
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            found.files.append(path)

    for given in paths:
        given = str(given)
        if os.path.isdir(given):
            for path in _walk(os.path.normpath(given), excluder):
                add(path)
        elif os.path.exists(given):
            add(os.path.normpath(given))
        else:
            found.missing.append(given)
    return found


def _walk(top: str, excluder: _Excluder):
    ignores = _ancestor_gitignores(top)
    yield from _walk_dir(top, excluder, ignores)


def _walk_dir(folder: str, excluder: _Excluder, ignores: list[_GitIgnore]):
    local = _GitIgnore.load(folder)
    if local is not None:
        ignores = ignores + [local]
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return  # unreadable folder: nothing in it can be checked, and nothing was asked by name
    for entry in entries:
        path = entry.path if folder != "." else entry.name
        is_dir = entry.is_dir()
        if excluder.excludes(path, entry.name) or _ignored(ignores, entry.path, is_dir):
            continue
        if is_dir:
            if os.path.exists(os.path.join(entry.path, "pyvenv.cfg")):
                continue  # a virtualenv, whatever its name
            yield from _walk_dir(path, excluder, ignores)
        elif entry.name.endswith(SOURCE_SUFFIXES) and entry.is_file():
            yield path


def relative_posix(path: str, root: str) -> str:
    """``path`` relative to ``root`` with forward slashes, as globs are written."""
    return os.path.relpath(os.path.abspath(path), os.path.abspath(root)).replace(os.sep, "/")


class _Excluder:
    def __init__(self, patterns: list[str], root: str):
        self.patterns = [p.rstrip("/") for p in patterns]
        self.root = os.path.abspath(root)

    def excludes(self, path: str, name: str) -> bool:
        if not self.patterns:
            return False
        rel = relative_posix(path, self.root)
        return any(fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(rel, p) for p in self.patterns)


# -- .gitignore -----------------------------------------------------------------------------------
# The common subset of gitignore(5): comments, globs (*, ?, [..], **), trailing "/" for folders
# only, "!" negation, patterns anchored by a "/" at the start or in the middle, and one
# .gitignore per folder applying below it, deeper files overriding shallower ones.


class _Pattern:
    # A plain class: this module loads on every run, and each dataclass costs start-up time.
    __slots__ = ("regex", "negated", "dir_only")

    def __init__(self, regex: re.Pattern, negated: bool, dir_only: bool):
        self.regex = regex
        self.negated = negated
        self.dir_only = dir_only


class _GitIgnore:
    def __init__(self, base: str, patterns: list[_Pattern]):
        self.base = os.path.abspath(base)
        self.patterns = patterns

    @classmethod
    def load(cls, folder: str) -> _GitIgnore | None:
        try:
            with open(os.path.join(folder, ".gitignore"), encoding="utf-8", errors="replace") as fh:
                lines = fh.read().splitlines()
        except OSError:
            return None
        patterns = [p for p in map(_parse_line, lines) if p is not None]
        return cls(folder, patterns) if patterns else None

    def verdict(self, abspath: str, is_dir: bool) -> bool | None:
        """True when ignored, False when re-included by a negation, None when no pattern matches."""
        rel = relative_posix(abspath, self.base)
        if rel.startswith("../"):
            return None
        result = None
        for pattern in self.patterns:
            if pattern.dir_only and not is_dir:
                continue
            if pattern.regex.fullmatch(rel):
                result = not pattern.negated
        return result


def _ignored(ignores: list[_GitIgnore], path: str, is_dir: bool) -> bool:
    if not ignores:
        return False
    abspath = os.path.abspath(path)
    ignored = False
    for gitignore in ignores:  # shallow to deep: the deepest opinion wins
        verdict = gitignore.verdict(abspath, is_dir)
        if verdict is not None:
            ignored = verdict
    return ignored


def _ancestor_gitignores(top: str) -> list[_GitIgnore]:
    """The .gitignore files above ``top`` up to its git work-tree root (none outside a repo)."""
    chain = []
    folder = os.path.dirname(os.path.abspath(top))
    while True:
        chain.append(folder)
        if os.path.exists(os.path.join(folder, ".git")):
            break
        parent = os.path.dirname(folder)
        if parent == folder:
            return []  # not inside a git work tree: only the tree's own .gitignore files count
        folder = parent
    loaded = (_GitIgnore.load(f) for f in reversed(chain))
    return [g for g in loaded if g is not None]


def _parse_line(line: str) -> _Pattern | None:
    line = line.rstrip("\n")
    if not line.strip() or line.startswith("#"):
        return None
    # Trailing spaces are insignificant unless escaped.
    while line.endswith(" ") and not line.endswith("\\ "):
        line = line[:-1]
    negated = line.startswith("!")
    if negated:
        line = line[1:]
    if line.startswith("\\"):
        line = line[1:]  # "\#" and "\!" stand for a literal first character
    dir_only = line.endswith("/")
    line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line
    line = line.lstrip("/")
    body = _glob_to_regex(line)
    regex = body if anchored else "(?:.*/)?" + body
    return _Pattern(re.compile(regex, re.DOTALL), negated, dir_only)


def _glob_to_regex(glob: str) -> str:
    out = []
    i, n = 0, len(glob)
    while i < n:
        c = glob[i]
        if c == "*":
            if glob.startswith("**", i):
                i += 2
                if i < n and glob[i] == "/":
                    out.append("(?:.*/)?")  # "**/" : zero or more folders
                    i += 1
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = glob.find("]", i + 2 if glob.startswith("[!", i) or glob.startswith("[^", i) else i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                inner = glob[i + 1 : end]
                if inner[:1] in ("!", "^"):
                    inner = "^" + inner[1:]
                out.append("[" + inner.replace("\\", "\\\\") + "]")
                i = end
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(glob[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)
