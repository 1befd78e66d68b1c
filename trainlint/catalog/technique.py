"""What a catalog technique is, and how a FixRef turns into a fix the user can paste.

Templates use ``string.Template`` placeholders (``$optimizer``, ``${lr}``) rather than
``str.format`` because Python code is full of braces (dicts, f-strings, sets) and would need
every one of them doubled. This module runs on the static path: no torch, no jinja2.
"""

from __future__ import annotations

import math
import numbers
import string
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from trainlint.model import FixRef

SOURCES = ("seed", "practice")


@dataclass(frozen=True, eq=False)
class Technique:
    """One fix: when it helps, why it works, and a code template.

    ``defaults`` gives a value for every placeholder a caller may set, so a finding without
    numbers still gets usable code. ``derive`` computes the placeholders that depend on others
    (class weights from class counts, a step size from the epoch count): it receives the params
    merged over the defaults and returns values that replace defaults but never a value the
    caller gave.
    ``variants`` are alternative templates chosen by the ``data_kind`` param ("image",
    "features"); without a matching ``data_kind`` the main template is used.
    """

    id: str
    title: str
    when: str
    why: str
    template: str
    defaults: Mapping[str, Any] = field(default_factory=dict)
    source: str = "practice"
    derive: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    variants: Mapping[str, str] = field(default_factory=dict)

    def templates(self) -> dict[str, str]:
        """The main template under "" and each variant under its data_kind."""
        return {"": self.template, **self.variants}

    def template_for(self, values: Mapping[str, Any]) -> str:
        return self.variants.get(str(values.get("data_kind")), self.template)


def placeholders(template: str) -> set[str]:
    """The names a template substitutes."""
    names = set()
    for match in string.Template.pattern.finditer(template):
        name = match.group("named") or match.group("braced")
        if name:
            names.add(name)
    return names


@dataclass(frozen=True)
class RenderedFix:
    technique_id: str
    title: str
    when: str
    why: str
    code: str

    def to_dict(self) -> dict[str, str]:
        return {
            "technique": self.technique_id,
            "title": self.title,
            "when": self.when,
            "why": self.why,
            "code": self.code,
        }


def techniques() -> list[Technique]:
    """Every technique, in catalog order (the seed's first, then training practice)."""
    return list(_registry().values())


def get(technique_id: str) -> Technique:
    registry = _registry()
    try:
        return registry[technique_id]
    except KeyError:
        known = ", ".join(sorted(registry))
        raise KeyError(f"unknown fix technique {technique_id!r}; known techniques: {known}") from None


def render(fix: FixRef | str, params: Mapping[str, Any] | None = None) -> RenderedFix:
    """Fill the technique's template with ``fix.params`` over its defaults.

    Params the template does not use are ignored; a param given as None counts as missing.
    """
    if isinstance(fix, str):
        fix = FixRef(fix, dict(params or {}))
    technique = get(fix.technique)
    given = {k: v for k, v in fix.params.items() if v is not None}
    values = {**technique.defaults, **given}
    if technique.derive is not None:
        derived = technique.derive(dict(values))
        values.update({k: v for k, v in derived.items() if k not in given})
    template = technique.template_for(values)
    code = string.Template(template).substitute(
        {name: format_value(values[name]) for name in placeholders(template)}
    )
    return RenderedFix(technique.id, technique.title, technique.when, technique.why, code)


def format_value(value: Any) -> str:
    """A param as Python source text: numbers and lists as literals, names as they are.

    Floats keep a decimal point (a class-weight tensor built from ``[1, 3]`` would be int64,
    which CrossEntropyLoss rejects) and long fractions are cut to four significant digits.
    Newlines in names are flattened so a strange value cannot break the template's structure.
    """
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return format_float(float(value))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return " ".join(str(value).splitlines())


def format_float(x: float) -> str:
    if not math.isfinite(x):
        return f'float("{x}")'
    text = repr(x)
    if len(text) > 8:
        text = f"{x:.4g}"
    if not any(c in text for c in ".e"):
        text += ".0"
    return text


def _registry() -> dict[str, Technique]:
    # Imported late: techniques.py imports Technique from here.
    from trainlint.catalog.techniques import CATALOG

    return CATALOG
