"""Write docs/schemas/probe-batch-v1.schema.json and -v2 from the pydantic record models.

Run from the project root after changing site_builder/pull/measurements/records.py;
tests/test_docs.py fails while a checked-in schema is out of date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from site_builder.pull.measurements.schema import HEADERS, batch_schema

FOLDER = Path(__file__).resolve().parent.parent / "docs/schemas"

if __name__ == "__main__":
    for version in HEADERS:
        target = FOLDER / f"probe-batch-v{version}.schema.json"
        target.write_text(json.dumps(batch_schema(version), indent=2, sort_keys=True) + "\n")
        print(f"wrote {target}", file=sys.stderr)
