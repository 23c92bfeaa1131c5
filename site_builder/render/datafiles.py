"""Encoders for the data files sites publish beside their pages (/api/*.json, /data/*.csv):
deterministic bytes, so unchanged data never re-uploads. Files that grow with the number
of servers or offers are made as a stream of chunks, which the writer puts on disk as they
come: at 100,000 servers the JSON alone is tens of MB, built whole it was a third more of
the build's peak memory."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from operator import itemgetter
from typing import Any

# Rows encoded per chunk: large enough that the writer's calls cost nothing, small enough
# that a chunk is a few hundred KB.
ROWS_PER_CHUNK = 1_000


def json_file(document: Any) -> bytes:
    return (json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode()


def json_records_file(
    head: Mapping[str, Any], key: str, records: Iterable[Mapping[str, Any]]
) -> Iterator[bytes]:
    """The bytes of `json_file({**head, key: list(records)})` as chunks, made one record at
    a time: the records are never all in memory, as dicts or as text."""
    marker = f'\n "{key}": null'.encode()
    document = json_file({**head, key: None})
    if document.count(marker) != 1:
        raise ValueError(f"the head must not hold the list's key {key!r}")
    before, after = document.split(marker)
    yield before + marker[: -len(b"null")]
    chunk: list[bytes] = []
    separator = b"[\n  "
    for record in records:
        chunk.append(separator + _record_text(record).encode())
        separator = b",\n  "
        if len(chunk) == ROWS_PER_CHUNK:
            yield b"".join(chunk)
            chunk.clear()
    yield b"".join(chunk) + (b"\n ]" if separator != b"[\n  " else b"[]") + after


_SCALARS = frozenset({str, int, float, bool, type(None)})
# A flat record's members as `indent=1` writes them inside the list: by the C encoder,
# which `indent` turns off (the Python one was most of the cost of the servers' JSON).
_FLAT = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",\n   ", ": "))


def _record_text(record: Mapping[str, Any]) -> str:
    """A record as `json_file` lays out an item of a top-level list (indented twice)."""
    if record and all(type(value) in _SCALARS for value in record.values()):
        return "{\n   " + _FLAT.encode(record)[1:-1] + "\n  }"
    text = json.dumps(record, ensure_ascii=False, sort_keys=True, indent=1)
    return text.replace("\n", "\n  ")


# OWASP, "CSV Injection" (https://owasp.org/www-community/attacks/CSV_Injection): no cell may
# begin with '=', '+', '-', '@', tab (0x09), carriage return (0x0D) or line feed (0x0A), or a
# spreadsheet reads it as a formula; its remedy is a single quote before such a cell.
FORMULA_STARTS = frozenset("=+-@\t\r\n")


def neutralised(value: Any) -> Any:
    """A CSV cell as OWASP's "CSV Injection" page recommends: a text cell starting with a
    formula character gets a single quote in front ("'=1+2"), which spreadsheets show as
    text. Text whose first non-blank character is one is quoted too (" =1+2"): some
    spreadsheets trim leading spaces before deciding what a cell is.

    Only text is touched. Numbers (int, float, Decimal) are written as numbers: -3.5 is a
    value, not a formula, and no outside text can make a number start with '='. The
    separators and quotes OWASP also warns about are the csv module's quoting's job."""
    if value.__class__ is not str or not value:
        return value
    first = value[0]
    if first in FORMULA_STARTS or (first.isspace() and value.lstrip()[:1] in FORMULA_STARTS):
        return "'" + value
    return value


def _needs_care(values: tuple[Any, ...]) -> bool:
    # most rows hold nothing to quote: one pass to find out, the work only when needed
    for value in values:
        if (
            value.__class__ is str
            and value
            and (value[0] in FORMULA_STARTS or value[0].isspace() or "\r" in value)
        ):
            return True
    return False


def csv_file(rows: Iterable[Mapping[str, Any]]) -> Iterator[bytes]:
    """A CSV with a header row from the first row's keys (no bytes for no rows), as chunks;
    rows may be a generator, read once. Every row must have the first row's keys. Text
    cells that a spreadsheet would read as a formula are quoted (see `neutralised`)."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return
    fields = list(first)
    keys = first.keys()
    values = itemgetter(*fields) if len(fields) > 1 else lambda row: (row[fields[0]],)
    out = io.StringIO()
    # csv.writer on each row's values, not DictWriter: its per-row check of the keys (a
    # set difference) was a third of the servers' CSV.
    writer = csv.writer(out, lineterminator="\n")
    # With "\n" ending lines the csv module leaves a bare "\r" in a cell unquoted, and a
    # reader then starts a new row there: text after it would begin a cell of its own, where
    # nothing has neutralised it. Such rows go through a writer that quotes "\r".
    side = io.StringIO()
    quoting_cr = csv.writer(side, lineterminator="\r\n")

    def write(values: tuple[Any, ...]) -> None:
        if not _needs_care(values):
            writer.writerow(values)
            return
        values = tuple(map(neutralised, values))
        if not any(value.__class__ is str and "\r" in value for value in values):
            writer.writerow(values)
            return
        quoting_cr.writerow(values)
        out.write(side.getvalue()[: -len("\r\n")] + "\n")
        side.seek(0)
        side.truncate()

    write(tuple(fields))
    write(values(first))
    count = 1
    for row in rows:
        if row.keys() != keys:
            raise ValueError(f"a CSV row has the fields {sorted(row)}, not the header's {fields}")
        write(values(row))
        count += 1
        if count % ROWS_PER_CHUNK == 0:
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode()
