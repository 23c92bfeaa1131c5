"""Writes one provider's pull into the store: offers upserted, history appended, run logged."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select, update

from site_builder.db.models import (
    Country,
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
from site_builder.pull.measurements.reference import country_rows

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
    held: int = 0  # anomalies held back this run (part of `quarantined`)
    confirmed: int = 0  # anomalies held last time and confirmed by this run


@dataclass(frozen=True)
class StoreResult:
    changed: int
    deactivated: int
    held: list[Rejection]
    confirmed: int


def sync_catalog(connection: Connection, catalog: GpuCatalog) -> None:
    """Make gpu_models match the checked-in catalog (models are never deleted: history),
    and make sure the ISO countries regions point at exist."""
    upsert(connection, Country.__table__, country_rows(), key=["code"])
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


def hold(
    connection: Connection, rejections: list[Rejection], *, pull_run_id: int, now: datetime
) -> None:
    """Hold rejections for an editor. The same offer held for the same reason night after
    night stays one row (refreshed); a row an editor rejected is not raised again for the
    same value."""
    if not rejections:
        return
    table = GpuQuarantine.__table__
    provider = rejections[0].parsed.provider
    earlier = {
        (row.offer_key, row.reason_code): row
        for row in connection.execute(
            select(
                table.c.id, table.c.offer_key, table.c.reason_code, table.c.status, table.c.payload
            )
            .where(table.c.provider_slug == provider, table.c.status.in_(("pending", "rejected")))
            .order_by(table.c.id)
        )
    }
    inserts = []
    for r in rejections:
        payload = _jsonable(r.parsed) | r.extra
        values = {
            "pull_run_id": pull_run_id,
            "created_at": now,
            "reason": r.reason,
            "raw_gpu_name": r.parsed.raw_gpu_name,
            "payload": payload,
        }
        row = earlier.get((r.parsed.key, r.reason_code))
        if row is not None and row.status == "rejected":
            if _same_value(row.payload, payload):
                continue  # an editor already said no to exactly this
        elif row is not None:
            connection.execute(update(table).where(table.c.id == row.id).values(values))
            continue
        inserts.append(
            values
            | {
                "provider_slug": r.parsed.provider,
                "reason_code": r.reason_code,
                "offer_key": r.parsed.key,
                "status": "pending",
            }
        )
    if inserts:
        connection.execute(table.insert(), inserts)


def _same_value(old: dict[str, Any], new: dict[str, Any]) -> bool:
    keys = ("price", "currency", "raw_gpu_name", "gpu_count", "price_per_gpu_usd")
    return all(old.get(k) == new.get(k) for k in keys)


def _is_anomaly(old: Decimal, new: Decimal, threshold: Decimal) -> bool:
    return old > 0 and abs(new - old) / old > threshold


def _pending_anomalies(connection: Connection, provider: str) -> dict[str, Any]:
    table = GpuQuarantine.__table__
    return {
        row.offer_key: row
        for row in connection.execute(
            select(table.c.id, table.c.offer_key, table.c.payload).where(
                table.c.provider_slug == provider,
                table.c.reason_code == "anomaly",
                table.c.status == "pending",
            )
        )
    }


def store_offers(
    connection: Connection,
    provider: str,
    offers: list[Offer],
    *,
    now: datetime,
    inactive_after: timedelta,
    anomaly_threshold: Decimal | None = None,
) -> StoreResult:
    """Upsert current offers and today's history rows.

    A per-GPU price that moved by more than `anomaly_threshold` (a fraction) against the
    last accepted price is not published: it is returned as held, for quarantine. The
    next pull that sees the same price again (within 1%) confirms it; an editor can
    decide sooner with `site-builder quarantine accept|reject`.
    """
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
    changed = confirmed = 0
    held: list[Rejection] = []
    pending = _pending_anomalies(connection, provider) if anomaly_threshold is not None else {}
    history: list[dict[str, Any]] = []
    for offer in offers:
        p = offer.parsed
        row = existing.get((p.instance_type, p.region_code, p.pricing_kind, p.reserved_term))
        if (
            anomaly_threshold is not None
            and row is not None
            and row.is_active
            and _is_anomaly(row.price_per_gpu_usd, offer.price_per_gpu_usd, anomaly_threshold)
        ):
            earlier = pending.get(p.key)
            if earlier is not None and _confirms(earlier.payload, offer.price_per_gpu_usd):
                _decide(connection, earlier.id, "accepted", now, "confirmed by the next pull")
                confirmed += 1
            else:
                held.append(_anomaly(offer, row.price_per_gpu_usd))
                continue
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
    return StoreResult(changed, deactivated, held, confirmed)


def _confirms(payload: dict[str, Any], price_per_gpu: Decimal) -> bool:
    held = Decimal(str(payload.get("price_per_gpu_usd", "0")))
    return held > 0 and abs(price_per_gpu - held) / held <= Decimal("0.01")


def plain(amount: Decimal) -> str:
    """2.990000 -> "2.99", 100 -> "100": for messages and stored payloads."""
    text = format(amount.normalize(), "f")
    return text


def _anomaly(offer: Offer, previous: Decimal) -> Rejection:
    change = (offer.price_per_gpu_usd - previous) / previous * 100
    return Rejection(
        offer.parsed,
        "anomaly",
        f"per-GPU price moved {change:+.0f}% ({plain(previous)} ->"
        f" {plain(offer.price_per_gpu_usd)} USD/h);"
        " held until the next pull confirms it or an editor decides",
        extra={
            "gpu_model": offer.gpu_model,
            "instance_price_usd": plain(offer.instance_price_usd),
            "price_per_gpu_usd": plain(offer.price_per_gpu_usd),
            "previous_price_per_gpu_usd": plain(previous),
        },
    )


def _decide(connection: Connection, row_id: int, status: str, now: datetime, note: str) -> None:
    table = GpuQuarantine.__table__
    row = connection.execute(select(table.c.payload).where(table.c.id == row_id)).one()
    connection.execute(
        update(table)
        .where(table.c.id == row_id)
        .values(status=status, decided_at=now, payload=row.payload | {"decision": note})
    )
