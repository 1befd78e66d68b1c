"""The contract every rule keeps: identity, documentation, examples that are tests, a fixture,
and fixes from the catalog."""

from __future__ import annotations

import pytest

from expectations import expected_findings, fixture_files
from trainlint import catalog
from trainlint.rule import CODE_RE, NAME_RE, REQUIRED_SECTIONS, StaticContext, discover
from trainlint.static import analyze_source

RULES = discover()
STATIC_RULES = [r for r in RULES if "static" in r.evidence()]


def run_static(rule_cls, source):
    facts = analyze_source(source, "example.py")
    ctx = StaticContext(rule=rule_cls(), options=dict(rule_cls.options), facts=facts)
    return [f for f in rule_cls().check_static(ctx) if f.code == rule_cls.code]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_identity(rule):
    assert CODE_RE.match(rule.code)
    assert NAME_RE.match(rule.name), rule.name
    assert rule.evidence(), "a rule must implement check_static or check_trace"


def test_codes_and_names_are_unique():
    assert len({r.code for r in RULES}) == len(RULES)
    assert len({r.name for r in RULES}) == len(RULES)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_docstring_has_the_fixed_sections(rule):
    sections = rule.sections()
    for heading in REQUIRED_SECTIONS:
        assert sections.get(heading), f"{rule.code} lacks '## {heading}'"
    bad, good = rule.examples()
    assert bad and good, f"{rule.code} needs a python block in Example and in Use instead"
    assert rule.summary().endswith((".", "!", "?"))


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_fixes_come_from_the_catalog(rule):
    assert rule.techniques, f"{rule.code} suggests no technique"
    for technique in rule.techniques:
        assert catalog.get(technique).id == technique


@pytest.mark.parametrize("rule", STATIC_RULES, ids=lambda r: r.code)
def test_bad_example_is_flagged(rule):
    for snippet in rule.examples()[0]:
        assert run_static(rule, snippet), f"{rule.code} does not flag its own Example:\n{snippet}"


@pytest.mark.parametrize("rule", STATIC_RULES, ids=lambda r: r.code)
def test_good_example_is_not_flagged(rule):
    for snippet in rule.examples()[1]:
        found = run_static(rule, snippet)
        assert not found, f"{rule.code} flags its own Use instead: {[f.message for f in found]}"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_has_a_fixture(rule):
    marked = set()
    for path in fixture_files("static", "probe"):
        marked |= {code for _, _, code in expected_findings(path)}
    assert rule.code in marked, f"no fixture marks `# expect: {rule.code}`"


@pytest.mark.parametrize("rule", STATIC_RULES, ids=lambda r: r.code)
def test_static_findings_carry_catalog_fixes(rule):
    for snippet in rule.examples()[0]:
        for finding in run_static(rule, snippet):
            assert finding.fixes, f"{rule.code} finding without a fix"
            for fix in finding.fixes:
                rendered = catalog.render(fix)
                assert rendered.code.strip()
