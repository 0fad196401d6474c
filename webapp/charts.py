"""Bar charts drawn on the server as accessible SVG: no JavaScript, readable on paper.

A chart is an image with a name and a description (`role="img"`, `aria-labelledby` pointing
at its `<title>`, `aria-describedby` at its `<desc>`); the description spells out every value,
so a screen reader gets the whole chart. Each bar carries its number as text, and series
differ by pattern (plain, hatched, dotted) as well as by shade, so nothing depends on seeing
colours. The page shows the same numbers in a table next to each chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
LABEL_WIDTH = 250  # the category names, left of the bars, on one or two lines
VALUE_ROOM = 70  # the number written after the longest bar
BAR_HEIGHT = 22
BAR_GAP = 4
GROUP_GAP = 14
LEGEND_ROW = 30
FONT_SIZE = 15
MAX_LABEL_CHARS = 26  # per line
LINE_HEIGHT = 18
INK = "#1a1a1a"  # text and bar outlines: 17:1 on white
# Fills of the series, each with its own pattern; dark enough for 3:1 against white.
SERIES_STYLES = ("solid", "hatched", "dotted", "striped")
DARK = "#0b4f8a"


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float, ...]


def _number(value: float) -> str:
    """'12', '3,5': French decimals, no trailing zero."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.1f}".replace(".", ",")


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


def _label_lines(label: str) -> list[str]:
    """A category name on one line, or two cut at a space (the table has it in full)."""
    if len(label) <= MAX_LABEL_CHARS:
        return [label]
    cut = label.rfind(" ", 0, MAX_LABEL_CHARS + 1)
    if cut <= 0:
        cut = MAX_LABEL_CHARS
    return [label[:cut], _short(label[cut:].strip())]


def _patterns(chart_id: str) -> str:
    """One pattern per series style; ids are prefixed so several charts share a page."""
    return (
        "<defs>"
        f'<pattern id="{chart_id}-hatched" width="8" height="8" patternUnits="userSpaceOnUse"'
        ' patternTransform="rotate(45)">'
        '<rect width="8" height="8" fill="#ffffff"/>'
        f'<rect width="4" height="8" fill="{DARK}"/></pattern>'
        f'<pattern id="{chart_id}-dotted" width="7" height="7" patternUnits="userSpaceOnUse">'
        '<rect width="7" height="7" fill="#ffffff"/>'
        f'<circle cx="3.5" cy="3.5" r="2.2" fill="{INK}"/></pattern>'
        f'<pattern id="{chart_id}-striped" width="6" height="6" patternUnits="userSpaceOnUse">'
        '<rect width="6" height="6" fill="#ffffff"/>'
        f'<rect width="6" height="3" fill="{INK}"/></pattern>'
        "</defs>"
    )


def _fill(chart_id: str, index: int) -> str:
    style = SERIES_STYLES[index % len(SERIES_STYLES)]
    return DARK if style == "solid" else f"url(#{chart_id}-{style})"


def _description(
    description: str, categories: Sequence[str], series: Sequence[Series], unit: str
) -> str:
    parts = []
    for index, category in enumerate(categories):
        values = ", ".join(
            f"{s.name.lower()} {_number(s.values[index])}{unit}"
            if len(series) > 1
            else f"{_number(s.values[index])}{unit}"
            for s in series
        )
        parts.append(f"{category} : {values}")
    return f"{description} " + " ; ".join(parts) + "."


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    unit: str = "",
) -> Markup:
    """A horizontal bar chart: one group of bars per category, one bar per series."""
    if not series or any(len(s.values) != len(categories) for s in series):
        raise ValueError("Chaque série doit avoir une valeur par catégorie.")
    top = LEGEND_ROW if len(series) > 1 else 6
    bars_height = len(series) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP
    lines = [_label_lines(category) for category in categories]
    group_height = max(bars_height, max((len(x) for x in lines), default=1) * LINE_HEIGHT + 2)
    height = top + len(categories) * (group_height + GROUP_GAP) + 4
    largest = max((v for s in series for v in s.values), default=0) or 1
    room = WIDTH - LABEL_WIDTH - VALUE_ROOM
    title_id, desc_id = f"{chart_id}-titre", f"{chart_id}-description"
    parts = [
        f'<svg class="chart" id="{chart_id}" role="img" aria-labelledby="{title_id}"'
        f' aria-describedby="{desc_id}"'
        f' viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet"'
        f' font-family="DejaVu Sans, Verdana, sans-serif" font-size="{FONT_SIZE}"'
        ' xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">'
        f"{escape(_description(description, categories, series, unit))}</desc>",
        _patterns(chart_id),
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
    ]
    if len(series) > 1:
        x = LABEL_WIDTH
        for index, s in enumerate(series):
            parts.append(
                f'<rect x="{x}" y="6" width="18" height="18" fill="{_fill(chart_id, index)}"'
                f' stroke="{INK}" stroke-width="1"/>'
                f'<text x="{x + 24}" y="20" fill="{INK}">{escape(s.name)}</text>'
            )
            x += 40 + 9 * len(s.name)
    for row in range(len(categories)):
        y = top + row * (group_height + GROUP_GAP)
        first_line = y + bars_height / 2 + 5 - (len(lines[row]) - 1) * LINE_HEIGHT / 2
        parts.append(
            f'<text text-anchor="end" fill="{INK}">'
            + "".join(
                f'<tspan x="{LABEL_WIDTH - 8}" y="{first_line + i * LINE_HEIGHT:.1f}">'
                f"{escape(line)}</tspan>"
                for i, line in enumerate(lines[row])
            )
            + "</text>"
        )
        for index, s in enumerate(series):
            value = s.values[row]
            bar_y = y + index * (BAR_HEIGHT + BAR_GAP)
            width = room * value / largest
            if value > 0:
                parts.append(
                    f'<rect x="{LABEL_WIDTH}" y="{bar_y}" width="{max(width, 2):.1f}"'
                    f' height="{BAR_HEIGHT}" fill="{_fill(chart_id, index)}"'
                    f' stroke="{INK}" stroke-width="1"/>'
                )
            parts.append(
                f'<text x="{LABEL_WIDTH + width + 6:.1f}" y="{bar_y + BAR_HEIGHT - 5}"'
                f' fill="{INK}" font-weight="bold">{_number(value)}{escape(unit)}</text>'
            )
    parts.append(
        f'<line x1="{LABEL_WIDTH}" y1="{top - 2}" x2="{LABEL_WIDTH}" y2="{height - 4}"'
        f' stroke="{INK}" stroke-width="1.5"/>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))
