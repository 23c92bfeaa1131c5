"""Encoders for the data files sites publish beside their pages (/api/*.json, /data/*.csv):
deterministic bytes, so unchanged data never re-uploads."""

from __future__ import annotations

import csv
import io
import json
from typing import Any


def json_file(document: Any) -> bytes:
    return (json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode()


def csv_file(rows: list[dict[str, Any]]) -> bytes:
    """A CSV with a header row from the first row's keys ("" for no rows)."""
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return out.getvalue().encode()
