"""Writes one provider's pull into the store: offers upserted, history appended, run logged."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select, update

from site_builder.db.models import (
    GpuModel,
    GpuOffer,
    GpuPriceHistory,
    GpuProvider,
    GpuPullRun,
    GpuQuarantine,
    GpuRegion,
)
from site_builder.db.upsert import upsert
from site_builder.pull.gpu.catalog import GpuCatalog
from site_builder.pull.gpu.offer import Offer, ParsedOffer, Rejection

offers_t = GpuOffer.__table__
history_t = GpuPriceHistory.__table__


@dataclass(frozen=True)
class ProviderInfo:
    slug: str
    name: str
    website: str
    pricing_source: str


@dataclass(frozen=True)
class StoredCounts:
    seen: int
    stored: int
    quarantined: int
    changed: int
    deactivated: int


def sync_catalog(connection: Connection, catalog: GpuCatalog) -> None:
    """Make gpu_models match the checked-in catalog (models are never deleted: history)."""
    rows = [m.model_dump(exclude={"aliases"}) for m in catalog.models]
    upsert(connection, GpuModel.__table__, rows, key=["slug"])


def ensure_provider(connection: Connection, provider: ProviderInfo) -> None:
    upsert(
        connection,
        GpuProvider.__table__,
        [asdict(provider)],
        key=["slug"],
        update=["name", "website", "pricing_source"],
    )


def start_run(
    connection: Connection, *, run_id: str, provider: str, source: str, started_at: datetime
) -> int:
    result = connection.execute(
        GpuPullRun.__table__.insert()
        .values(
            run_id=run_id,
            provider_slug=provider,
            source=source,
            status="running",
            started_at=started_at,
        )
        .returning(GpuPullRun.__table__.c.id)
    )
    return int(result.scalar_one())


def finish_run(
    connection: Connection,
    pull_run_id: int,
    *,
    status: str,
    duration_ms: int,
    counts: StoredCounts | None = None,
    error: str | None = None,
) -> None:
    values: dict[str, Any] = {"status": status, "duration_ms": duration_ms, "error": error}
    if counts is not None:
        values |= {
            "offers_seen": counts.seen,
            "offers_stored": counts.stored,
            "offers_quarantined": counts.quarantined,
        }
    connection.execute(
        update(GpuPullRun.__table__).where(GpuPullRun.__table__.c.id == pull_run_id).values(values)
    )


def _jsonable(parsed: ParsedOffer) -> dict[str, Any]:
    def convert(value: Any) -> Any:
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, datetime):
            return value.isoformat()
        return value

    return json.loads(json.dumps(asdict(parsed), default=convert))


def quarantine(
    connection: Connection, rejections: list[Rejection], *, pull_run_id: int, now: datetime
) -> None:
    if not rejections:
        return
    connection.execute(
        GpuQuarantine.__table__.insert(),
        [
            {
                "provider_slug": r.parsed.provider,
                "pull_run_id": pull_run_id,
                "created_at": now,
                "reason_code": r.reason_code,
                "reason": r.reason,
                "raw_gpu_name": r.parsed.raw_gpu_name,
                "offer_key": r.parsed.key,
                "payload": _jsonable(r.parsed),
                "status": "pending",
            }
            for r in rejections
        ],
    )


def store_offers(
    connection: Connection,
    provider: str,
    offers: list[Offer],
    *,
    now: datetime,
    inactive_after: timedelta,
) -> tuple[int, int]:
    """Upsert current offers and today's history rows; returns (changed, deactivated)."""
    regions = {
        (o.parsed.region_code, o.parsed.region_name, o.parsed.region_country) for o in offers
    }
    upsert(
        connection,
        GpuRegion.__table__,
        [
            {"provider_slug": provider, "code": code, "name": name, "country_code": country}
            for code, name, country in sorted(regions, key=lambda r: r[0])
        ],
        key=["provider_slug", "code"],
        update=["name", "country_code"],
    )
    existing = {
        (row.instance_type, row.region_code, row.pricing_kind, row.reserved_term): row
        for row in connection.execute(
            select(
                offers_t.c.id,
                offers_t.c.instance_type,
                offers_t.c.region_code,
                offers_t.c.pricing_kind,
                offers_t.c.reserved_term,
                offers_t.c.instance_price_usd,
                offers_t.c.price_per_gpu_usd,
                offers_t.c.available,
                offers_t.c.is_active,
            ).where(offers_t.c.provider_slug == provider)
        )
    }
    changed = 0
    history: list[dict[str, Any]] = []
    for offer in offers:
        p = offer.parsed
        values = {
            "gpu_model_slug": offer.gpu_model,
            "gpu_count": p.gpu_count,
            "instance_price_usd": offer.instance_price_usd,
            "price_per_gpu_usd": offer.price_per_gpu_usd,
            "raw_price": p.raw_price,
            "raw_unit": p.raw_unit,
            "raw_currency": p.currency,
            "vcpus": p.vcpus,
            "memory_gb": p.memory_gb,
            "available": p.available,
            "details": p.details,
            "last_seen_at": p.observed_at,
            "is_active": True,
        }
        row = existing.get((p.instance_type, p.region_code, p.pricing_kind, p.reserved_term))
        if row is None:
            offer_id = connection.execute(
                offers_t.insert()
                .values(
                    provider_slug=provider,
                    instance_type=p.instance_type,
                    region_code=p.region_code,
                    pricing_kind=p.pricing_kind,
                    reserved_term=p.reserved_term,
                    first_seen_at=p.observed_at,
                    price_changed_at=p.observed_at,
                    **values,
                )
                .returning(offers_t.c.id)
            ).scalar_one()
            changed += 1
        else:
            offer_id = row.id
            if (
                row.instance_price_usd != offer.instance_price_usd
                or row.price_per_gpu_usd != offer.price_per_gpu_usd
                or row.available != p.available
                or not row.is_active
            ):
                values["price_changed_at"] = p.observed_at
                changed += 1
            connection.execute(update(offers_t).where(offers_t.c.id == offer_id).values(values))
        history.append(
            {
                "offer_id": offer_id,
                "day": p.observed_at.date(),
                "instance_price_usd": offer.instance_price_usd,
                "price_per_gpu_usd": offer.price_per_gpu_usd,
                "available": p.available,
            }
        )
    upsert(connection, history_t, history, key=["offer_id", "day"])
    deactivated = connection.execute(
        update(offers_t)
        .where(
            offers_t.c.provider_slug == provider,
            offers_t.c.is_active.is_(True),
            offers_t.c.last_seen_at < now - inactive_after,
        )
        .values(is_active=False, price_changed_at=now)
    ).rowcount
    return changed, deactivated
