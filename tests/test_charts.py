"""Inline SVG charts: coordinates are written exactly as one-decimal numbers without ".0"."""

from __future__ import annotations

import re
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from site_builder.render.charts import BOTTOM, HEIGHT, LEFT, RIGHT, TOP, WIDTH, Series, line_chart


def _reference_points(points: list[tuple[date, float]]) -> str:
    """The polyline as the chart module first wrote it: one function call per coordinate."""

    def fmt(value: float) -> str:
        return f"{value:.1f}".rstrip("0").rstrip(".")

    days = [d for d, _ in points]
    values = [v for _, v in points]
    low, high = min(values), max(values)
    if high == low:
        low, high = low * 0.9, high * 1.1 or 1.0
    value_span = (high - low) or 1.0  # the one change since: tiny equal values divided by zero
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
