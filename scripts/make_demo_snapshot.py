"""Write the bundled demo price snapshot (data/demo/gpu-snapshot) deterministically.

Run from the project root: ``python scripts/make_demo_snapshot.py``. Every adapter's real
``fetch`` runs against the fake provider APIs of ``tests/fake_gpu_apis`` (an httpx
transport answering for the real hosts), so the archive holds the real URLs, request
bodies and response shapes; the values are invented but plausible.
"""

from __future__ import annotations

import asyncio
import re
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from site_builder.pull.gpu import fx, snapshot  # noqa: E402
from site_builder.pull.gpu.http import Http  # noqa: E402
from site_builder.pull.gpu.offer import RawResponse  # noqa: E402
from site_builder.pull.gpu.providers import all_adapters  # noqa: E402
from tests.fake_gpu_apis import mock_transport  # noqa: E402

FETCHED_AT = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
RUN_ID = "20261121T020000Z"
ECB_DAY = "2026-11-20"  # the last working day before FETCHED_AT
DEMO_CREDENTIALS = {
    "LAMBDA_API_KEY": "demo",
    "GCP_API_KEY": "demo",
    "VERDA_CLIENT_ID": "demo",
    "VERDA_CLIENT_SECRET": "demo",
    "HYPERSTACK_API_KEY": "demo",
    "TENSORDOCK_API_KEY": "demo",
    "CUDO_API_KEY": "demo",
    # the providers added for issue 28 that need a key
    "DIGITALOCEAN_TOKEN": "demo",
    "HOTAISLE_API_KEY": "demo",
    "HOTAISLE_TEAM_HANDLE": "demo-team",
    "HYPERBOLIC_API_KEY": "demo",
    "JARVISLABS_API_KEY": "demo",
    "LATITUDE_API_KEY": "demo",
    "MITHRIL_API_KEY": "demo",
    "NOVITA_API_KEY": "demo",
    "PRIME_API_KEY": "demo",
    "SCW_SECRET_KEY": "demo",
    "SEEWEB_API_TOKEN": "demo",
    "SHADEFORM_API_KEY": "demo",
}


async def fetch_everything() -> dict[str, list[RawResponse]]:
    fetched: dict[str, list[RawResponse]] = {}
    async with httpx.AsyncClient(transport=mock_transport()) as client:
        http = Http(client)
        for adapter in all_adapters(ROOT / "data/gpu_prices/nebius.toml"):
            responses = await adapter.fetch(http, adapter.credentials(DEMO_CREDENTIALS))
            if adapter.pricing_source == "static":  # a dated table: its path in the project
                table = f"data/gpu_prices/{adapter.slug}.toml"
                responses = [replace(r, url=table) for r in responses]
            fetched[adapter.slug] = responses
        # the fake publishes today's rates; the snapshot keeps those of its own day
        fetched[fx.ARCHIVE_NAME] = [
            replace(r, body=re.sub(r"time='[0-9-]+'", f"time='{ECB_DAY}'", r.body))
            for r in await fx.fetch_rates(http)
        ]
    return {
        slug: [replace(r, fetched_at=FETCHED_AT) for r in responses]
        for slug, responses in fetched.items()
    }


def main(out: Path) -> None:
    fetched = asyncio.run(fetch_everything())
    for stale in out.glob("*.json.gz"):
        stale.unlink()
    for provider, responses in fetched.items():
        snapshot.write_provider(out, provider, responses)
    snapshot.write_manifest(out, RUN_ID, list(fetched))
    print(f"wrote {out}: {', '.join(sorted(fetched))}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "data/demo/gpu-snapshot")
