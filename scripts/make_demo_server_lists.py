"""Write the bundled demo archive of VPN server lists (data/demo/server-lists).

Run from the project root: ``python scripts/make_demo_server_lists.py``. Every server-list
adapter's real ``fetch`` runs against a local HTTP server answering with the
evidence-shaped fixtures of ``tests/fixtures/server_lists``, so the archive holds the
real request URLs and the shapes (and quirks) the evidence shows; hostnames follow each
provider's naming, addresses are from the documentation ranges (RFC 5737, RFC 3849).
``build-site --demo`` replays it with ``pull servers``, the same code as a live pull.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from site_builder.pull.gpu import snapshot  # noqa: E402
from site_builder.pull.gpu.http import Http  # noqa: E402
from site_builder.pull.servers.providers import all_adapters  # noqa: E402
from tests.server_lists import serve_lists  # noqa: E402

# A month before the demo's probe data ends (2026-11-20), so the lists precede the runs.
FETCHED_AT = datetime(2026, 10, 20, 2, 0, tzinfo=UTC)
RUN_ID = "20261020T020000Z"
DEMO_CREDENTIALS = {
    "PROTONVPN_UID": "demo",
    "PROTONVPN_SESSION_COOKIE": "demo",
    "PROTONVPN_APP_VERSION": "demo",
}


def main(target: Path = ROOT / "data/demo/server-lists") -> None:
    adapters = all_adapters()
    real = {a.slug: {urlsplit(url).path: url for _n, url in a.requests} for a in adapters}
    with serve_lists(adapters) as server:

        async def fetch_all() -> dict[str, list]:
            async with httpx.AsyncClient() as client:
                http = Http(client)
                local = [a.__class__(base_url=server.base_url) for a in adapters]
                return {a.slug: await a.fetch(http, DEMO_CREDENTIALS) for a in local}

        fetched = asyncio.run(fetch_all())
    if target.exists():
        shutil.rmtree(target)
    for slug, responses in fetched.items():
        kept = []
        for response in responses:
            path = urlsplit(response.url).path
            url = real[slug].get(path) or _real_prefix(real[slug], path)
            kept.append(
                replace(response, url=url, fetched_at=FETCHED_AT, content_type="application/json")
            )
        snapshot.write_provider(target, slug, kept)
    snapshot.write_manifest(target, RUN_ID, sorted(fetched))
    print(f"wrote {len(fetched)} providers' lists to {target}")


def _real_prefix(urls: dict[str, str], path: str) -> str:
    """Windscribe's URL ends in a cache breaker: keep the real host, fix the breaker."""
    for prefix, url in urls.items():
        if prefix.endswith("/") and path.startswith(prefix):
            return f"{url}{int(FETCHED_AT.timestamp())}"
    raise SystemExit(f"no real URL for {path}")


if __name__ == "__main__":
    main()
