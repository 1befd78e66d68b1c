"""Building blocks shared by the HTML report's view model: tables, charts and how a value
from a finding or a trace is written for a reader."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from trainlint.probe.trace import as_float


@dataclass
class Chart:
    title: str
    svg: Markup
    caption: str = ""


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list[str]]
    note: str = ""
    # Per row, a 0..1 share drawn as an inline bar after the numbers (empty: no bars).
    shares: list[float] = field(default_factory=list)


def num(value: Any) -> float | None:
    """A number from a trace or evidence: None for missing or non-numbers, NaN/inf back from
    the strings ("nan", "inf", "-inf") that the trace writes for them."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    return as_float(value)


def obj(value: Any) -> dict:
    """A mapping field of a trace or evidence, or {} when it is missing or malformed."""
    return value if isinstance(value, dict) else {}


def records(value: Any) -> list[dict]:
    """A list-of-records field, keeping only the records (a malformed item is skipped)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def count(value: Any, default: int | None = None) -> int | None:
    """A count field as an int, or ``default`` when it is missing, not finite or not a number."""
    n = num(value)
    return int(n) if n is not None and math.isfinite(n) else default


def fmt(value: Any) -> str:
    """A value as a reader wants it: thousands separators, four significant digits, "—" for
    missing."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float) or (isinstance(value, str) and value in ("nan", "inf", "-inf")):
        x = num(value)
        if x is None or not math.isfinite(x):
            return str(value)
        if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e6):
            return f"{x:.3g}"
        return f"{x:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={fmt(v)}" for k, v in value.items())
    return str(value)


def shape(value: Any) -> str:
    """A tensor shape as 64×1×28×28."""
    if isinstance(value, (list, tuple)) and value:
        return "×".join(str(v) for v in value)
    return fmt(value)


# Words that read better in their usual spelling than capitalised.
WORDS = {"lr": "LR", "fx": "FX", "id": "ID"}


def humanize(key: str) -> str:
    """An evidence key as a label: ``train_loss`` -> "Train loss", ``lr_first`` -> "LR first"."""
    words = [WORDS.get(w, w) for w in str(key).replace("_", " ").split()]
    text = " ".join(words)
    return text[:1].upper() + text[1:]
