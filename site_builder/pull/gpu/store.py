"""Writes one provider's pull into the store: offers upserted, history appended, run logged."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select, update

from site_builder.db.countries import country_rows
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
from site_builder.pull.gpu.sizes import instance_specs

offers_t = GpuOffer.__table__
history_t = GpuPriceHistory.__table__
SAME_PRICE = Decimal("0.01")  # prices within 1% of each other are "the same price"
RETURN_LOOKBACK = timedelta(days=90)  # how far back a "return to an earlier price" may reach


@dataclass(frozen=True)
class AnomalyRule:
    """Which per-GPU price moves are held back, and which later pull confirms one.

    A move of more than `threshold` (a fraction) against the last accepted price is held.
    A pull that sees the same price again (within 1%) confirms it only if it comes at
    least `confirm_after` after the first sighting and, with `later_day`, on a later UTC
    day: two pulls a minute apart prove nothing about a provider's glitch.
    """

    threshold: Decimal = Decimal("0.5")
    confirm_after: timedelta = timedelta(hours=12)
    later_day: bool = True

    def confirms(self, first_seen: datetime, now: datetime) -> bool:
        later_day = now.astimezone(UTC).date() > first_seen.astimezone(UTC).date()
        return now - first_seen >= self.confirm_after and (later_day or not self.later_day)

    def describe(self) -> str:
        hours = f"{self.confirm_after.total_seconds() / 3600:g} h"
        return f"a pull at least {hours} later" + (" on a later UTC day" if self.later_day else "")


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
    cleared: int = 0  # held moves dropped because the offer's price came back


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


def _same_price(a: Decimal | None, b: Decimal) -> bool:
    return a is not None and a > 0 and abs(b - a) / a <= SAME_PRICE


def _pending_anomalies(connection: Connection, provider: str) -> dict[str, Any]:
    table = GpuQuarantine.__table__
    return {
        row.offer_key: row
        for row in connection.execute(
            select(table.c.id, table.c.offer_key, table.c.created_at, table.c.payload)
            .where(
                table.c.provider_slug == provider,
                table.c.reason_code == "anomaly",
                table.c.status == "pending",
            )
            .order_by(table.c.id)
        )
    }


def _first_seen(row: Any) -> datetime:
    """When the held value was first seen (rows from before this was recorded: their last
    refresh, the later and so the safer time)."""
    recorded = row.payload.get("first_seen_at")
    return datetime.fromisoformat(recorded) if recorded else row.created_at


def _price_before_move(
    connection: Connection, offer_id: int, current: Decimal, threshold: Decimal, today: date
) -> Decimal | None:
    """The published price this offer had before its current price level: walking its
    history back from the newest day, the first price a big move away from `current`
    (within the last RETURN_LOOKBACK)."""
    rows = connection.execute(
        select(history_t.c.price_per_gpu_usd)
        .where(history_t.c.offer_id == offer_id, history_t.c.day >= today - RETURN_LOOKBACK)
        .order_by(history_t.c.day.desc())
    )
    for (price,) in rows:
        if _is_anomaly(current, price, threshold):
            return Decimal(price)
    return None


def store_offers(
    connection: Connection,
    provider: str,
    offers: list[Offer],
    *,
    now: datetime,
    inactive_after: timedelta,
    anomaly: AnomalyRule | None = None,
) -> StoreResult:
    """Upsert current offers and today's history rows.

    With `anomaly`, a per-GPU price that moved more than its threshold against the last
    accepted price is not published: it is returned as held, for quarantine, until a pull
    the rule accepts sees it again (or an editor decides). A return to an accepted price
    is never held: the price the offer has now, or the one it had before its current
    price level (its history, see `_price_before_move`). Either way the pending row of
    that offer is cleared, with the reason.
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
    changed = confirmed = cleared = 0
    held: list[Rejection] = []
    pending = _pending_anomalies(connection, provider) if anomaly is not None else {}
    history: list[dict[str, Any]] = []
    for offer in offers:
        p = offer.parsed
        row = existing.get((p.instance_type, p.region_code, p.pricing_kind, p.reserved_term))
        earlier = pending.get(p.key)
        new_price = offer.price_per_gpu_usd
        if (
            anomaly is not None
            and row is not None
            and row.is_active
            and _is_anomaly(row.price_per_gpu_usd, new_price, anomaly.threshold)
        ):
            if earlier is not None and _same_price(_held_price(earlier), new_price):
                first_seen = _first_seen(earlier)
                if not anomaly.confirms(first_seen, now):
                    held.append(_anomaly(offer, row.price_per_gpu_usd, first_seen, anomaly))
                    continue
                _decide(
                    connection,
                    earlier.id,
                    "accepted",
                    now,
                    f"confirmed by the pull of {now:%Y-%m-%d %H:%M} UTC"
                    f" (first seen {first_seen:%Y-%m-%d %H:%M} UTC)",
                )
                confirmed += 1
            elif _same_price(
                _price_before_move(
                    connection, row.id, row.price_per_gpu_usd, anomaly.threshold, now.date()
                ),
                new_price,
            ):
                if earlier is not None:  # the held value is moot: the old price is back
                    _decide(connection, earlier.id, "cleared", now, _back_to(new_price, now))
                    cleared += 1
            else:  # a new value: its confirmation clock starts now
                held.append(_anomaly(offer, row.price_per_gpu_usd, now, anomaly))
                continue
        elif earlier is not None and row is not None:
            _decide(connection, earlier.id, "cleared", now, _back_to(new_price, now))
            cleared += 1
        specs, dropped = instance_specs(p)
        values = {
            "gpu_model_slug": offer.gpu_model,
            "gpu_count": p.gpu_count,
            "instance_price_usd": offer.instance_price_usd,
            "price_per_gpu_usd": offer.price_per_gpu_usd,
            "raw_price": p.raw_price,
            "raw_unit": p.raw_unit,
            "raw_currency": p.currency,
            **specs,
            "available": p.available,
            "details": p.details | ({"dropped_specs": dropped} if dropped else {}),
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
                "stated_price": p.price,
                "stated_currency": p.currency,
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
    return StoreResult(changed, deactivated, held, confirmed, cleared)


def _held_price(row: Any) -> Decimal:
    return Decimal(str(row.payload.get("price_per_gpu_usd", "0")))


def _back_to(price: Decimal, now: datetime) -> str:
    return (
        f"cleared: the pull of {now:%Y-%m-%d %H:%M} UTC saw {plain(price)} USD/h, back at"
        " (or close to) an accepted price, so it was published and the held move dropped"
    )


def plain(amount: Decimal) -> str:
    """2.990000 -> "2.99", 100 -> "100": for messages and stored payloads."""
    text = format(amount.normalize(), "f")
    return text


def _anomaly(offer: Offer, previous: Decimal, first_seen: datetime, rule: AnomalyRule) -> Rejection:
    change = (offer.price_per_gpu_usd - previous) / previous * 100
    return Rejection(
        offer.parsed,
        "anomaly",
        f"per-GPU price moved {change:+.0f}% ({plain(previous)} ->"
        f" {plain(offer.price_per_gpu_usd)} USD/h), first seen {first_seen:%Y-%m-%d %H:%M} UTC;"
        f" held until {rule.describe()} sees it again, or an editor decides",
        extra={
            "gpu_model": offer.gpu_model,
            "instance_price_usd": plain(offer.instance_price_usd),
            "price_per_gpu_usd": plain(offer.price_per_gpu_usd),
            "previous_price_per_gpu_usd": plain(previous),
            "first_seen_at": first_seen.isoformat(),
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
