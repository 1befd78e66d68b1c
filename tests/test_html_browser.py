"""The HTML report in a real browser: headless Chromium loads it from disk and we check that it
ran no failing script, asked the network for nothing, and shows the findings and the charts."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from browser import find_chromium, load_page
from trainlint import engine
from trainlint.model import Finding, Location, Report, Severity
from trainlint.probe.trace import Trace
from trainlint.reporters import html

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(find_chromium() is None, reason="chromium is not installed (apt-get install chromium)"),
]

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_TRACE = ROOT / "tests" / "data" / "sample_trace.json"

PAGE_FACTS = {
    "cards": "document.querySelectorAll('article.finding').length",
    "card_codes": "[...document.querySelectorAll('article.finding')].map(a => a.dataset.code)",
    "charts": "[...document.querySelectorAll('svg.chart')].map(s => s.querySelector('title').textContent)",
    "drawn_lines": "document.querySelectorAll('svg.chart polyline').length",
    "drawn_bars": "document.querySelectorAll('svg.chart rect.bar').length",
    "chart_height": "Math.min(...[...document.querySelectorAll('svg.chart')]"
                    ".map(s => s.getBoundingClientRect().height))",
    "verdict": "document.querySelector('#verdict .headline').textContent",
    "data_findings": "JSON.parse(document.getElementById('trainlint-data').textContent).findings.length",
    "scripts": "document.scripts.length",
}


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def open_report(report, tmp_path: Path, name: str, **load) -> tuple:
    page = tmp_path / f"{name}.html"
    page.write_text(html.render(report, root=str(ROOT)), encoding="utf-8")
    shot = tmp_path / f"{name}.png"
    result = load_page(page, evaluate=PAGE_FACTS, screenshot=shot, **load)
    return result, shot


@pytest.fixture
def probe_report(monkeypatch):
    monkeypatch.chdir(ROOT)
    return engine.check([], trace=Trace.load(str(SAMPLE_TRACE)))


@pytest.fixture
def static_report(monkeypatch):
    monkeypatch.chdir(ROOT)
    return engine.check(["fixtures/"])


def test_probe_report_loads_cleanly_and_shows_charts(probe_report, tmp_path):
    result, shot = open_report(probe_report, tmp_path, "probe")
    assert result.problems == []
    v = result.values
    assert v["cards"] == len(probe_report.findings) == v["data_findings"]
    assert sorted(v["card_codes"]) == sorted(f.code for f in probe_report.findings)
    for title in ("Train vs validation loss per epoch", "Learning rate per optimizer step",
                  "Gradient norm per optimizer step", "Class distribution per loader (share of each loader's samples)"):
        assert title in v["charts"]
    assert v["drawn_lines"] >= 5 and v["drawn_bars"] >= 4
    assert v["chart_height"] > 100  # charts are laid out at a readable size, not collapsed
    assert v["scripts"] == 1  # the JSON data block; the page runs no code
    assert png_size(shot) == (1280, 4000)


@pytest.mark.probe
def test_report_of_a_real_probe_run_loads_cleanly(monkeypatch, tmp_path):
    pytest.importorskip("torch")
    from trainlint.probe.runner import run_probe
    from trainlint.probe.trace import Budgets

    monkeypatch.chdir(ROOT)
    script = "fixtures/probe/imbalance.py"
    trace = run_probe(script, budgets=Budgets(max_batches=20, max_epochs=2, timeout_s=300), quiet=True)
    report = engine.check([script], trace=trace)
    assert report.trace is not None and report.trace["epochs"], "the probe recorded no epoch"
    result, shot = open_report(report, tmp_path, "real-probe")
    assert result.problems == []
    v = result.values
    assert v["cards"] == len(report.findings) >= 1
    assert "TL301" in v["card_codes"]  # the fixture's expected finding, shown as a card
    assert "Train vs validation loss per epoch" in v["charts"]
    assert "Class distribution per loader (share of each loader's samples)" in v["charts"]
    assert v["drawn_lines"] >= 4


def test_static_report_over_fixtures_loads_cleanly_and_shows_findings(static_report, tmp_path):
    assert static_report.findings, "the fixtures folder should produce findings"
    result, shot = open_report(static_report, tmp_path, "static")
    assert result.problems == []
    v = result.values
    assert v["cards"] == len(static_report.findings) == v["data_findings"]
    assert sorted(v["card_codes"]) == sorted(f.code for f in static_report.findings)
    assert v["verdict"] in ("Training is at risk", "Needs attention", "Suggestions only")
    assert png_size(shot) == (1280, 4000)


def test_dark_mode_and_print_styles_apply(probe_report, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(html.render(probe_report, root=str(ROOT)), encoding="utf-8")
    background = "getComputedStyle(document.documentElement).backgroundColor"
    toc = "getComputedStyle(document.querySelector('nav.toc')).display"
    light = load_page(page, evaluate={"bg": background, "toc": toc}, color_scheme="light")
    dark = load_page(page, evaluate={"bg": background}, color_scheme="dark")
    ink = "getComputedStyle(document.querySelector('h1')).color"
    printed = load_page(page, evaluate={"bg": background, "toc": toc, "ink": ink}, media="print", color_scheme="dark")
    assert light.values["bg"] == "rgb(246, 247, 249)"
    assert dark.values["bg"] == "rgb(18, 21, 27)"
    assert light.values["toc"] == "flex" and printed.values["toc"] == "none"
    # Printing from a dark-mode screen still gives dark ink on white paper.
    assert printed.values["bg"] == "rgb(255, 255, 255)" and printed.values["ink"] == "rgb(28, 35, 48)"


def test_a_broken_page_is_caught(tmp_path):
    """The checks above can fail: a page that logs an error, throws and fetches is flagged."""
    page = tmp_path / "broken.html"
    page.write_text(
        "<!doctype html><html><body><h1>broken</h1>"
        '<img src="http://127.0.0.1:9/logo.png">'
        "<script>console.error('chart failed'); undefinedFunction();</script>"
        "</body></html>"
    )
    result = load_page(page)
    assert "chart failed" in result.console_errors
    assert any("undefinedFunction is not defined" in e for e in result.exceptions)
    assert result.requests == ["http://127.0.0.1:9/logo.png"]
    assert result.problems


def test_script_in_a_message_is_shown_as_text_and_never_runs(tmp_path):
    payload = "<script>console.error('injected')</script><img src=x onerror=\"console.error('img')\">"
    report = Report(
        findings=[Finding("TL301", "unhandled-class-imbalance", Severity.WARNING, f"loader `{payload}` is imbalanced",
                          Location(f"{payload}.py", 1, 1), evidence={payload: payload})],
        files=[f"{payload}.py"],
    )
    page = tmp_path / "evil.html"
    page.write_text(html.render(report), encoding="utf-8")
    result = load_page(page, evaluate={"message": "document.querySelector('.finding .message').textContent"})
    assert result.problems == []
    assert result.values["message"] == f"loader {payload} is imbalanced"
