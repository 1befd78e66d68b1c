"""Inline SVG charts for the HTML report, drawn in Python so the page needs no JavaScript.

Colours come from CSS classes (``series-0`` ...) that the page's stylesheet defines, so charts
follow the page into dark mode and print. Every text that reaches the SVG is escaped here.
Long curves are downsampled per pixel column (keeping each column's minimum and maximum), so a
10,000-step run costs a few hundred points and spikes stay visible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

from markupsafe import Markup, escape

from trainlint.probe.trace import downsample as downsample_curve

# Points kept per series: about two per horizontal pixel of a full-width chart.
MAX_POINTS = 600
SERIES_CLASSES = 6


@dataclass
class Series:
    name: str
    points: list[tuple[float, float]]
    dashed: bool = False


@dataclass
class BarGroup:
    """One category on the x axis (a class label) and its value in each series (a split)."""

    label: str
    values: list[float] = field(default_factory=list)


def finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def downsample(points: Sequence[tuple[float, float]], max_points: int = MAX_POINTS) -> list[tuple[float, float]]:
    """At most about ``max_points`` points, keeping each bucket's extremes (the trace's own rule)."""
    if len(points) <= max_points:
        return list(points)
    # The trace keeps two points per bucket plus both ends, so ask for two fewer.
    curve = downsample_curve([x for x, _ in points], [y for _, y in points], max_points - 2)
    return list(zip(curve["x"], curve["y"]))


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten) covering [lo, hi]."""
    if hi <= lo:
        # A constant curve (a fixed learning rate): centre it in a band of +-10%.
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    if not math.isfinite(hi - lo):
        return [lo, hi]  # a span past float range (values near ±1e308): no round steps exist
    raw = (hi - lo) / max(1, count)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    value = start
    while value <= hi + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    if ticks[-1] < hi:
        ticks.append(round(value, 12))
    return ticks


