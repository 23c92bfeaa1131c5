"""cloudgpus reads: current offers per GPU model, as plain dicts (SQLAlchemy Core)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

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
            providers.c.affiliate_url,
            offers.c.instance_type,
            offers.c.details,
            offers.c.region_code,
            regions.c.name.label("region_name"),
            regions.c.country_code.label("region_country"),
            offers.c.pricing_kind,
            offers.c.reserved_term,
            offers.c.gpu_count,
            offers.c.instance_price_usd,
            offers.c.price_per_gpu_usd,
            offers.c.raw_currency,
            offers.c.available,
            offers.c.vcpus,
            offers.c.memory_gb,
            offers.c.storage_gb,
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


def offers_on_request(connection: Connection) -> list[dict[str, Any]]:
    """Active offers listed without a price ("Contact for pricing"), in a stable order.

    Never mixed into `active_offers`: no price figure can count them."""
    from site_builder.db.models_gpu_request import GpuOfferOnRequest

    requests = GpuOfferOnRequest.__table__
    statement = (
        select(
            requests.c.gpu_model_slug,
            models.c.name.label("gpu_name"),
            requests.c.provider_slug,
            providers.c.name.label("provider_name"),
            requests.c.instance_type,
            requests.c.region_code,
            requests.c.region_name,
            requests.c.pricing_kind,
            requests.c.reserved_term,
            requests.c.gpu_count,
            requests.c.raw_text,
            requests.c.last_seen_at,
        )
        .join(providers, providers.c.slug == requests.c.provider_slug)
        .join(models, models.c.slug == requests.c.gpu_model_slug)
        .where(requests.c.is_active.is_(True))
        .order_by(
            requests.c.provider_slug,
            requests.c.gpu_model_slug,
            requests.c.instance_type,
            requests.c.region_code,
            requests.c.pricing_kind,
            requests.c.reserved_term,
        )
    )
    return [dict(row._mapping) for row in connection.execute(statement)]


def gpu_models(connection: Connection) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in connection.execute(select(models).order_by(models.c.slug))]


def providers_with_health(connection: Connection) -> list[dict[str, Any]]:
    """Every provider with its latest pull run and circuit state (for "pull health")."""
    from site_builder.db.models import GpuProviderHealth, GpuPullRun

    runs = GpuPullRun.__table__
    health = GpuProviderHealth.__table__
    latest = (
        select(runs.c.provider_slug, func.max(runs.c.id).label("run_id"))
        .group_by(runs.c.provider_slug)
        .subquery()
    )
    statement = (
        select(
            providers.c.slug,
            providers.c.name,
            providers.c.website,
            providers.c.affiliate_url,
            providers.c.pricing_source,
            runs.c.status.label("last_status"),
            runs.c.started_at.label("last_run_at"),
            runs.c.offers_seen,
            runs.c.offers_stored,
            health.c.last_success_at,
        )
        .outerjoin(latest, latest.c.provider_slug == providers.c.slug)
        .outerjoin(runs, runs.c.id == latest.c.run_id)
        .outerjoin(health, health.c.provider_slug == providers.c.slug)
        .order_by(providers.c.slug)
    )
    return [dict(row._mapping) for row in connection.execute(statement)]


def price_history(connection: Connection) -> list[dict[str, Any]]:
    """Daily per-GPU prices of active on-demand offers, for history charts."""
    from site_builder.db.models import GpuPriceHistory

    history = GpuPriceHistory.__table__
    statement = (
        select(
            offers.c.gpu_model_slug,
            offers.c.provider_slug,
            history.c.day,
            history.c.price_per_gpu_usd,
        )
        .join(offers, offers.c.id == history.c.offer_id)
        .where(offers.c.is_active.is_(True), offers.c.pricing_kind == "on_demand")
        .order_by(offers.c.gpu_model_slug, history.c.day, offers.c.provider_slug)
    )
    return [dict(row._mapping) for row in connection.execute(statement)]


def fingerprint(connection: Connection) -> list[Any]:
    """A cheap digest input of everything the pages read (offers in full: a few thousand)."""
    from site_builder.db.models import GpuPriceHistory, GpuPullRun

    history = GpuPriceHistory.__table__
    runs = GpuPullRun.__table__
    return [
        active_offers(connection),
        offers_on_request(connection),
        gpu_models(connection),
        providers_with_health(connection),
        [
            list(row)
            for row in connection.execute(
                select(func.count(), func.max(history.c.day), func.sum(history.c.price_per_gpu_usd))
            )
        ],
        connection.execute(select(func.max(runs.c.id))).scalar(),
    ]
