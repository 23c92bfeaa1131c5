"""The versioned JSON Schemas of one probe batch line, generated from the pydantic models.

Version 1 (probes) is unchanged; version 2 adds the server agents' header. Both stay
readable by the pull."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, TypeAdapter

from site_builder.pull.measurements.records import BatchHeader, BatchHeaderV2, Record

SCHEMA_ID = "https://site-builder.dev/schemas/probe-batch-v{version}.schema.json"
HEADERS: dict[int, type[BaseModel]] = {1: BatchHeader, 2: BatchHeaderV2}


def batch_schema(version: int = 1) -> dict[str, Any]:
    """A schema every line of a batch of this version satisfies: the header (line 1) or
    one record."""
    header = HEADERS[version].model_json_schema(ref_template="#/$defs/{model}")
    record = TypeAdapter(Record).json_schema(ref_template="#/$defs/{model}")
    defs = {**header.pop("$defs", {}), **record.pop("$defs", {}), "BatchHeader": header}
    description = (
        "One line of a probe batch (NDJSON). Line 1 is a BatchHeader; every other line is a"
        " measurement, streaming_check or heartbeat record."
    )
    if version == 2:
        description += (
            " The header names exactly one of probe and agent; an agent's batch holds only"
            " heartbeats of its own server."
        )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID.format(version=version),
        "title": f"site_builder probe batch line, version {version}",
        "description": description,
        "oneOf": [{"$ref": "#/$defs/BatchHeader"}, record],
        "$defs": defs,
    }
