"""The data files published beside the pages: the seeds' list endpoints as static JSON under
/api/, and every table as CSV under /data/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from site_builder.config import SiteConfig
from site_builder.render.datafiles import csv_file, json_file
from site_builder.render.writer import Content
from site_builder.sites.cloudgpus.common import Dataset, figures, group_by

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
    {"url": "/data/offers.csv", "format": "text/csv", "what": "Every current offer"},
    {"url": "/data/gpu-models.csv", "format": "text/csv", "what": "The GPU model table"},
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
    yield "data/offers.csv", csv_file(offers)
    yield "data/gpu-models.csv", csv_file(models)
