"""The HTML audit report as a user opens it: sections, finding cards, escaping, embedded data."""

from __future__ import annotations

import html as htmllib
import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from trainlint import engine
from trainlint.model import Finding, FixRef, Location, Report, RuleCrash, Severity, SkippedRule
from trainlint.probe.trace import Trace
from trainlint.reporters import html
from trainlint.reporters.svg import MAX_POINTS

ROOT = Path(__file__).resolve().parent.parent
RECORDED_TRACES = sorted((ROOT / "tests" / "data" / "traces").glob("*.json"))
# A fixed trace of fixtures/probe/imbalance.py (stopped by the epoch budget) that the exact
# expectations below are written against; sample_trace.json is re-recorded as the probe evolves.
REPORT_TRACE = ROOT / "tests" / "data" / "html_report_trace.json"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr",
        "path", "line", "circle", "rect", "polyline", "stop"}


class _Structure(HTMLParser):
    """Records every element and fails on a closing tag that does not match the open one."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.elements: list[tuple[str, dict]] = []
        self.errors: list[str] = []
        self.scripts: list[tuple[dict, str]] = []
        self._script: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs))
        if tag == "script":
            self._script = attrs
            self.scripts.append((attrs, ""))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else 'nothing'}>")
            return
        self.stack.pop()
        if tag == "script":
            self._script = None

    def handle_data(self, data):
        if self._script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)


def parse(page: str) -> _Structure:
    doc = _Structure()
    doc.feed(page)
    doc.close()
    assert doc.errors == [], doc.errors
    assert doc.stack == [], f"unclosed elements: {doc.stack}"
    return doc


def with_class(doc: _Structure, tag: str, cls: str) -> list[dict]:
    return [a for t, a in doc.elements if t == tag and cls in (a.get("class") or "").split()]


def embedded_data(doc: _Structure) -> dict:
    blocks = [text for attrs, text in doc.scripts if attrs.get("id") == "trainlint-data"]
    assert len(blocks) == 1
    return json.loads(blocks[0])


@pytest.fixture
def static_report(monkeypatch) -> Report:
    monkeypatch.chdir(ROOT)
    return engine.check(["fixtures/static"])


@pytest.fixture
def probe_report(monkeypatch) -> Report:
    monkeypatch.chdir(ROOT)
    return engine.check([], trace=Trace.load(str(REPORT_TRACE)))


def finding(**changes) -> Finding:
    values = dict(
        code="TL301",
        name="unhandled-class-imbalance",
        severity=Severity.WARNING,
        message="`train_loader` is 90% class `0`",
        location=Location("train.py", 3, 1),
        evidence={},
        fixes=[],
        sources=["probe"],
    )
    values.update(changes)
    return Finding(**values)


# -- a static run over many files ---------------------------------------------------------


def test_static_run_has_a_card_per_finding_and_says_sections_need_the_probe(static_report):
    page = html.render(static_report)
    doc = parse(page)
    cards = with_class(doc, "article", "finding")
    assert len(cards) == len(static_report.findings) >= 1
    assert sorted(c["data-code"] for c in cards) == sorted(f.code for f in static_report.findings)
    # Training dynamics, data and model each tell the user how to get them.
    assert page.count("no probe run") == 4  # dynamics, data, model, run details
    assert "trainlint check script.py --probe" in page
    assert f"{len(static_report.files)}</span><span class=\"k\">files" in page


def test_syntax_error_card_shows_the_marked_line_and_the_rules_why(static_report):
    page = html.render(static_report)
    card = page[page.index('data-code="TL901"'):]
    card = card[: card.index("</article>")]
    broken = next(f for f in static_report.findings if f.code == "TL901")
    assert broken.location.display() in card
    source_line = (ROOT / broken.location.path).read_text().splitlines()[broken.location.line - 1]
    marked = re.search(r'<span class="ln marked"><span class="no">(\d+)</span>(.*?)</span>', card)
    assert marked is not None
    assert int(marked.group(1)) == broken.location.line
    assert htmllib.unescape(marked.group(2)) == source_line
    # The "why" panel is the rule's own docstring section.
    assert "Every other check is silent on a file it cannot read" in card


def test_files_list_puts_files_with_findings_first_with_their_counts():
    report = Report(files=["b.py", "a.py", "c.py"], findings=[
        finding(location=Location("c.py", 1, 1)), finding(location=Location("c.py", 2, 1), severity=Severity.ERROR),
        finding(location=Location("b.py", 1, 1), severity=Severity.INFO)])
    rows = html.build_view(report).files
    assert [(r.path, r.counts) for r in rows] == [
        ("b.py", [("info", 1)]), ("c.py", [("error", 1), ("warning", 1)]), ("a.py", [])]


def test_embedded_json_is_the_report(static_report):
    doc = parse(html.render(static_report))
    data = embedded_data(doc)
    assert data["counts"] == static_report.counts()
    assert [f["code"] for f in data["findings"]] == [f.code for f in static_report.findings]
    assert data["files"] == static_report.files
    assert data["trace"] is None


def test_a_clean_run_says_so():
    page = html.render(Report(files=["good.py"], rules_run=["TL401"]))
    assert "No problems found" in page
    assert "No findings" in page
    assert with_class(parse(page), "article", "finding") == []


# -- escaping -------------------------------------------------------------------------------

EVIL = "<script>alert('x')</script>"


def test_paths_names_and_messages_are_shown_as_text_never_run(tmp_path):
    evil_file = tmp_path / "evil.py"
    evil_file.write_text(f"x = 1\nloader = '{EVIL}'  # </script>\n")
    report = Report(
        findings=[
            finding(
                name=f"name{EVIL}",
                message=f"loader `{EVIL}` is imbalanced",
                location=Location(f"dir{EVIL}/evil.py", 2, 1),
                evidence={f"key{EVIL}": EVIL, "counts": {EVIL: 3, "1": 1}},
                fixes=[FixRef("weighted-loss", {"criterion": EVIL})],
            )
        ],
        files=[EVIL],
        skipped=[SkippedRule("TL201", EVIL)],
        crashes=[RuleCrash("TL999", EVIL, EVIL, EVIL)],
    )
    lines = evil_file.read_text().splitlines()
    page = html.render(report, source_lines=lambda loc: lines[loc.line - 1] if loc.line <= len(lines) else None,
                       title=EVIL)
    doc = parse(page)
    # The only script element is the JSON data block, and nothing in it can close it.
    assert [a.get("type") for t, a in doc.elements if t == "script"] == ["application/json"]
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(" in page
    assert "loader = &#39;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&#39;  # &lt;/script&gt;" in page  # the excerpt
    data = embedded_data(doc)
    assert data["findings"][0]["location"]["path"] == f"dir{EVIL}/evil.py"
    assert data["files"] == [EVIL]


# -- excerpts -------------------------------------------------------------------------------


def test_excerpt_is_read_relative_to_root_and_marks_the_span(tmp_path):
    (tmp_path / "train.py").write_text("".join(f"line_{n} = {n}\n" for n in range(1, 21)))
    report = Report(findings=[finding(location=Location("train.py", 10, 1, end_line=11))])
    view = html.build_view(report, root=str(tmp_path))
    lines = view.findings[0].excerpt.lines
    assert [ln.number for ln in lines] == list(range(7, 15))
    assert [ln.number for ln in lines if ln.marked] == [10, 11]
    assert lines[3].text == "line_10 = 10"


def test_missing_source_says_why_instead_of_failing(tmp_path):
    report = Report(findings=[finding(location=Location("gone.py", 4, 1)),
                              finding(location=Location("short.py", 99, 1))])
    (tmp_path / "short.py").write_text("a = 1\n")
    view = html.build_view(report, root=str(tmp_path))
    assert view.findings[0].excerpt.missing == "gone.py is not on disk here, so no excerpt is shown"
    assert view.findings[1].excerpt.missing == "line 99 is not in short.py as it is on disk now"


def test_notebook_excerpt_comes_from_the_cell(tmp_path):
    nb = {"cells": [{"cell_type": "markdown", "source": "# title"},
                    {"cell_type": "code", "source": ["import torch\n"]},
                    {"cell_type": "code", "source": ["a = 1\n", "loader = DataLoader(ds)\n"]}],
          "nbformat": 4, "nbformat_minor": 5, "metadata": {}}
    (tmp_path / "nb.ipynb").write_text(json.dumps(nb))
    report = Report(findings=[finding(location=Location("nb.ipynb", 2, 1, cell=2))])
    lines = html.build_view(report, root=str(tmp_path)).findings[0].excerpt.lines
    shown = [(ln.number, ln.text, ln.marked) for ln in lines]
    assert shown == [(1, "a = 1", False), (2, "loader = DataLoader(ds)", True)]


# -- evidence and fixes ---------------------------------------------------------------------


def test_evidence_becomes_facts_tables_and_curves():
    evidence = {
        "ratio": 9.0,
        "class_counts": {"0": 900, "1": 100},
        "val_loss": [0.6, 0.5, float("nan"), 0.7],
        "loaders": [{"name": "train_loader", "batches": 50}],
    }
    view = html.evidence_view(evidence)
    assert view.facts == [("Ratio", "9")]
    counts = next(t for t in view.tables if t.title == "Class counts")
    assert counts.rows == [["0", "900", "90.0%"], ["1", "100", "10.0%"]]
    assert counts.shares == [1.0, pytest.approx(100 / 900)]
    loaders = next(t for t in view.tables if t.title == "Loaders")
    assert loaders.header == ["Name", "Batches"] and loaders.rows == [["train_loader", "50"]]
    (chart,) = view.charts
    # The NaN splits the curve into two drawn pieces instead of breaking the chart.
    assert chart.svg.count("<polyline") == 1 and chart.svg.count("<circle") == 1


def test_sibling_curves_share_a_chart_over_their_epochs():
    evidence = {"train_loss": [0.9, 0.5, 0.3], "val_loss": [0.8, 0.7, 0.9], "epochs": [3, 4, 5], "best_epoch": 4,
                "class_counts": [1430, 170], "lr": {"x": [0, 10, 20], "y": [0.1, 0.01, 0.001], "n": 21},
                "modes": {"train": {"train": 250, "eval": 0}, "eval": {"train": 35, "eval": 0}}}
    view = html.evidence_view(evidence)
    assert view.facts == [("Best epoch", "4")]  # the epochs list is the chart's axis, not a fact
    assert [c.title for c in view.charts] == ["LR", "Train loss vs Val loss"]
    gap = str(view.charts[1].svg)
    assert gap.count("<polyline") == 2 and ">epoch</text>" in gap
    assert [">3<" in gap, ">5<" in gap] == [True, True]  # x ticks are the epochs given, not 1..3
    counts, modes = view.tables
    assert counts.header == ["", "count", "share"] and counts.rows[1] == ["1", "170", "10.6%"]
    assert modes.header == ["", "Train", "Eval"] and modes.rows == [["train", "250", "0"], ["eval", "35", "0"]]


def test_fix_card_is_the_catalog_entry_filled_with_the_users_values():
    from trainlint import catalog

    ref = FixRef("weighted-loss", {"loss_name": "loss_fn", "class_counts": [900, 100]})
    expected = catalog.render(ref)
    page = html.render(Report(findings=[finding(fixes=[ref])]))
    titles = re.findall(r'<span class="fix-title">Fix: (.*?)</span>', page)
    codes = re.findall(r"<pre><code>(.*?)</code></pre>", page, re.DOTALL)
    assert [htmllib.unescape(t) for t in titles] == [expected.title]
    assert [htmllib.unescape(c) for c in codes] == [expected.code]
    assert "loss_fn = nn.CrossEntropyLoss(" in codes[0]
    assert htmllib.escape(expected.when, quote=False) in htmllib.unescape(page)


def test_registry_renders_html_and_honours_show_fixes():
    from trainlint import reporters

    report = Report(findings=[finding(fixes=[FixRef("weighted-loss")])])
    with_fixes = reporters.render(report, "html", color=True)
    without = reporters.render(report, "html", show_fixes=False)
    assert with_fixes.count('<section class="fix">') == 1
    assert without.count('<section class="fix">') == 0
    assert 'id="finding-1"' in without


def test_unknown_technique_is_reported_on_the_card_not_raised():
    page = html.render(Report(findings=[finding(fixes=[FixRef("no-such-technique")])]))
    assert "the fix catalog cannot render it" in page
    assert "no-such-technique" in page


def test_long_evidence_curve_is_downsampled_but_keeps_its_spike():
    values = [1.0] * 10_000
    values[7_777] = 50.0
    (chart,) = html.evidence_view({"loss": values}).charts
    points = re.findall(r'points="([^"]+)"', str(chart.svg))
    assert len(points) == 1
    xy = [tuple(map(float, p.split(","))) for p in points[0].split()]
    assert len(xy) <= MAX_POINTS
    assert min(y for _, y in xy) < 30  # the spike reaches near the top of the plot


def test_rules_table_lists_crashes_skips_and_runs():
    report = Report(
        rules_run=["TL901", "TL401"],
        skipped=[SkippedRule("TL201", "needs a probe trace: run with --probe")],
        crashes=[RuleCrash("TL401", "train.py", "ValueError: bad", "Traceback (most recent call last): ...")],
    )
    rows = html.build_view(report).rules
    assert [(r.code, r.status) for r in rows] == [("TL401", "crashed"), ("TL201", "skipped"), ("TL901", "ran")]
    assert rows[0].detail == "ValueError: bad (in train.py)"
    assert rows[1].detail == "needs a probe trace: run with --probe"
    assert rows[2].name == "unparsable-file"
    page = html.render(report)
    assert "1 rule crash" in page and "Traceback (most recent call last)" in page


# -- the probe sections ---------------------------------------------------------------------


def test_probe_report_draws_dynamics_data_and_model(probe_report):
    page = html.render(probe_report)
    doc = parse(page)
    titles = [a for t, a in doc.elements if t == "svg"]
    chart_titles = re.findall(r'<svg class="chart[^"]*"[^>]*><title>([^<]+)</title>', page)
    assert chart_titles[-5:] == [
        "Train vs validation loss per epoch",
        "Train vs validation accuracy per epoch",
        "Learning rate per optimizer step",
        "Gradient norm per optimizer step",
        "Class distribution per loader (share of each loader&#39;s samples)",
    ]
    assert len(titles) >= 5
    assert "no probe run" not in page
    # Data: split sizes with shares, sampled distribution, overlap verdict.
    assert "<td>1,600</td><td>80%</td>" in page
    assert "train_loader as sampled" in page
    assert "none found (400 evaluation samples compared with 1,600 training samples by hash)" in page
    # Model: the fx layer table.
    assert "<td>call_module</td><td>Linear</td><td>32×64</td>" in page
    assert "layers from torch.fx symbolic tracing" in page
    # Run details.
    assert "stopped by the epoch budget" in page
    assert "50 batches per epoch, 5 epochs, 120 s wall time" in page
    assert embedded_data(doc)["trace"]["script"] == "fixtures/probe/imbalance.py"


@pytest.mark.parametrize("trace_file", RECORDED_TRACES, ids=[p.stem for p in RECORDED_TRACES])
def test_every_recorded_probe_trace_renders_a_complete_report(trace_file, monkeypatch):
    monkeypatch.chdir(ROOT)
    trace = Trace.load(str(trace_file))
    report = engine.check([trace.script], trace=trace)
    page = html.render(report)
    doc = parse(page)
    assert len(with_class(doc, "article", "finding")) == len(report.findings)
    assert "Train vs validation loss per epoch" in page
    assert "no probe run" not in page
    assert embedded_data(doc)["trace"]["script"] == trace.script


def test_probe_sections_explain_what_a_failed_run_did_not_record():
    trace = {"format": "trainlint-trace", "version": 1, "script": "train.py",
             "run": {"status": "exception", "exception": {"type": "RuntimeError", "message": "CUDA out of memory",
                                                          "traceback": "Traceback ...\nRuntimeError: CUDA out of memory"},
                     "frame": {"path": "train.py", "line": 40, "function": "train"}},
             "loaders": [], "optimizers": [], "epochs": [], "models": []}
    page = html.render(Report(files=["train.py"], trace=trace))
    assert "raised an exception" in page
    assert "RuntimeError: CUDA out of memory" in page
    assert "train.py:40 in train" in page
    assert "no full train epoch was recorded" in page
    assert "no DataLoader was iterated during the run" in page
    assert "the probe saw no nn.Module run a forward pass" in page


def test_non_finite_trace_values_keep_the_embedded_json_valid():
    trace = json.loads(REPORT_TRACE.read_text())
    trace["epochs"][2]["train_loss"] = "nan"
    trace["optimizers"][0]["grad_norm"]["y"][10] = "inf"
    report = Report(trace=trace, findings=[finding(evidence={"loss": [1.0, math.inf, 2.0, math.nan]})])
    doc = parse(html.render(report))
    data = embedded_data(doc)
    assert data["trace"]["epochs"][2]["train_loss"] == "nan"
    # The same spelling of non-finite numbers as the trace and the JSON reporter.
    assert data["findings"][0]["evidence"]["loss"] == [1.0, "inf", 2.0, "nan"]


def _field_paths(value, prefix=()):
    """Every key path in a trace, taking the first item of each list."""
    if prefix:
        yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _field_paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value[:1]):
            yield from _field_paths(item, prefix + (index,))


def test_a_malformed_trace_field_never_breaks_the_probe_sections():
    from trainlint.reporters.html_trace import probe_view

    base = json.loads(REPORT_TRACE.read_text())
    broken = []
    for path in _field_paths(base):
        for junk in ("x", 3, [1, "a"], None, float("nan")):
            trace = json.loads(REPORT_TRACE.read_text())
            holder = trace
            for key in path[:-1]:
                holder = holder[key]
            holder[path[-1]] = junk
            try:
                probe_view(trace)
            except Exception as exc:  # collected so the test names every field that breaks
                broken.append(f"{'.'.join(map(str, path))}={junk!r}: {type(exc).__name__}: {exc}")
    assert broken == []


def test_module_tree_fallback_gives_its_reason():
    trace = json.loads(REPORT_TRACE.read_text())
    trace["models"][0]["graph"] = {"method": "module-tree", "reason": "control flow depends on input", "truncated": 12,
                                   "layers": [{"name": "encoder", "op": "module", "type": "LSTM", "shape": None}]}
    page = html.render(Report(trace=trace))
    assert "module tree shown because fx tracing failed: control flow depends on input" in page
    assert "12 more layers not recorded" in page
