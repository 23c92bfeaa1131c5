"""Write docs/schemas/probe-batch-v1.schema.json from the pydantic record models.

Run from the project root after changing site_builder/pull/measurements/records.py;
tests/test_docs.py fails while the checked-in schema is out of date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from site_builder.pull.measurements.schema import batch_schema

TARGET = Path(__file__).resolve().parent.parent / "docs/schemas/probe-batch-v1.schema.json"

if __name__ == "__main__":
    TARGET.write_text(json.dumps(batch_schema(), indent=2, sort_keys=True) + "\n")
    print(f"wrote {TARGET}", file=sys.stderr)
