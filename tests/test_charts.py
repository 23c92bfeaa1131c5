"""Inline SVG charts: coordinates are written exactly as one-decimal numbers without ".0"."""

from __future__ import annotations

import re
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from site_builder.render.charts import (
    BOTTOM,
    HEIGHT,
    LEFT,
    RIGHT,
    TOP,
    WIDTH,
    Series,
    _nice_top,
    line_chart,
)


def _reference_points(points: list[tuple[date, float]]) -> str:
    """The polyline as the chart module first wrote it: one function call per coordinate."""

    def fmt(value: float) -> str:
        return f"{value:.1f}".rstrip("0").rstrip(".")

    days = [d for d, _ in points]
    values = [v for _, v in points]
    low, high = 0.0, _nice_top(max(values))  # since issue 29 the value axis starts at zero
    value_span = high - low
    span = max((days[-1] - days[0]).days, 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    return " ".join(
        f"{fmt(LEFT + (d - days[0]).days / span * plot_w)},"
        f"{fmt(TOP + (1 - (v - low) / value_span) * plot_h)}"
        for d, v in points
    )


@given(
    st.lists(st.floats(min_value=0, max_value=10_000, allow_nan=False), min_size=2, max_size=40),
    st.integers(min_value=1, max_value=3),
)
def test_polyline_coordinates_are_one_decimal_without_a_trailing_zero(
    values: list[float], step: int
) -> None:
    points = [(date(2026, 11, 1) + timedelta(days=i * step), v) for i, v in enumerate(values)]
    chart = line_chart("t", [Series("download", points)], unit=lambda v: f"{v:.0f}")
    drawn = re.search(r'points="([^"]*)"', chart)
    assert drawn is not None
    assert drawn.group(1) == _reference_points(points)


def test_value_axis_starts_at_zero_with_labelled_gridlines() -> None:
    """A 2 % change no longer fills the chart: the axis runs from 0 to a round top."""
    points = [(date(2026, 11, 1) + timedelta(days=i), v) for i, v in enumerate([98.0, 100.0])]
    chart = line_chart("t", [Series("price", points)], unit=lambda v: f"${v:.0f}")
    labels = re.findall(r'text-anchor="end">([^<]*)</text>', chart)
    assert labels[:5] == ["$0", "$25", "$50", "$75", "$100"]
    assert chart.count('<line x1="112"') >= 5  # the gridlines, the zero line among them
    assert _nice_top(0) == 1.0 and _nice_top(3.2) == 5 and _nice_top(101) == 200


def _values_table(chart: str):
    from lxml import html

    [details] = html.fragments_fromstring(chart)[1:]  # the figure, then its numbers
    assert details.tag == "details" and details.get("open") is None  # closed until asked
    assert details.xpath("./summary")[0].text_content() == "Show the numbers"
    [table] = details.xpath(".//table")
    return table


def test_every_chart_is_followed_by_a_table_of_its_values() -> None:
    """The keyboard route to the numbers: a day per row, a column per series, headers."""
    day = date(2026, 11, 1)
    chart = line_chart(
        "Daily medians",
        [
            Series("download", [(day, 100.0), (day + timedelta(days=1), 120.4)]),
            Series("upload", [(day + timedelta(days=1), 40.0), (day + timedelta(days=2), 42.0)]),
        ],
        unit=lambda v: f"{v:,.0f} Mbit/s",
    )
    table = _values_table(chart)
    assert table.xpath("./caption")[0].text_content().startswith("Daily medians: ")
    assert [th.text_content() for th in table.xpath("./thead/tr/th[@scope='col']")] == [
        "Day",
        "download",
        "upload",
    ]
    rows = [
        [cell.text_content() for cell in tr.xpath("./th[@scope='row'] | ./td")]
        for tr in table.xpath("./tbody/tr")
    ]
    assert rows == [
        ["1 Nov 2026", "100 Mbit/s", "—"],
        ["2 Nov 2026", "120 Mbit/s", "40 Mbit/s"],
        ["3 Nov 2026", "—", "42 Mbit/s"],
    ]
    assert table.xpath("./tbody/tr[1]/th/time/@datetime") == ["2026-11-01"]
    # the same data gives the same bytes; a page with a table of its own can leave it out
    assert chart == line_chart(
        "Daily medians",
        [
            Series("download", [(day, 100.0), (day + timedelta(days=1), 120.4)]),
            Series("upload", [(day + timedelta(days=1), 40.0), (day + timedelta(days=2), 42.0)]),
        ],
        unit=lambda v: f"{v:,.0f} Mbit/s",
    )
    plain = line_chart("t", [Series("a", [(day, 1.0), (day, 2.0)])], unit=str, values_table=False)
    assert "<details" not in plain and plain.endswith("</figure>")
    assert line_chart("t", [Series("a", [(day, 1.0)])], unit=str) == ""  # nothing drawn


def test_a_long_chart_has_a_row_a_week_and_says_so() -> None:
    """A year of days would be a very long table: past MAX_DAILY_ROWS it is thinned to each
    week's last value, counted back from the newest day so the newest value is there."""
    first = date(2026, 1, 1)
    points = [(first + timedelta(days=i), float(i)) for i in range(365)]
    table = _values_table(line_chart("Year", [Series("price", points)], unit=lambda v: f"{v:g}"))
    rows = [
        (tr.xpath("./th/time/@datetime")[0], tr.xpath("./td")[0].text_content())
        for tr in table.xpath("./tbody/tr")
    ]
    assert len(rows) == 53 and rows[-1] == ("2026-12-31", "364")
    assert rows[-2] == ("2026-12-24", "357") and rows[0] == ("2026-01-01", "0")
    assert "one row a week" in table.xpath("./caption")[0].text_content()
    assert table.xpath("./thead/tr/th")[0].text_content() == "Week ending"
    # 90 days of history and a day stay a row a day
    daily = [(first + timedelta(days=i), 1.0) for i in range(91)]
    table = _values_table(line_chart("Q", [Series("price", daily)], unit=str))
    assert len(table.xpath("./tbody/tr")) == 91


def _css_px(rule: str, css: str) -> list[float]:
    """The font sizes (px; rem at 16 px) a selector is given anywhere in site.css."""
    sizes = []
    for match in re.finditer(re.escape(rule) + r"\s*\{([^}]*)\}", css):
        size = re.search(r"font-size:\s*([\d.]+)(px|rem)", match.group(1))
        if size:
            sizes.append(float(size.group(1)) * (16 if size.group(2) == "rem" else 1))
    return sizes


def test_chart_text_and_chart_numbers_render_at_12_px_or_more() -> None:
    """The SVG's text is sized in its 640-unit viewBox, so it renders at size * drawn width
    / 640: at least 12 px from a 360 px phone (16 px page padding each side) to a desktop.
    The values table is HTML text, never set below 12 px."""
    from pathlib import Path

    css = (Path(__file__).parent.parent / "templates/shared/assets/site.css").read_text()
    [desktop, phone] = _css_px(".chart text", css)
    [figure_width] = [
        float(m) * 16 for m in re.findall(r"\.chart-figure \{[^}]*max-width: ([\d.]+)rem", css)
    ]
    breakpoint = 40 * 16  # (max-width: 40rem)
    for viewport in range(360, 1441, 10):
        drawn = min(viewport - 32, figure_width)
        size = phone if viewport <= breakpoint else desktop
        assert size * drawn / WIDTH >= 12, viewport
    for size in _css_px("details.chart-data table", css) + _css_px("table", css):
        assert size >= 12
