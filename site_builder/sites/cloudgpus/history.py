"""Price history: the store's read for a window of days, and the price changes in it.

`window_points` is the only I/O here (SQLAlchemy Core over ``gpu_price_history``);
`price_changes` and `top_changes` are pure functions over its rows and the active offers,
so the change rules are tested without a store.

What counts as a change:
- The window is the `days` days ending at the newest day of the store's history, never at
  the build's clock, so the same store always gives the same page.
- An offer's old price is its price at the start of the window (its last point on or before
  the day before the window), or, for an offer first seen inside the window, its first point
  there; its new price is its last point. Equal prices are no change, whatever happened in
  between (a cut taken back is not news).
- The day it changed is the last day its price differed from the point before.
- History holds only published prices: a move the anomaly rule holds back is never written
  to it (`site_builder.pull.gpu.store.store_offers` skips the row), and a held move later
  cleared because the price came back was never published. So no held or unconfirmed move
  can show up here; nothing needs filtering.
- A change is the provider's: each point keeps the price as the provider stated it (its
  currency, its basis) beside the USD figure at that day's ECB rate, and two points differ
  when their stated prices do. So a EUR price (Seeweb, Scaleway) that stayed put is no
  change however the rate moved, and a EUR cut is its size in euros; its old price is shown
  at today's rate (new USD price / the stated ratio), so old, new and change agree. Points
  written before stated prices were kept (migration 0011) fall back to USD, and there a
  move within 1 % (the store's "same price") of a foreign-currency offer is taken for the
  rate's drift.
- A move that rounds to 0.0 % is no change.
- Offers an aggregator lists "via" another cloud are left out: they resell that cloud's
  machines, so the same move would be listed twice (the site's figures leave them out too).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from site_builder.db.models import GpuOffer, GpuPriceHistory
from site_builder.pull.gpu.store import SAME_PRICE
from site_builder.sites.cloudgpus.common import via

CHANGE_WINDOW_DAYS = 30
CHART_DAYS = 90  # a history chart's span: the last 90 days the store holds
MICRO = Decimal("0.000001")  # the store's precision (Micros columns)

offers_t = GpuOffer.__table__
history_t = GpuPriceHistory.__table__

# The offer fields a change row carries (what the page and the data file show).
OFFER_FIELDS = (
    "gpu_model_slug",
    "provider_slug",
    "provider_name",
    "instance_type",
    "region_code",
    "region_name",
    "pricing_kind",
    "reserved_term",
    "gpu_count",
)


def newest_day(connection: Connection) -> date | None:
    """The newest day of history of any active offer (None: no history yet)."""
    return connection.execute(
        select(func.max(history_t.c.day))
        .join(offers_t, offers_t.c.id == history_t.c.offer_id)
        .where(offers_t.c.is_active.is_(True))
    ).scalar()


def window_points(connection: Connection, end: date, days: int) -> list[dict[str, Any]]:
    """Active offers' daily per-GPU prices in the `days` days ending at `end`, plus each
    offer's last point before them (its price when the window opened), by offer and day."""
    before = end - timedelta(days=days)  # the last day outside the window
    baseline = (
        select(history_t.c.offer_id, func.max(history_t.c.day).label("day"))
        .where(history_t.c.day <= before)
        .group_by(history_t.c.offer_id)
        .subquery()
    )
    statement = (
        select(
            history_t.c.offer_id,
            history_t.c.day,
            history_t.c.price_per_gpu_usd,
            history_t.c.stated_price,
            history_t.c.stated_currency,
        )
        .join(offers_t, offers_t.c.id == history_t.c.offer_id)
        .outerjoin(baseline, baseline.c.offer_id == history_t.c.offer_id)
        .where(
            offers_t.c.is_active.is_(True),
            or_(
                and_(history_t.c.day > before, history_t.c.day <= end),
                history_t.c.day == baseline.c.day,
            ),
        )
        .order_by(history_t.c.offer_id, history_t.c.day)
    )
    return [dict(row._mapping) for row in connection.execute(statement)]


def _sort_key(change: Mapping[str, Any]) -> tuple[Any, ...]:
    """Biggest drop first; ties newest first, then by names (never by input order)."""
    return (
        change["change_pct"],
        -change["changed_on"].toordinal(),
        change["gpu_model_slug"],
        change["provider_slug"],
        change["instance_type"],
        change["region_code"],
        change["pricing_kind"],
        change["reserved_term"] or "",
        change["offer_id"],
    )


@dataclass(frozen=True)
class _Point:
    day: date
    usd: Decimal  # per GPU-hour, at that day's exchange rate
    stated: Decimal | None  # as the provider stated it (None: not recorded, before 0011)
    currency: str | None


