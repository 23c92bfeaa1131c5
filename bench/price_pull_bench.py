"""Concurrent price pull: every adapter against the local fake APIs with injected latency.

    python bench/price_pull_bench.py [--runs 5]

Each provider's fake answers every request after a fixed delay (one provider is made
slow). Three configurations run in the same process, each `--runs` times on a fresh
SQLite store, and the medians are printed:

- no latency: the cost of parsing, validating and storing ~2,000 offers of 30 providers
  (the floor);
- concurrent (the default, 8 providers at a time): should take about the floor plus the
  slowest provider's fetch time, not the sum;
- one at a time (max_concurrent_providers=1): the floor plus the sum, the baseline.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from site_builder.db import make_engine, upgrade  # noqa: E402
from site_builder.pull.gpu import PullSettings, pull_prices  # noqa: E402
from site_builder.pull.gpu.catalog import load_catalog  # noqa: E402
from site_builder.pull.gpu.providers import all_adapters, vast  # noqa: E402
from tests.fake_gpu_apis import serve_fake_apis  # noqa: E402

CREDENTIALS = {
    "LAMBDA_API_KEY": "k",
    "GCP_API_KEY": "k",
    "VERDA_CLIENT_ID": "id",
    "VERDA_CLIENT_SECRET": "secret",
    "HYPERSTACK_API_KEY": "k",
    "TENSORDOCK_API_KEY": "k",
    "CUDO_API_KEY": "k",
    # the sixteen providers added for issue 28 that need a key
    "DIGITALOCEAN_TOKEN": "k",
    "HOTAISLE_API_KEY": "k",
    "HOTAISLE_TEAM_HANDLE": "team",
    "HYPERBOLIC_API_KEY": "k",
    "JARVISLABS_API_KEY": "k",
    "LATITUDE_API_KEY": "k",
    "MITHRIL_API_KEY": "k",
    "NOVITA_API_KEY": "k",
    "PRIME_API_KEY": "k",
    "SCW_SECRET_KEY": "k",
    "SEEWEB_API_TOKEN": "k",
    "SHADEFORM_API_KEY": "k",
}
# seconds per request; AWS makes 8 requests in a row, so it is the slowest provider.
LATENCY = {
    "aws": 0.25,
    "azure": 0.2,
    "gcp": 0.2,
    "vast": 0.6,
    "runpod": 0.4,
    "lambda": 0.3,
    "verda": 0.15,
    "oci": 0.3,
    "hyperstack": 0.3,
    "tensordock": 0.5,
    "cudo": 0.4,
    "coreweave": 0.8,
    "voltagepark": 0.7,
    "cloudrift": 0.3,
    "digitalocean": 0.4,
    "hotaisle": 0.5,
    "hyperbolic": 0.4,
    "jarvislabs": 0.6,
    "latitude": 0.5,
    "linode": 0.3,
    "mithril": 0.4,
    "novita": 0.5,
    "primeintellect": 0.3,  # 3 pages in a row
    "scaleway": 0.2,  # one request per zone, 4 in a row
    "seeweb": 0.6,
    "shadeform": 0.7,
    "vultr": 0.3,
    "ecb": 0.1,
}


def one_run(
    latency: dict[str, float], concurrency: int
) -> tuple[float, dict[str, int], tuple[str, float]]:
    catalog = load_catalog(ROOT / "data/gpu_catalog.toml")
    with tempfile.TemporaryDirectory() as folder, serve_fake_apis(latency=latency) as apis:
        engine = make_engine(f"sqlite:///{folder}/bench.db")
        upgrade(engine)
        adapters = all_adapters(ROOT / "data/gpu_prices/nebius.toml", base_urls=apis.base_urls())
        started = time.perf_counter()
        report = pull_prices(
            engine,
            adapters,
            catalog,
            env=CREDENTIALS,
            settings=PullSettings(ecb_url=apis.ecb_url, max_concurrent_providers=concurrency),
        )
        elapsed = time.perf_counter() - started
        engine.dispose()
        assert all(r.status == "ok" for r in report.results), report.results
        requests = {p: apis.count(p) for p in LATENCY}
        # each provider's own time, first request to stored (it may fetch in parallel itself)
        slowest = max(report.results, key=lambda r: r.duration_ms)
    return elapsed, requests, (slowest.provider, slowest.duration_ms / 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results: dict[str, list[float]] = {"no latency": [], "concurrent": [], "one at a time": []}
    requests: dict[str, int] = {}
    own: list[tuple[str, float]] = []
    for _ in range(args.runs):
        results["no latency"].append(one_run({}, 8)[0])
        elapsed, requests, slowest_own = one_run(LATENCY, 8)
        results["concurrent"].append(elapsed)
        own.append(slowest_own)
        results["one at a time"].append(one_run(LATENCY, 1)[0])
    # requests in a row, except Vast's searches, `vast.IN_FLIGHT` at a time
    fetch_times = {
        p: LATENCY[p] * (math.ceil(n / vast.IN_FLIGHT) if p == "vast" else n)
        for p, n in requests.items()
    }
    slowest = max(fetch_times, key=fetch_times.__getitem__)
    floor = statistics.median(results["no latency"])
    print(f"requests per provider: {requests}")
    print(f"slowest provider: {slowest}, {fetch_times[slowest]:.2f} s of latency")
    print(f"sum of all providers' latency: {sum(fetch_times.values()):.2f} s")
    for name, times in results.items():
        median = statistics.median(times)
        print(
            f"{name:>14}: median {median:.2f} s over {len(times)} runs"
            f" (min {min(times):.2f}, max {max(times):.2f}); above the floor {median - floor:.2f} s"
        )
    concurrent = statistics.median(results["concurrent"]) - floor
    serial = statistics.median(results["one at a time"]) - floor
    print(f"concurrent fetch / slowest provider's latency: {concurrent / fetch_times[slowest]:.2f}")
    name, seconds = max(own, key=lambda item: item[1])
    total = statistics.median(results["concurrent"])
    print(
        f"slowest provider's own time in the concurrent pull: {name}, {seconds:.2f} s"
        f" (first request to stored); the whole pull took {total:.2f} s ({total / seconds:.2f}x)"
    )
    print(f"one-at-a-time / concurrent (above the floor): {serial / concurrent:.1f}x")


if __name__ == "__main__":
    main()
