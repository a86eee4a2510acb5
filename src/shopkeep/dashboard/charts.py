"""Bar charts as inline SVG, rendered on the server: no JavaScript, no CDN, nothing the
strict CSP has to allow (presentation attributes only, colours from app.css classes).
Every bar carries a <title> with its exact value, and the chart a text summary for screen
readers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 720, 200
LEFT, BOTTOM, TOP = 24, 28, 12


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]
    css: str  # chart-a, chart-b: the fill colour lives in app.css


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop ends at 10 * magnitude


def _fmt(value: float, unit: str) -> str:
    text = f"{value:,.2f}" if unit else f"{value:,.0f}"
    return f"{text} {unit}".strip()


def bar_chart(*, title: str, labels: Sequence[str], series: Sequence[Series],
              unit: str = "") -> SafeString:
    """Stacked bars, one per label; ``unit`` (a currency code) formats money values."""
    count = max(len(labels), 1)
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    top = _nice_max(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    slot = plot_w / count
    bar_w = max(slot * 0.7, 1.0)
    rects = []
    for i, label in enumerate(labels):
        base = 0.0
        for s in series:
            value = float(s.values[i])
            if value <= 0:
                continue
            h = plot_h * value / top
            y = TOP + plot_h - (plot_h * base / top) - h
            rects.append((f"{s.css}", f"{LEFT + i * slot + (slot - bar_w) / 2:.1f}",
                          f"{y:.1f}", f"{bar_w:.1f}", f"{h:.1f}",
                          f"{label}: {s.name} {_fmt(value, unit)}"))
            base += value
    step = max(1, count // 6)
    ticks = [(f"{LEFT + i * slot + slot / 2:.1f}", labels[i])
             for i in range(0, len(labels), step)]
    summary = "; ".join(f"{labels[i]} {_fmt(totals[i], unit)}" for i in range(len(labels))
                        if totals[i])
    return format_html(
        '<figure class="chart"><figcaption>{}</figcaption>'
        '<svg viewBox="0 0 {} {}" role="img" aria-label="{}"'
        ' class="chart-svg">'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" class="chart-axis"/>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" class="chart-grid"/>'
        '<text x="{}" y="{}" class="chart-tick" text-anchor="start">{}</text>'
        '<text x="{}" y="{}" class="chart-tick" text-anchor="end">0</text>'
        '{}{}</svg>{}</figure>',
        title, WIDTH, HEIGHT, f"{title}. {summary or 'No data in this period.'}",
        LEFT, TOP + plot_h, WIDTH - 8, TOP + plot_h,
        LEFT, TOP, WIDTH - 8, TOP, LEFT + 4, TOP + 16, _fmt(top, unit), LEFT - 6, TOP + plot_h,
        format_html_join("", '<rect class="{}" x="{}" y="{}" width="{}" height="{}">'
                         '<title>{}</title></rect>', rects),
        format_html_join("", '<text x="{}" y="' + str(HEIGHT - 8) + '" class="chart-tick" '
                         'text-anchor="middle">{}</text>', ticks),
        _legend(series) if len(series) > 1 else "")


def _legend(series: Sequence[Series]) -> SafeString:
    return format_html('<p class="chart-legend">{}</p>', format_html_join(
        " ", '<span class="chart-key {}" aria-hidden="true"></span> {}',
        ((s.css, s.name) for s in series)))