def format_tick(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1e5 or abs(value) < 1e-5:
        return f"{value:.2g}"
    # Six significant digits hide float noise (0.30000000000000004) yet keep 0.00105 apart from 0.001.
    return f"{value:.6g}"


class _Frame:
    """Maps data coordinates to pixels inside the plotting area, with a log option for y."""

    def __init__(self, width, height, x_range, y_range, log_y, left=64, right=14, top=12, bottom=36):
        self.width, self.height = width, height
        self.left, self.right, self.top, self.bottom = left, right, top, bottom
        self.x0, self.x1 = x_range
        self.y0, self.y1 = y_range
        self.log_y = log_y

    def _ty(self, y: float) -> float:
        return math.log10(y) if self.log_y else y

    def px(self, x: float) -> float:
        span = (self.x1 - self.x0) or 1.0
        return self.left + (x - self.x0) / span * (self.width - self.left - self.right)

    def py(self, y: float) -> float:
        lo, hi = self._ty(self.y0), self._ty(self.y1)
        span = (hi - lo) or 1.0
        return self.height - self.bottom - (self._ty(y) - lo) / span * (self.height - self.top - self.bottom)


def _y_label(frame: _Frame, text: str) -> str:
    if not text:
        return ""
    middle = (frame.top + frame.height - frame.bottom) / 2
    return f'<text class="label" transform="rotate(-90)" x="{-middle:.0f}" y="12" text-anchor="middle">{escape(text)}</text>'


def _svg_open(width: int, height: int, title: str, css_class: str) -> list[str]:
    return [
        f'<svg class="chart {css_class}" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="xMidYMid meet" role="img" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]


def _segments(points: list[tuple[float, float]], log_y: bool) -> list[list[tuple[float, float]]]:
    """Split a curve where a value is missing or not drawable, so gaps stay visible as gaps."""
    segments: list[list[tuple[float, float]]] = [[]]
    for x, y in points:
        if finite(x) and finite(y) and (y > 0 or not log_y):
            segments[-1].append((x, y))
        elif segments[-1]:
            segments.append([])
    return [s for s in segments if s]


def line_chart(
    series: list[Series],
    *,
    title: str,
    x_label: str = "",
    y_label: str = "",
    width: int = 500,
    height: int = 250,
    log_y: bool = False,
    compact: bool = False,
) -> Markup:
    """A line chart with axes, ticks, a legend and one polyline per continuous segment."""
    drawn = [Series(s.name, downsample(s.points), s.dashed) for s in series]
    xs = [x for s in drawn for x, y in s.points if finite(x) and finite(y)]
    ys = [y for s in drawn for x, y in s.points if finite(x) and finite(y) and (y > 0 or not log_y)]
    if not xs or not ys:
        return Markup('<p class="muted">no finite values to plot</p>')
    if log_y and max(ys) / min(ys) < 10:
        log_y = False  # less than a decade: a linear axis reads better
    out = _svg_open(width, height, title, "chart-compact" if compact else "chart-line")
    if compact:
        frame = _Frame(width, height, (min(xs), max(xs)), (min(ys), max(ys)), log_y, left=4, right=4, top=4, bottom=4)
        y_ticks: list[float] = []
    else:
        if log_y:
            lo, hi = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
            y_ticks = [10.0**e for e in range(lo, hi + 1)]
        else:
            y_ticks = nice_ticks(min(ys), max(ys))
        x_ticks = nice_ticks(min(xs), max(xs), count=6)
        frame = _Frame(width, height, (x_ticks[0], x_ticks[-1]), (y_ticks[0], y_ticks[-1]), log_y)
        out.append('<g class="axis">')
        for t in y_ticks:
            y = frame.py(t)
            out.append(f'<line class="grid" x1="{frame.left}" x2="{width - frame.right}" y1="{y:.1f}" y2="{y:.1f}"/>')
            out.append(f'<text x="{frame.left - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(format_tick(t))}</text>')
        base = height - frame.bottom
        for t in x_ticks:
            x = frame.px(t)
            out.append(f'<line class="tick" x1="{x:.1f}" x2="{x:.1f}" y1="{base}" y2="{base + 4}"/>')
            out.append(f'<text x="{x:.1f}" y="{base + 16}" text-anchor="middle">{escape(format_tick(t))}</text>')
        out.append(f'<line class="baseline" x1="{frame.left}" x2="{width - frame.right}" y1="{base}" y2="{base}"/>')
        if x_label:
            middle = (frame.left + width - frame.right) / 2
            out.append(f'<text class="label" x="{middle:.0f}" y="{height - 4}" text-anchor="middle">{escape(x_label)}</text>')
        out.append(_y_label(frame, y_label))
        out.append("</g>")
    for i, s in enumerate(drawn):
        cls = f"series series-{i % SERIES_CLASSES}" + (" dashed" if s.dashed else "")
        for seg in _segments(s.points, log_y):
            if len(seg) == 1:
                x, y = seg[0]
                out.append(f'<circle class="{cls} dot" cx="{frame.px(x):.1f}" cy="{frame.py(y):.1f}" r="3"/>')
                continue
            pts = " ".join(f"{frame.px(x):.1f},{frame.py(y):.1f}" for x, y in seg)
            out.append(f'<polyline class="{cls}" points="{pts}"/>')
    out.append("</svg>")
    if len(drawn) > 1:
        out.append(_legend([s.name for s in drawn], [s.dashed for s in drawn]))
    return Markup("".join(out))


def _legend(names: list[str], dashed: list[bool] | None = None, box: bool = False) -> str:
    dashed = dashed or [False] * len(names)
    kind = " box" if box else ""
    items = "".join(
        f'<li><span class="swatch{kind} series-{i % SERIES_CLASSES}{" dashed" if d else ""}"></span>{escape(n)}</li>'
        for i, (n, d) in enumerate(zip(names, dashed))
    )
    return f'<ul class="legend">{items}</ul>'


def bar_chart(
    groups: list[BarGroup],
    series_names: list[str],
    *,
    title: str,
    y_label: str = "",
    width: int = 1000,
    height: int = 260,
    proportions: bool = False,
) -> Markup:
    """Grouped vertical bars: one group per category, one bar per series in each group.

    With ``proportions`` each series is divided by its own total, so splits of very different
    sizes can be compared by shape."""
    values = [list(g.values) for g in groups]
    if proportions:
        totals = [sum(v[i] for v in values if i < len(v) and finite(v[i])) or 1 for i in range(len(series_names))]
        values = [[(x / totals[i]) if finite(x) else 0 for i, x in enumerate(v)] for v in values]
    top = max([x for v in values for x in v if finite(x)] or [0])
    if not groups or top <= 0:
        return Markup('<p class="muted">no counts to plot</p>')
    y_ticks = nice_ticks(0, top, count=4)
    frame = _Frame(width, height, (0, len(groups)), (0, y_ticks[-1]), False)
    out = _svg_open(width, height, title, "chart-bar")
    out.append('<g class="axis">')
    for t in y_ticks:
        y = frame.py(t)
        label = f"{t:.0%}" if proportions else format_tick(t)
        out.append(f'<line class="grid" x1="{frame.left}" x2="{width - frame.right}" y1="{y:.1f}" y2="{y:.1f}"/>')
        out.append(f'<text x="{frame.left - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(label)}</text>')
    out.append(_y_label(frame, y_label))
    out.append("</g>")
    slot = frame.px(1) - frame.px(0)
    n = max(1, len(series_names))
    # Bars no wider than 44px: two classes should not fill the page with two slabs.
    bar_w = min(slot * 0.8 / n, 44.0)
    pad = (slot - bar_w * n) / 2
    base = frame.py(0)
    # Label every group when they fit, else every k-th so labels never overlap.
    every = max(1, math.ceil(len(groups) * 28 / (width - frame.left - frame.right)))
    for gi, (group, vals) in enumerate(zip(groups, values)):
        x0 = frame.px(gi) + pad
        for si, v in enumerate(vals):
            if not finite(v) or v <= 0:
                continue
            y = frame.py(v)
            shown = f"{v:.1%}" if proportions else format_tick(v)
            out.append(
                f'<rect class="bar series-{si % SERIES_CLASSES}" x="{x0 + si * bar_w:.1f}" y="{y:.1f}" '
                f'width="{max(bar_w - 1, 1):.1f}" height="{base - y:.1f}">'
                f"<title>{escape(series_names[si] if si < len(series_names) else '')} · "
                f"{escape(group.label)}: {escape(shown)}</title></rect>"
            )
        if gi % every == 0:
            x = frame.px(gi + 0.5)
            out.append(f'<text x="{x:.1f}" y="{base + 16:.1f}" text-anchor="middle">{escape(group.label)}</text>')
    out.append(f'<line class="baseline" x1="{frame.left}" x2="{width - frame.right}" y1="{base:.1f}" y2="{base:.1f}"/>')
    out.append("</svg>")
    out.append(_legend(series_names, box=True))
    return Markup("".join(out))
