"""Running one static rule over a source snippet, as the engine would, for rule unit tests."""

from __future__ import annotations

import textwrap

from trainlint.rule import StaticContext, discover
from trainlint.static import analyze_source

RULES = {r.code: r for r in discover()}


def findings(code: str, source: str):
    """The findings of rule ``code`` on ``source`` (dedented), in report order."""
    rule_cls = RULES[code]
    facts = analyze_source(textwrap.dedent(source), "snippet.py")
    ctx = StaticContext(rule=rule_cls(), options=dict(rule_cls.options), facts=facts)
    return sorted(rule_cls().check_static(ctx), key=lambda f: f.location.line)


def lines(code: str, source: str) -> list[int]:
    return [f.location.line for f in findings(code, source)]
