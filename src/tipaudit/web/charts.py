"""Small, accessible SVG charts rendered on the server.

Charts are inline SVG with a title and a description for screen readers, drawn with
presentation attributes and CSS classes only (the strict CSP forbids inline styles and
scripts). Every chart is paired on the page with the same data as a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

TIER_ORDER = ("Tier 1", "Tier 2", "Tier 2 Watch List", "Tier 3")


def _text(x: float, y: float, value: str, *, anchor: str = "start", cls: str = "") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{klass}>{escape(value)}</text>'


def tier_history_svg(
    points: Sequence[tuple[int, str | None]], *, title: str, description: str, chart_id: str
) -> Markup:
    """A dot-and-line chart of TIP tier placements by report year (Tier 1 at the top)."""
    years = [year for year, _ in points]
    if not years:
        return Markup("")
    left, right, top, row = 150, 20, 20, 34
    first, last = min(years), max(years)
    span = max(last - first, 1)
    width = 640
    plot_w = width - left - right
    height = top + row * len(TIER_ORDER) + 40

    def x_of(year: int) -> float:
        return left + plot_w * (year - first) / span

    def y_of(tier: str) -> float:
        return top + row * TIER_ORDER.index(tier) + row / 2

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="chart" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'preserveAspectRatio="xMinYMin meet">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(description)}</desc>',
    ]
    for tier in TIER_ORDER:
        y = y_of(tier)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
        )
        parts.append(_text(left - 10, y + 4, tier, anchor="end", cls="axis"))
    step = 1 if span <= 10 else 2
    for year in range(first, last + 1, step):
        parts.append(_text(x_of(year), height - 12, str(year), anchor="middle", cls="axis"))
    placed = [(year, tier) for year, tier in points if tier in TIER_ORDER]
    segment: list[str] = []
    previous_year: int | None = None
    for year, tier in placed:
        assert tier is not None
        if previous_year is not None and year != previous_year + 1 and segment:
            parts.append(f'<polyline points="{" ".join(segment)}" class="series"/>')
            segment = []
        segment.append(f"{x_of(year):.1f},{y_of(tier):.1f}")
        previous_year = year
    if segment:
        parts.append(f'<polyline points="{" ".join(segment)}" class="series"/>')
    for year, tier in placed:
        assert tier is not None
        level = TIER_ORDER.index(tier)
        parts.append(
            f'<circle cx="{x_of(year):.1f}" cy="{y_of(tier):.1f}" r="5" '
            f'class="point tier-{level}"><title>{year}: {escape(tier)}</title></circle>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in the SVG went through escape()


def bar_chart_svg(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    description: str,
    chart_id: str,
    value_label: str = "",
) -> Markup:
    """Horizontal bars, largest first as given; labels on the left, values at the bar end."""
    if not items:
        return Markup("")
    shown_labels = [label if len(label) <= 36 else label[:35] + "…" for label, _ in items]
    longest = max(len(label) for label in shown_labels)
    left, right, top, row = min(300, int(7.4 * longest) + 16), 70, 10, 26
    width = 640 + max(0, left - 220)
    plot_w = width - left - right
    height = top + row * len(items) + 10
    largest = max((value for _, value in items), default=0.0) or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="chart" role="img" aria-labelledby="{chart_id}-t {chart_id}-d">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(description)}</desc>',
    ]
    for index, (_, value) in enumerate(items):
        y = top + row * index
        bar = plot_w * (value / largest)
        shown = shown_labels[index]
        parts.append(_text(left - 8, y + row * 0.65, shown, anchor="end", cls="axis"))
        parts.append(
            f'<rect x="{left}" y="{y + 4}" width="{bar:.1f}" height="{row - 8}" class="bar"/>'
        )
        number = f"{value:,.0f}" if value >= 10 else f"{value:,.2g}"
        parts.append(_text(left + bar + 6, y + row * 0.65, f"{number}{value_label}", cls="value"))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in the SVG went through escape()
