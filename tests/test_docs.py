"""The docs stay true: the published probe-batch schema matches the code and real batches."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from site_builder.pull.measurements.schema import batch_schema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = ROOT / "docs/schemas/probe-batch-v1.schema.json"
RECORDS = Path(__file__).parent / "fixtures/measurements/records.ndjson"


def test_checked_in_schema_is_up_to_date() -> None:
    assert json.loads(SCHEMA_FILE.read_text()) == batch_schema(), (
        "run `python scripts/export_schemas.py`"
    )


def test_schema_accepts_every_line_of_a_real_batch_and_rejects_bad_ones() -> None:
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))
    lines = [json.loads(line) for line in RECORDS.read_text().splitlines()]
    for line in lines:
        validator.validate(line)
    bad = dict(lines[1], protocol="pptp")
    assert not validator.is_valid(bad)


def test_readme_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = readme.split("```sh\n")[1:3]
    assert "build-site --demo" in blocks[0]
    assert "pytest" in blocks[1]
    assert "python -m pytest" in (ROOT / ".ci/run").read_text()
