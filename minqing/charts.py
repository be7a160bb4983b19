"""Charts drawn on the server as inline SVG: no chart library, nothing downloaded, readable without
JavaScript, scaled to the phone by its viewBox, and printable. Every label is escaped."""

from __future__ import annotations

from markupsafe import Markup, escape

SERIES_CLASSES = ("s0", "s1", "s2", "s3")


def _nice_max(value: float) -> float:
    """A round top for the axis (1, 2, 5 × 10ⁿ) at or above `value`."""
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def bars(title: str, rows: list[tuple[str, list[float]]], legend: list[str]) -> Markup:
    """Horizontal grouped bars, one group per row (a community), its name above its bars: a name of any
    length (English ones run long) stays whole on a phone."""
    label_h, bar_h, gap, width = 16, 18, 10, 480
    plot_w = width - 40
    top = _nice_max(max((v for _, values in rows for v in values), default=0))
    group_h = label_h + bar_h * len(legend) + gap
    height = 40 + group_h * max(len(rows), 1)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>', _legend(legend, 0)]
    for i, (label, values) in enumerate(rows):
        y = 34 + i * group_h
        parts.append(f'<text class="label" x="0" y="{y + label_h - 4}">{escape(label)}</text>')
        for j, value in enumerate(values):
            w = plot_w * value / top
            by = y + label_h + j * bar_h
            parts.append(f'<rect class="{SERIES_CLASSES[j % 4]}" x="0" y="{by}" width="{w:.1f}" '
                         f'height="{bar_h - 2}"><title>{escape(legend[j])}: {_number(value)}</title></rect>'
                         f'<text class="value" x="{w + 4:.1f}" y="{by + bar_h - 4}">{_number(value)}</text>')
    if not rows:
        parts.append('<text class="label" x="0" y="52">—</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def line(title: str, months: list[str], series: list[list[float]], legend: list[str]) -> Markup:
    """One line per series over the months, with the axis labelled by month number."""
    width, height, left, right, top_pad, bottom = 480, 260, 40, 12, 40, 28
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    top = _nice_max(max((v for values in series for v in values), default=0))
    step = plot_w / max(len(months) - 1, 1)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>', _legend(legend, left)]
    for k in range(5):
        y = top_pad + plot_h * k / 4
        parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text class="axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
                     f'{_number(top * (4 - k) / 4)}</text>')
    for i, month in enumerate(months):
        parts.append(f'<text class="axis" x="{left + i * step:.1f}" y="{height - 8}" text-anchor="middle">'
                     f'{escape(month[-2:].lstrip("0"))}</text>')
    for j, values in enumerate(series):
        points = " ".join(f"{left + i * step:.1f},{top_pad + plot_h * (1 - v / top):.1f}" for i, v in enumerate(values))
        parts.append(f'<polyline class="line {SERIES_CLASSES[j % 4]}" points="{points}"/>')
        for i, v in enumerate(values):
            parts.append(f'<circle class="{SERIES_CLASSES[j % 4]}" cx="{left + i * step:.1f}" '
                         f'cy="{top_pad + plot_h * (1 - v / top):.1f}" r="3"><title>{escape(months[i])} '
                         f'{escape(legend[j])}: {_number(v)}</title></circle>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _legend(legend: list[str], x: float) -> str:
    items, offset = [], x
    for j, name in enumerate(legend):
        items.append(f'<rect class="{SERIES_CLASSES[j % 4]}" x="{offset}" y="8" width="12" height="12"/>'
                     f'<text class="legend" x="{offset + 16}" y="19">{escape(name)}</text>')
        offset += 24 + 14 * len(name)
    return "".join(items)
