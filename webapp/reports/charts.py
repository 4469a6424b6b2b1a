"""Charts for reports: SVG drawn on the server with pygal, no browser and no script involved.

The SVG is embedded inline in the report, so WeasyPrint draws it as vector graphics with real text
(selectable, in "Noto Sans CJK SC") and a browser shows the same picture. pygal's tooltips need
JavaScript from a CDN: `js=[]` leaves it out. Labels are framework data, escaped by pygal's XML writer.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import pygal
from pygal.style import Style

# pygal 3.0.5 appends a legacy finder without find_spec() to sys.meta_path (for its map plugins,
# unused here), so every later failed import (multiprocessing's `_winapi` on Linux, ...) raises
# ImportWarning. Take it out again.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

FONT = '"Noto Sans CJK SC", "Noto Sans CJK", sans-serif'
CURRENT = "#1f5fa8"
PREVIOUS = "#5b6675"
TARGET = "#b3261e"


@dataclass(frozen=True)
class Series:
    title: str
    values: Sequence[float | None]


def _style(colors: tuple[str, ...]) -> Style:
    return Style(
        font_family=FONT,
        background="#ffffff",
        plot_background="#ffffff",
        foreground="#1c2430",
        foreground_strong="#1c2430",
        foreground_subtle="#8a94a3",
        colors=colors,
        opacity=".45",
        opacity_hover=".45",
        label_font_size=14,
        major_label_font_size=12,
        legend_font_size=12,
        value_font_size=12,
        value_label_font_size=12,
        tooltip_font_size=12,
        title_font_size=16,
    )


# Tooltip data and pygal's script: nothing to draw, and WeasyPrint would still parse them. WeasyPrint
# draws SVG text one letter at a time, so the charts keep their text short (the table has the numbers).
_STRIP = re.compile(
    r"<desc\b[^>]*>.*?</desc>|<title\b[^>]*>.*?</title>|<script\b.*?</script>|<!--.*?-->", re.S
)


# pygal's stylesheet serves tooltips, hover effects, gauges, maps and more; WeasyPrint parses and
# matches every rule of it. Keep the rules a static chart uses.
_UNUSED_RULE = re.compile(
    r":hover|\.tooltip|\.active|\.showable|\.gauge|\.dot|no_data|\.title|\.map-element|\.bound|\.max-value"
    r"|\.ci\b|\.text-overlay|\.bg-lines|\.subtle-fill|transition|path,line,rect,circle"
)
_RULE = re.compile(r"([^{}]+)\{([^}]*)\}")


def _slim_css(match: re.Match[str]) -> str:
    kept = [
        f"{sel}{{{body}}}"
        for sel, body in _RULE.findall(match.group(2))
        if not _UNUSED_RULE.search(sel) and "transition" not in body
    ]
    return match.group(1) + "".join(kept) + match.group(3)


def _clean(svg: str) -> str:
    svg = _STRIP.sub("", svg)
    return re.sub(r"(<style[^>]*>)(.*?)(</style>)", _slim_css, svg, count=1, flags=re.S)


MAX_LABEL = 20  # display width of a chart label, a Han character counting two


def _width(text: str) -> int:
    return len(text) + _wide(text)


def short_label(title: str) -> str:
    """A section title fit for a chart: without its trailing points note ("4.1 领导（110分）" -> "4.1 领导"),
    and cut after its first phrase when still long ("4.6 Measurement, analysis and improvement" ->
    "4.6 Measurement…"). The table beside the chart gives the full titles."""
    text = re.sub(r"\s*[（(][^（()）]*[)）]\s*$", "", title) or title
    if _width(text) <= MAX_LABEL:
        return text
    head = re.split(r"[,，、;；]| and | & ", text)[0].strip()
    while _width(head) > MAX_LABEL - 1 and " " in head:
        head = head.rsplit(" ", 1)[0]
    while _width(head) > MAX_LABEL - 1:
        head = head[:-1]
    return head + "…"


def _wide(text: str) -> int:
    """Characters that are drawn full width (Han, fullwidth punctuation): pygal counts them as half."""
    return sum(1 for c in text if ord(c) >= 0x2E80)


_RADAR_LABEL = re.compile(
    r'<text x="([-\d.]+)" y="([-\d.]+)" class="" transform="rotate\(0\.010000 [^"]*\)">'
)


def _anchor_radar_labels(svg: str) -> str:
    """pygal centres every spoke label on its spoke's end, so long labels left and right run into the
    web. Anchor them outwards instead: right of the centre at their start, left of it at their end."""
    xs = [float(m.group(1)) for m in _RADAR_LABEL.finditer(svg)]
    if not xs:
        return svg
    centre = (min(xs) + max(xs)) / 2

    def anchor(m: re.Match[str]) -> str:
        x, y = float(m.group(1)), m.group(2)
        if x > centre + 2:
            return f'<text x="{x + 4:.1f}" y="{y}" style="text-anchor:start">'
        if x < centre - 2:
            return f'<text x="{x - 4:.1f}" y="{y}" style="text-anchor:end">'
        return f'<text x="{x:.1f}" y="{y}" style="text-anchor:middle">'

    return _RADAR_LABEL.sub(anchor, svg)


def _common() -> dict[str, object]:
    return {
        "js": [],
        "disable_xml_declaration": True,
        "pretty_print": False,
        "explicit_size": False,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 2,
        "truncate_label": -1,
        "truncate_legend": -1,
        "range": (0, 100),
        "margin": 10,
    }


def radar(labels: Sequence[str], series: Sequence[Series]) -> str:
    """Percent of the points per section, one polygon per round (the current round first)."""
    colors = (CURRENT, PREVIOUS) if len(series) > 1 else (CURRENT,)
    short = [short_label(x) for x in labels]
    side = min(130, 7 * max((_width(x) for x in short), default=0) + 8)  # room for the labels
    chart = pygal.Radar(
        style=_style(colors),
        width=460,
        height=400,
        margin_left=side,
        margin_right=side,
        show_y_labels=False,
        fill=True,
        show_dots=False,
        x_label_rotation=0.01,  # pygal turns labels along the spokes unless given an angle
        y_labels=[0, 25, 50, 75, 100],
        show_legend=False,  # the caption under the charts says which round is which
        **_common(),
    )
    chart.x_labels = short
    for i, s in enumerate(series):
        if i == 0:
            chart.add(s.title, list(s.values))
        else:  # earlier rounds: a dashed outline over this round's filled shape
            chart.add(s.title, list(s.values), fill=False, stroke_style={"width": 2, "dasharray": "6,4"})
    return _anchor_radar_labels(_clean(str(chart.render(is_unicode=True))))


def bars(labels: Sequence[str], series: Sequence[Series]) -> str:
    """Horizontal bars of each section's percent (this round and, when there is one, the last)."""
    colors = (CURRENT, PREVIOUS) if len(series) > 1 else (CURRENT,)
    height = 70 + 22 * len(labels) * max(1, len(series))
    # WeasyPrint draws SVG text a letter at a time (a few ms each): the bars carry the section number
    # when there is one ("4.1"), the radar beside them and the table below carry the names.
    short = [m.group(0) if (m := re.match(r"\d+(\.\d+)+", x)) else short_label(x) for x in labels]
    chart = pygal.HorizontalBar(
        margin_left=10 + 7 * max((_wide(x) for x in short), default=0),  # pygal under-measures Han text
        style=_style(colors),
        width=420,
        height=height,
        show_legend=False,
        y_labels=[0, 50, 100],
        **_common(),
    )
    # pygal draws the first label at the bottom: reverse so the list reads top-down like the table.
    chart.x_labels = list(reversed(short))
    for s in series:
        chart.add(s.title, list(reversed(list(s.values))))
    return _clean(str(chart.render(is_unicode=True)))
