"""Golden output: a few pages of every kind, rendered from the small demo, against the HTML
checked in under tests/golden/. Any change to what a visitor gets shows up here as a diff.

After an intended change, regenerate with ``UPDATE_GOLDEN=1 pytest tests/test_golden.py`` and
review the diff of tests/golden/ before committing it.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"
PAGES = {
    "cloudgpus": [
        "index.html",
        "gpus/index.html",
        "gpus/h100-sxm/index.html",
        "gpus/h100-sxm/lambda/index.html",
        "providers/index.html",
        "providers/nebius/index.html",
        "providers/shadeform/index.html",  # an aggregator: offers "via" the cloud underneath
        "providers/vultr/index.html",  # a documented public catalog
        "compare/coreweave-vs-lambda/index.html",
        "gpus/compare/a100-80-sxm-vs-h100-sxm/index.html",
        "providers/lambda/regions/us-east-1/index.html",
        "calculator/index.html",
        "price-changes/index.html",
        "methodology/index.html",
        "open-data/index.html",
        "best-gpu-for-llm-training/index.html",
        "guides/index.html",
        "404.html",
        "api/gpu-models.json",
        "status/index.html",
        "status.json",
    ],
    "bestvpnserver": [
        "index.html",
        "rankings/fastest-servers/index.html",
        "providers/index.html",  # a provider listed but not yet measured (PrivadoVPN)
        "providers/mullvad/index.html",  # its list: by country, protocol, feature
        "countries/germany/index.html",
        "countries/germany/frankfurt/index.html",  # providers there, not yet measured
        "protocols/wireguard/index.html",
        "streaming/index.html",
        "streaming/netflix/index.html",  # % unblocked per server, errored checks left out
        "compare/mullvad-vs-nordvpn/index.html",
        # latest runs (one failed), streaming checks, daily table and chart
        "servers/mullvad/ch-zrh-wg-001/index.html",
        "methodology/index.html",
        "api/stats/overview.json",
        "status/index.html",
        "status.json",
    ],
}


@pytest.fixture
def project_dir(project_dir: Path) -> Path:
    """The demo project with freshness rules of one hour: the status pages compare the
    demo's fixed dates with today, so every source is stale whatever the day, and the golden
    copies do not change with the calendar (Nebius's 90 days would pass in 2027)."""
    (project_dir / "data/freshness.toml").write_text(
        "[defaults]\nprovider_hours = 1\nprobe_hours = 1\nagent_hours = 1\ndeploy_hours = 1\n",
        encoding="utf-8",
    )
    return project_dir


def readable(data: str) -> list[str]:
    """Minified HTML is one line: break it at tags so a diff is readable."""
    return data.replace("><", ">\n<").splitlines(keepends=True)


@pytest.mark.parametrize("site", PAGES)
def test_pages_match_the_golden_copies(built: Path, site: str) -> None:
    output = built / "output" / site
    update = os.environ.get("UPDATE_GOLDEN") == "1"
    problems = []
    for relative in PAGES[site]:
        actual = (output / relative).read_text(encoding="utf-8")
        golden = GOLDEN / site / relative
        if update:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(actual, encoding="utf-8")
            continue
        expected = golden.read_text(encoding="utf-8")
        if actual != expected:
            diff = difflib.unified_diff(
                readable(expected), readable(actual), f"golden/{relative}", relative, n=2
            )
            problems.append("".join(list(diff)[:40]))
    assert problems == [], "\n".join(problems)
