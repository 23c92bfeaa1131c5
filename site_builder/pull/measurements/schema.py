"""The versioned JSON Schema of one probe batch line, generated from the pydantic models."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from site_builder.pull.measurements.records import BatchHeader, Record

SCHEMA_ID = "https://site-builder.dev/schemas/probe-batch-v1.schema.json"


def batch_schema() -> dict[str, Any]:
    """A schema every line of a v1 batch satisfies: the header (line 1) or one record."""
    header = BatchHeader.model_json_schema(ref_template="#/$defs/{model}")
    record = TypeAdapter(Record).json_schema(ref_template="#/$defs/{model}")
    defs = {**header.pop("$defs", {}), **record.pop("$defs", {}), "BatchHeader": header}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "site_builder probe batch line, version 1",
        "description": (
            "One line of a probe batch (NDJSON). Line 1 is a BatchHeader; every other line is a"
            " measurement, streaming_check or heartbeat record."
        ),
        "oneOf": [{"$ref": "#/$defs/BatchHeader"}, record],
        "$defs": defs,
    }
