"""Reading a file into Python source: encodings, binaries, oversized files and notebooks.

A notebook becomes one Python text made of its code cells; a line map turns a line of that text
back into (cell, line within the cell). Cell magics drop their cell, line magics and shell escapes
become blank lines, so the remaining lines keep their numbers.
"""

from __future__ import annotations

import io
import json
import tokenize
from dataclasses import dataclass, field

# Larger inputs are generated code or data: report them instead of spending seconds on them.
MAX_BYTES = 5_000_000


class SourceError(Exception):
    """The file cannot be turned into Python source; the message says why, for the user, and
    ``line`` where (1 when the whole file is at fault)."""

    def __init__(self, message: str, line: int = 1):
        super().__init__(message)
        self.line = line


@dataclass
class Source:
    text: str
    # For notebooks: for each line of ``text`` (index = line - 1), its (cell, line in cell).
    line_map: list[tuple[int, int]] | None = None
    cells: list[str] = field(default_factory=list)

    @property
    def is_notebook(self) -> bool:
        return self.line_map is not None


def read_source(path: str) -> Source:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SourceError(f"cannot read file: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise SourceError(f"file is larger than {MAX_BYTES // 1_000_000} MB; not analysed")
    if path.endswith(".ipynb"):
        return notebook_source(data)
    return Source(text=decode_python(data))


def decode_python(data: bytes) -> str:
    if b"\x00" in data:
        raise SourceError("file is binary (contains NUL bytes), not Python source")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        # detect_encoding also fails when the first lines are not UTF-8 and declare nothing.
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as bad:
            line = data.count(b"\n", 0, bad.start) + 1
            raise SourceError(f"file is not valid UTF-8 text (byte 0x{data[bad.start]:02x} on line {line}) "
                              "and declares no other encoding", line) from None
        raise SourceError(f"unknown source encoding: {exc}") from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SourceError(f"file is not valid {encoding} text (byte 0x{data[exc.start]:02x} on line {line})",
                          line) from None
    except LookupError as exc:
        raise SourceError(f"unknown source encoding: {exc}") from None
    return text.lstrip("\ufeff")


def notebook_source(data: bytes) -> Source:
    try:
        nb = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SourceError(f"notebook is not valid JSON: {exc}") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise SourceError("notebook has no 'cells' list (is it nbformat 4?)")
    lines: list[str] = []
    line_map: list[tuple[int, int]] = []
    cells: list[str] = []
    code_index = 0
    for cell in nb["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        code_index += 1
        raw = cell.get("source", "")
        text = "".join(raw) if isinstance(raw, list) else str(raw)
        cells.append(text)
        cell_lines = text.splitlines()
        if cell_lines and cell_lines[0].lstrip().startswith("%%"):
            continue  # a cell magic: the cell is not Python
        for n, line in enumerate(cell_lines, start=1):
            stripped = line.lstrip()
            if stripped.startswith(("%", "!")) or stripped.endswith("?") and not stripped.startswith("#"):
                line = ""  # line magic, shell escape or help query
            lines.append(line)
            line_map.append((code_index, n))
    return Source(text="\n".join(lines) + "\n", line_map=line_map, cells=cells)