def _stated_pair(a: _Point, b: _Point) -> tuple[Decimal, Decimal] | None:
    """The two stated prices, when both are recorded in one currency (else None: use USD)."""
    if a.stated is None or b.stated is None or a.currency != b.currency or a.stated <= 0:
        return None
    return a.stated, b.stated


def _moved(a: _Point, b: _Point) -> bool:
    stated = _stated_pair(a, b)
    return stated[0] != stated[1] if stated else a.usd != b.usd


def price_changes(
    points: Iterable[Mapping[str, Any]],
    offers: Mapping[int, Mapping[str, Any]],
    *,
    end: date,
    days: int = CHANGE_WINDOW_DAYS,
) -> list[dict[str, Any]]:
    """One row per offer whose per-GPU price changed in the `days` days ending at `end`
    (rules in the module docstring), biggest drop first.

    `points`: rows of offer_id, day, price_per_gpu_usd and optionally stated_price and
    stated_currency (any order); `offers`: offer id -> the active offer (as
    `queries.active_offers` reads it). Points of other offers, and points after `end`, are
    ignored."""
    before = end - timedelta(days=days)
    by_offer: dict[int, list[_Point]] = {}
    for p in points:
        if p["day"] <= end and p["offer_id"] in offers:
            by_offer.setdefault(p["offer_id"], []).append(
                _Point(
                    p["day"],
                    p["price_per_gpu_usd"],
                    p.get("stated_price"),
                    p.get("stated_currency"),
                )
            )
    changes = []
    for offer_id, series in by_offer.items():
        offer = offers[offer_id]
        if via(dict(offer)):
            continue
        series.sort(key=lambda point: point.day)
        inside = [i for i, point in enumerate(series) if point.day > before]
        if not inside:
            continue  # no point in the window: nothing is known about it
        first = inside[0] - 1 if inside[0] > 0 else inside[0]
        start, last = series[first], series[-1]
        if start.usd <= 0 or not _moved(start, last):
            continue
        new = last.usd
        stated = _stated_pair(start, last)
        if stated and last.currency != "USD":  # the provider's move, at today's rate
            ratio = stated[1] / stated[0]
            old = (new / ratio).quantize(MICRO, rounding=ROUND_HALF_UP)
        elif stated:  # a USD price: its figures are the stated ones, exactly
            ratio = new / start.usd
            old = start.usd
        else:
            ratio = new / start.usd
            old = start.usd
            foreign = (offer.get("raw_currency") or "USD") != "USD"
            if foreign and abs(ratio - 1) <= SAME_PRICE:
                continue  # no stated prices to tell: a move this small is the rate's drift
        change_pct = ((ratio - 1) * 100).quantize(Decimal("0.1"))
        if change_pct == 0:
            continue
        changed_on = next(
            series[i].day
            for i in range(len(series) - 1, first, -1)
            if _moved(series[i - 1], series[i])
        )
        changes.append(
            {
                "offer_id": offer_id,
                **{name: offer.get(name) for name in OFFER_FIELDS},
                "old_price": old,
                "new_price": new,
                "change_usd": new - old,
                # one decimal: what a reader compares; the sort uses the same figure
                "change_pct": change_pct,
                "changed_on": changed_on,
                "since": start.day,
            }
        )
    changes.sort(key=_sort_key)
    return changes


def top_changes(changes: list[dict[str, Any]], limit: int) -> tuple[list[dict[str, Any]], int]:
    """The `limit` biggest moves (by size, then newest), in the default order (biggest drop
    first), and how many were left out."""
    if len(changes) <= limit:
        return changes, 0
    kept = sorted(
        changes, key=lambda c: (-abs(c["change_pct"]), -c["changed_on"].toordinal(), _sort_key(c))
    )[:limit]
    return sorted(kept, key=_sort_key), len(changes) - limit


def daily_lowest(
    points: Iterable[Mapping[str, Any]], days: int = CHART_DAYS
) -> list[tuple[date, float]]:
    """The lowest per-GPU price of each day of `points` (rows with day and
    price_per_gpu_usd), over the last `days` days they cover, oldest first: a chart series."""
    lowest: dict[date, Decimal] = {}
    for p in points:
        day, price = p["day"], p["price_per_gpu_usd"]
        if day not in lowest or price < lowest[day]:
            lowest[day] = price
    if not lowest:
        return []
    since = max(lowest) - timedelta(days=days - 1)
    return [(day, float(price)) for day, price in sorted(lowest.items()) if day >= since]
