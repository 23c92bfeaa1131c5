"""Write the bundled demo price snapshot (data/demo/gpu-snapshot) deterministically.

Run from the project root: ``python scripts/make_demo_snapshot.py``. The responses have the
providers' real shapes (see shared reference notes); the values are invented but plausible.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import demo_lambda

from site_builder.pull.gpu import snapshot
from site_builder.pull.gpu.offer import RawResponse

FETCHED_AT = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
RUN_ID = "20261121T020000Z"


def main(out: Path) -> None:
    responses = {
        "lambda": [
            RawResponse(
                name="instance-types",
                url="https://cloud.lambda.ai/api/v1/instance-types",
                status=200,
                content_type="application/json",
                fetched_at=FETCHED_AT,
                body=json.dumps(demo_lambda.instance_types(), indent=1),
            )
        ],
    }
    for provider, provider_responses in responses.items():
        snapshot.write_provider(out, provider, provider_responses)
    snapshot.write_manifest(out, RUN_ID, list(responses))
    print(f"wrote {out} ({', '.join(responses)})")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("data/demo/gpu-snapshot"))
