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
