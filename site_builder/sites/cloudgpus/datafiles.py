"""The data files published beside the pages: the seeds' list endpoints as static JSON under
/api/, and every table as CSV under /data/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from site_builder.config import SiteConfig
from site_builder.render.datafiles import csv_file, json_file
from site_builder.render.writer import Content
from site_builder.sites.cloudgpus.common import Dataset, figures, group_by
from site_builder.sites.cloudgpus.history import CHANGE_WINDOW_DAYS

DATA_FILES = (
    {
        "url": "/api/gpu-models.json",
        "format": "application/json",
        "what": "GPU models with their lowest prices",
    },
    {
        "url": "/api/providers.json",
        "format": "application/json",
        "what": "Providers with offer counts and pull health",
    },
    {"url": "/api/instances.json", "format": "application/json", "what": "Every current offer"},
    {
        "url": "/api/price-changes.json",
        "format": "application/json",
        "what": "Every offer whose price changed in the last 30 days of history, old and new",
    },
    {"url": "/data/offers.csv", "format": "text/csv", "what": "Every current offer"},
    {"url": "/data/gpu-models.csv", "format": "text/csv", "what": "The GPU model table"},
    {"url": "/data/price-changes.csv", "format": "text/csv", "what": "The price changes"},
)


def _offer_record(o: dict[str, Any]) -> dict[str, Any]:
    return {
        "provider": o["provider_slug"],
        "gpu": o["gpu_model_slug"],
        "instance_type": o["instance_type"],
        "region": o["region_code"],
        "pricing": o["pricing_kind"],
        "reserved_term": o["reserved_term"],
        "gpu_count": o["gpu_count"],
        "price_per_gpu_usd": str(o["price_per_gpu_usd"].normalize()),
        "instance_price_usd": str(o["instance_price_usd"].normalize()),
        "available": o["available"],
        "last_seen_at": o["last_seen_at"].strftime("%Y-%m-%dT%H:%M:%SZ"),
        # Added after the columns above, so a reader that takes CSV columns by position
        # keeps working; null (empty in CSV) where the provider does not state the size.
        "vcpus": o["vcpus"],
        "memory_gb": o["memory_gb"],
        "storage_gb": o["storage_gb"],
    }


def _plain(value: Decimal) -> str:
    """A Decimal as plain digits: "120", never normalize()'s "1.2E+2"."""
    return format(value.normalize(), "f")


def _change_record(c: dict[str, Any], number: Callable[[Decimal], Any]) -> dict[str, Any]:
    """A price change (history.py); `number` writes the amounts (text in JSON, as the other
    files do; numbers in CSV, so "-0.25" is a value, not text a spreadsheet must guard)."""
    return {
        "gpu": c["gpu_model_slug"],
        "provider": c["provider_slug"],
        "instance_type": c["instance_type"],
        "region": c["region_code"],
        "pricing": c["pricing_kind"],
        "reserved_term": c["reserved_term"],
        "old_price_per_gpu_usd": number(c["old_price"]),
        "new_price_per_gpu_usd": number(c["new_price"]),
        "change_usd": number(c["change_usd"]),
        "change_pct": number(c["change_pct"]),
        "changed_on": c["changed_on"].isoformat(),
        "old_price_on": c["since"].isoformat(),
    }


def _model_record(model: dict[str, Any], f: dict[str, Any]) -> dict[str, Any]:
    od = f["kinds"].get("on_demand") or {}
    spot = f["kinds"].get("spot") or {}
    return {
        "gpu": model["slug"],
        "name": model["name"],
        "vendor": model["vendor"],
        "vram_gb": model["vram_gb"],
        "form_factor": model["form_factor"],
        "offers": f["offers"],
        "providers": len(f["providers"]),
        "on_demand_min_usd": str(od["min"].normalize()) if od else None,
        "on_demand_median_usd": str(od["median"].normalize()) if od else None,
        "spot_min_usd": str(spot["min"].normalize()) if spot else None,
    }


def data_files(data: Dataset | None, site: SiteConfig) -> Iterator[tuple[str, Content]]:
    """The seeds' list endpoints as static JSON under /api/ (models, providers, instances,
    compare-prices per GPU), and every table as CSV under /data/."""
    if data is None:
        return
    offers = [_offer_record(o) for o in data.offers]
    by_model = group_by(data.offers, "gpu_model_slug")
    models = [_model_record(data.models[m], figures(g)) for m, g in by_model.items()]
    providers = [
        {
            "provider": slug,
            "name": p["name"],
            "pricing_source": p["pricing_source"],
            "offers": sum(1 for o in data.offers if o["provider_slug"] == slug),
            "last_status": p["last_status"],
            "last_success_at": p["last_success_at"].strftime("%Y-%m-%dT%H:%M:%SZ")
            if p["last_success_at"]
            else None,
        }
        for slug, p in data.providers.items()
    ]
    yield "api/gpu-models.json", json_file({"count": len(models), "gpu_models": models})
    yield "api/providers.json", json_file({"count": len(providers), "providers": providers})
    yield "api/instances.json", json_file({"count": len(offers), "instances": offers})
    for model, group in by_model.items():
        yield (
            f"api/compare-prices/{model}.json",
            json_file(
                {
                    "gpu": model,
                    "offers": [
                        _offer_record(o)
                        for o in sorted(
                            group,
                            key=lambda o: (
                                o["price_per_gpu_usd"],
                                o["provider_slug"],
                                o["instance_type"],
                                o["region_code"],
                                o["pricing_kind"],
                            ),
                        )
                    ],
                }
            ),
        )
    changes = [_change_record(c, _plain) for c in data.changes]
    yield (
        "api/price-changes.json",
        json_file(
            {
                "window_days": CHANGE_WINDOW_DAYS,
                "last_day": data.history_end.isoformat() if data.history_end else None,
                "count": len(changes),
                "changes": changes,
            }
        ),
    )
    yield "data/offers.csv", csv_file(offers)
    yield "data/gpu-models.csv", csv_file(models)
    yield (
        "data/price-changes.csv",
        csv_file(_change_record(c, lambda d: Decimal(_plain(d))) for c in data.changes),
    )
