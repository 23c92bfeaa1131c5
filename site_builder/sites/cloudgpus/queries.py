"""cloudgpus reads: current offers per GPU model, as plain dicts (SQLAlchemy Core)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from site_builder.db.models import GpuModel, GpuOffer, GpuProvider, GpuRegion

offers = GpuOffer.__table__
models = GpuModel.__table__
providers = GpuProvider.__table__
regions = GpuRegion.__table__


def active_offers(connection: Connection) -> list[dict[str, Any]]:
    """Every active offer with its provider, region and GPU model names, in a stable order."""
    statement = (
        select(
            offers.c.id,
            offers.c.gpu_model_slug,
            offers.c.provider_slug,
            providers.c.name.label("provider_name"),
            providers.c.pricing_source,
            offers.c.instance_type,
            offers.c.region_code,
            regions.c.name.label("region_name"),
            offers.c.pricing_kind,
            offers.c.reserved_term,
            offers.c.gpu_count,
            offers.c.instance_price_usd,
            offers.c.price_per_gpu_usd,
            offers.c.available,
            offers.c.vcpus,
            offers.c.memory_gb,
            offers.c.last_seen_at,
            offers.c.price_changed_at,
        )
        .join(providers, providers.c.slug == offers.c.provider_slug)
        .join(
            regions,
            (regions.c.provider_slug == offers.c.provider_slug)
            & (regions.c.code == offers.c.region_code),
        )
        .where(offers.c.is_active.is_(True))
        .order_by(
            offers.c.gpu_model_slug,
            offers.c.price_per_gpu_usd,
            offers.c.provider_slug,
            offers.c.instance_type,
            offers.c.region_code,
            offers.c.pricing_kind,
        )
    )
    return [dict(row._mapping) for row in connection.execute(statement)]


def gpu_models(connection: Connection) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in connection.execute(select(models).order_by(models.c.slug))]
