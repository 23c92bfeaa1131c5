"""Encoders for the data files sites publish beside their pages (/api/*.json, /data/*.csv):
deterministic bytes, so unchanged data never re-uploads."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from typing import Any


def json_file(document: Any) -> bytes:
    return (json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode()


def json_records_file(
    head: Mapping[str, Any], key: str, records: Iterable[Mapping[str, Any]]
) -> bytes:
    """The bytes of `json_file({**head, key: list(records)})`, made one record at a time:
    a list of 100,000 server records as dicts would take hundreds of MB at once."""
    encoded = [
        b"  "
        + json.dumps(record, ensure_ascii=False, sort_keys=True, indent=1)
        .replace("\n", "\n  ")
        .encode()
        for record in records
    ]
    listing = b"[\n" + b",\n".join(encoded) + b"\n ]" if encoded else b"[]"
    marker = f'\n "{key}": null'.encode()
    document = json_file({**head, key: None})
    assert document.count(marker) == 1, "the head must not hold the list's key"
    return document.replace(marker, marker[: -len(b"null")] + listing)


def csv_file(rows: Iterable[Mapping[str, Any]]) -> bytes:
    """A CSV with a header row from the first row's keys ("" for no rows); rows may be a
    generator, read once."""
    rows = iter(rows)
    first = next(rows, None)
    out = io.StringIO()
    if first is not None:
        writer = csv.DictWriter(out, fieldnames=list(first), lineterminator="\n")
        writer.writeheader()
        writer.writerow(first)
        writer.writerows(rows)
    return out.getvalue().encode()
