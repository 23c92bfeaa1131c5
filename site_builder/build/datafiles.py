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


def csv_file(rows: Iterable[Mapping[str, Any]]) -> Iterator[bytes]:
    """A CSV with a header row from the first row's keys (no bytes for no rows), as chunks;
    rows may be a generator, read once. Every row must have the first row's keys."""
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
    writer.writerow(fields)
    writer.writerow(values(first))
    count = 1
    for row in rows:
        if row.keys() != keys:
            raise ValueError(f"a CSV row has the fields {sorted(row)}, not the header's {fields}")
        writer.writerow(values(row))
        count += 1
        if count % ROWS_PER_CHUNK == 0:
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode()
