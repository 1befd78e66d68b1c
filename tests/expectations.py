"""Reading the ``# expect: TL###`` markers of fixture scripts and notebooks.

A marker on a line says which findings are reported at that line; a file without markers
expects nothing. Notebook markers are keyed by (cell, line in cell), as trainlint reports them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

EXPECT_RE = re.compile(r"#\s*expect:\s*(?P<codes>TL\d{3}(?:\s*,\s*TL\d{3})*)")

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"


def markers_in_lines(lines, cell=None) -> set[tuple[int | None, int, str]]:
    found = set()
    for n, line in enumerate(lines, start=1):
        m = EXPECT_RE.search(line)
        if m:
            for code in re.findall(r"TL\d{3}", m.group("codes")):
                found.add((cell, n, code))
    return found


def expected_findings(path: Path) -> set[tuple[int | None, int, str]]:
    """{(cell or None, line, code)} the fixture's markers promise."""
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text(encoding="utf-8"))
        found = set()
        code_cells = [c for c in nb["cells"] if c.get("cell_type") == "code"]
        for index, cell in enumerate(code_cells, start=1):
            src = cell.get("source", "")
            text = "".join(src) if isinstance(src, list) else src
            found |= markers_in_lines(text.splitlines(), cell=index)
        return found
    return markers_in_lines(path.read_text(encoding="utf-8").splitlines())


def fixture_files(*folders: str) -> list[Path]:
    out = []
    for folder in folders:
        base = FIXTURES / folder
        if base.is_dir():
            out += sorted(p for p in base.iterdir() if p.suffix in (".py", ".ipynb"))
    return out
