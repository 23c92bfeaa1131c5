"""cloudgpus figures and provider pages: aggregator offers never counted twice, and every
provider page saying how its prices are obtained and when they were last confirmed."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from site_builder.sites.cloudgpus.common import counted, figures, price_source

NOW = datetime(2026, 11, 21, 2, tzinfo=UTC)


def offer(
    provider: str, price: str, kind: str = "on_demand", via: str | None = None
) -> dict[str, Any]:
    return {
        "provider_slug": provider,
        "provider_name": provider.title(),
        "pricing_kind": kind,
        "price_per_gpu_usd": Decimal(price),
        "details": {"via": via, "aggregator": provider} if via else {},
        "price_changed_at": NOW,
        "last_seen_at": NOW,
    }


def test_aggregator_offers_never_count_where_direct_offers_exist() -> None:
    offers = [
        offer("lambda", "2.99"),
        offer("runpod", "2.69"),
        offer("shadeform", "2.10", via="lambdalabs"),  # the same Lambda machines, resold
        offer("primeintellect", "2.50", via="runpod"),
    ]
    f = figures(offers)
    on_demand = f["kinds"]["on_demand"]
    assert (on_demand["min"], on_demand["max"], on_demand["count"]) == (
        Decimal("2.69"),
        Decimal("2.99"),
        2,
    )
    assert f["not_counted"] == 2 and f["offers"] == 4
    assert "Shadeform" in f["providers"]  # still listed, with its own page


def test_an_aggregators_own_offers_count_once_and_two_aggregators_never_add_up() -> None:
    own = [offer("shadeform", "2.10", via="lambdalabs"), offer("shadeform", "2.40", via="crusoe")]
    assert figures(own)["kinds"]["on_demand"]["count"] == 2
    both = [*own, offer("primeintellect", "2.05", via="lambdalabs")]
    assert {o["provider_slug"] for o in counted(both)} == {"primeintellect"}


def test_every_price_source_is_named_with_its_last_confirmation() -> None:
    base = {"last_success_at": NOW, "last_status": "ok", "last_run_at": NOW}
    table = price_source(
        {"slug": "crusoe", "name": "Crusoe", "pricing_source": "static", **base},
        [{"details": {"as_of": "2026-08-19"}}],
    )
    assert (table["method"], table["as_of"], table["confirmed"]) == (
        "editor's dated table",
        "2026-08-19",
        NOW,
    )
    kinds = {
        price_source({"slug": s, "name": s, "pricing_source": src, **base}, o)["method"]
        for s, src, o in [
            ("coreweave", "html", [{"details": {}}]),
            ("shadeform", "api", [{"details": {"via": "lambdalabs"}}]),
            ("vultr", "api", [{"details": {}}]),
            ("lambda", "api", [{"details": {}}]),
        ]
    }
    assert kinds == {"scraped page", "aggregator API", "documented catalog", "API"}
    failing = price_source(
        {"slug": "lambda", "name": "Lambda", "pricing_source": "api", "last_success_at": None,
         "last_status": "failed", "last_run_at": NOW},
        [],
    )  # fmt: skip
    assert failing["confirmed"] is None


def test_a_provider_page_names_a_second_source_such_as_an_undocumented_feed() -> None:
    base = {"last_success_at": NOW, "last_status": "ok", "last_run_at": NOW}
    source = price_source(
        {"slug": "aws", "name": "AWS", "pricing_source": "api", **base},
        [
            {"details": {}},
            {"details": {"source": "EC2 console spot feed (public but undocumented by AWS)"}},
        ],
    )
    assert source["method"] == "documented catalog"
    assert source["notes"] == ["EC2 console spot feed (public but undocumented by AWS)"]
