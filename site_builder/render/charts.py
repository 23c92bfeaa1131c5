"""Inline SVG charts drawn at build time: no chart library in the browser.

Each chart is a complete ``<figure>``: the SVG (``role="img"``, with ``<title>`` and
``<desc>``) and a caption, followed by its values as a table in a closed ``<details>``
("Show the numbers"): a keyboard or screen-reader user opens it and reads every value, where
the SVG offers only a summary and a mouse nothing more. Coordinates are rounded so the same
data gives the same bytes.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

from site_builder.render.environment import day_text

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 112, 24, 16, 44
TICKS = 4  # gridlines above the zero line
COLOURS = ("#0b5cad", "#b35900", "#1a7f37", "#8250df", "#cf222e", "#57606a")
# A values table of up to this many days has a row a day (90 days of history and a day);
# beyond it, a row a week, so a long chart never makes a long page.
MAX_DAILY_ROWS = 100


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[date, float]]  # ascending by date


# Coordinates have one decimal, without a trailing ".0": "12.5", "12".
_TRAILING_ZERO = re.compile(r"\.0(?=[, ]|$)")


def line_chart(
    title: str,
    series: Sequence[Series],
    *,
    unit: Callable[[float], str],
    caption: str = "",
    values_table: bool = True,
) -> Markup:
    """A line chart of one or more daily series; empty Markup when there is nothing to draw.

    With `values_table` (the default) the figure is followed by its values as a table (see
    `values_details`); a page that already prints the same numbers in a table of its own
    passes False."""
    drawn = [s for s in series if len(s.points) >= 2]
    if not drawn:
        return Markup("")
    first_day = min(s.points[0][0] for s in drawn)  # each series is ascending by date
    last_day = max(s.points[-1][0] for s in drawn)
    values = [v for s in drawn for _, v in s.points]
    # The value axis starts at zero, so a 2 % change looks like one; its top is a round
    # number just above the highest value, with a labelled gridline at each tick.
    low, high = 0.0, _nice_top(max(values))
    # Ids from the title: two charts on one page (download, latency) never share one.
    ident = "c" + hashlib.sha1(title.encode(), usedforsecurity=False).hexdigest()[:8]
    span_days = max((last_day - first_day).days, 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    origin = first_day.toordinal()
    value_span = high - low
    parts = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{ident}t {ident}d"'
        ' class="chart" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{ident}t">{escape(title)}</title>',
        f'<desc id="{ident}d">{escape(_describe(drawn, unit))}</desc>',
        '<g class="grid">',
    ]
    for tick in range(TICKS + 1):
        y = _TRAILING_ZERO.sub("", "%.1f" % (TOP + (1 - tick / TICKS) * plot_h))
        parts.append(
            f'<line x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}"/>'
            f'<text x="{LEFT - 8}" y="{y}" dy=".35em" text-anchor="end">'
            f"{escape(unit(high * tick / TICKS))}</text>"
        )
    middle = date.fromordinal(origin + span_days // 2)
    parts += [
        "</g>",
        f'<g class="axis"><line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}"'
        f' y2="{TOP + plot_h}"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}"/>',
        f'<text x="{LEFT}" y="{HEIGHT - 12}">{day_text(first_day, year=False)}</text>',
    ]
    if span_days >= 4:
        middle_x = LEFT + (span_days // 2) / span_days * plot_w
        parts.append(
            f'<text x="{middle_x:.0f}" y="{HEIGHT - 12}" text-anchor="middle">'
            f"{day_text(middle, year=False)}</text>"
        )
    parts += [
        f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 12}" text-anchor="end">'
        f"{day_text(last_day, year=False)}</text>",
        "</g>",
    ]
    for index, s in enumerate(drawn):
        colour = COLOURS[index % len(COLOURS)]
        # Every coordinate to one decimal by one %-format of them all, then each ".0"
        # dropped in one pass: a format (or a function call) per coordinate was half the
        # chart's cost, and a build draws 7,000 charts.
        coordinates = [0.0] * (2 * len(s.points))
        coordinates[0::2] = [
            LEFT + (d.toordinal() - origin) / span_days * plot_w for d, _ in s.points
        ]
        coordinates[1::2] = [TOP + (1 - (v - low) / value_span) * plot_h for _, v in s.points]
        points = _TRAILING_ZERO.sub(
            "", " ".join(["%.1f,%.1f"] * len(s.points)) % tuple(coordinates)
        )
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}">'
            f"<title>{escape(s.name)}</title></polyline>"
        )
    parts.append("</svg>")
    legend = ""
    if len(drawn) > 1:
        legend = "".join(
            f'<span class="key" style="--key:{COLOURS[i % len(COLOURS)]}">{escape(s.name)}</span>'
            for i, s in enumerate(drawn)
        )
    figcaption = f"<figcaption>{escape(caption)} {legend}</figcaption>" if caption or legend else ""
    figure = f'<figure class="chart-figure">{"".join(parts)}{figcaption}</figure>'
    if values_table:
        figure += values_details(title, drawn, unit)
    return Markup(figure)


def values_details(title: str, series: Sequence[Series], unit: Callable[[float], str]) -> str:
    """The values of a chart's series as a table (a row per day, a column per series) in a
    closed ``<details>``: every value reachable by keyboard, none of the page's height
    spent until asked. Over `MAX_DAILY_ROWS` days, a row per week (the last value of each
    week, counted back from the newest day, so the newest value is always there), and the
    caption says so. A day a series has no value shows "—"."""
    values: list[dict[date, float]] = [dict(s.points) for s in series]
    days = sorted(set().union(*values))
    weekly = len(days) > MAX_DAILY_ROWS
    rows: list[tuple[date, list[float | None]]]
    if weekly:
        last = days[-1]
        weeks: dict[int, list[date]] = {}
        for day in days:  # ascending: each week's list ends with its newest day
            weeks.setdefault((last - day).days // 7, []).append(day)
        rows = []
        for week in sorted(weeks, reverse=True):  # oldest week first, as the chart reads
            in_week = weeks[week]
            cells: list[float | None] = []
            for by_day in values:
                seen = [by_day[d] for d in in_week if d in by_day]
                cells.append(seen[-1] if seen else None)
            rows.append((in_week[-1], cells))
        note = f"one row a week (each week's last value) for {len(days)} days"
    else:
        rows = [(day, [by_day.get(day) for by_day in values]) for day in days]
        note = f"one row for each of the {len(days)} days drawn"
    head = "".join(f'<th scope="col" class="num">{escape(s.name)}</th>' for s in series)
    body = "".join(
        f'<tr><th scope="row"><time datetime="{day.isoformat()}">{day_text(day)}</time></th>'
        + "".join(f'<td class="num">{"—" if v is None else escape(unit(v))}</td>' for v in cells)
        + "</tr>"
        for day, cells in rows
    )
    return (
        '<details class="chart-data"><summary>Show the numbers</summary>'
        '<div class="table-wrap"><table>'
        f"<caption>{escape(title)}: {note}</caption>"
        f'<thead><tr><th scope="col">{"Week ending" if weekly else "Day"}</th>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div></details>"
    )


def _nice_top(value: float) -> float:
    """The smallest of 1, 2, 2.5 or 5 times a power of ten at or above value (1 for 0)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    if power == 0:  # a denormal: its power of ten underflows to zero
        return value
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def _describe(series: Sequence[Series], unit: Callable[[float], str]) -> str:
    sentences = []
    for s in series:
        first, last = s.points[0], s.points[-1]
        values = [v for _, v in s.points]
        sentences.append(
            f"{s.name}: {unit(first[1])} on {day_text(first[0])}, {unit(last[1])} on"
            f" {day_text(last[0])}; lowest {unit(min(values))}, highest {unit(max(values))}."
        )
    return " ".join(sentences)
