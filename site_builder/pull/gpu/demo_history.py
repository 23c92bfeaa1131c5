"""Invented price history for the demo store, so a fresh ``build-site --demo`` has charts.

The demo snapshot is one day of (invented, evidence-shaped) answers; price charts need
weeks. After the demo snapshot is replayed, every active offer gets `days` daily points
before the day it was first seen, written straight into ``gpu_price_history``
(insert-if-missing, so a real point is never overwritten and a second run adds nothing).

The walk is deterministic (a hash of the offer's key and the day, never the clock) and
shaped like the market the trackers show:
- List prices (on-demand, reserved) move when a provider re-prices a GPU model: the step
  falls on the same day, by the same share, in every region and term of that provider's
  model. Most models keep their price for the 90 days; some move once, a few twice, mostly
  cuts. So a month of demo history changes a minority of list prices, as a real month does.
- Spot prices and marketplace medians (Vast.ai's per-country medians) move on about one day
  in three, a little each time, within ±15 %.
Points never leave ±35% of today's price, so the anomaly rule (50%) is never what a chart
shows. It is demo data and says so (docs/prices.md, "The demo snapshot").
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Engine, func, select

from site_builder.db.models import GpuOffer, GpuPriceHistory
from site_builder.db.upsert import upsert

DAYS = 90
offers_t = GpuOffer.__table__
history_t = GpuPriceHistory.__table__
MICRO = Decimal("0.000001")


def _unit(*parts: object) -> float:
    """A stable number in [0, 1) for `parts`."""
    digest = hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def repricings(model_key: str, days: int) -> list[tuple[int, float]]:
    """The days (counted back from the first real point) a provider re-priced one GPU model
    in the window, with the size of each step in [0, 1): none for about half the models."""
    draw = _unit(model_key, "steps")
    steps = 0 if draw < 0.5 else 1 if draw < 0.88 else 2
    return sorted(
        (int(_unit(model_key, "at", i) * days), _unit(model_key, "size", i)) for i in range(steps)
    )


def factors(moves: list[tuple[int, float]], walk_key: str | None, days: int) -> list[float]:
    """Price multipliers for the `days` days before the first real point, oldest first: the
    list-price `moves` (from `repricings`), or with a `walk_key` the spot/marketplace drift of
    that offer; the day before the first point is close to 1."""
    out = []
    level = 1.0
    walk = 0.0
    for back in range(1, days + 1):  # 1 = the day before the first point
        for at, size in moves:
            if back == at + 1:
                # going back in time past a change: before a cut the price was higher
                level *= 1 + (0.04 + 0.16 * size) * (1 if size < 0.8 else -0.5)
        if walk_key is not None and _unit(walk_key, "moves", back) < 0.35:
            walk += (_unit(walk_key, "walk", back) - 0.5) * 0.06
            walk = max(-0.15, min(0.15, walk))
        out.append(max(0.65, min(1.35, level * (1 + walk))))
    return out[::-1]


def drifts(pricing_kind: str, instance_type: str) -> bool:
    """Whether an offer's price drifts day to day (spot, marketplace medians) rather than
    moving in list-price steps."""
    return pricing_kind == "spot" or instance_type.endswith("(marketplace)")


def backfill(engine: Engine, days: int = DAYS, step: int = 1) -> int:
    """Write invented history before each active offer's first sighting; return the rows
    offered (rows already there are kept as they are, so a second run changes nothing).

    `step` > 1 writes every `step`-th day only (a smaller demo store, same chart shape).
    """
    newest = (
        select(history_t.c.offer_id, func.max(history_t.c.day).label("day"))
        .group_by(history_t.c.offer_id)
        .subquery()
    )
    with engine.begin() as connection:
        offers = connection.execute(
            select(
                offers_t.c.id,
                offers_t.c.provider_slug,
                offers_t.c.gpu_model_slug,
                offers_t.c.instance_type,
                offers_t.c.region_code,
                offers_t.c.pricing_kind,
                offers_t.c.reserved_term,
                offers_t.c.gpu_count,
                offers_t.c.price_per_gpu_usd,
                offers_t.c.first_seen_at,
                history_t.c.stated_price,
                history_t.c.stated_currency,
            )
            # the newest point states today's price: the walk scales it like the USD one
            .outerjoin(newest, newest.c.offer_id == offers_t.c.id)
            .outerjoin(
                history_t,
                (history_t.c.offer_id == offers_t.c.id) & (history_t.c.day == newest.c.day),
            )
            .where(offers_t.c.is_active.is_(True))
            .order_by(offers_t.c.id)
        ).all()
        rows: list[dict[str, Any]] = []
        for offer in offers:
            start: date = offer.first_seen_at.date()  # the offer's first real point
            if drifts(offer.pricing_kind, offer.instance_type):
                key = (
                    f"{offer.provider_slug}/{offer.instance_type}"
                    f"/{offer.region_code}/{offer.pricing_kind}"
                )
                walk = factors([], key, days)
            else:  # every region and term of the provider's model moves together
                model = f"{offer.provider_slug}/{offer.gpu_model_slug}"
                walk = factors(repricings(model, days), None, days)
            for back, factor in zip(range(days, 0, -1), walk, strict=True):
                if back % step and back != days:
                    continue
                per_gpu = (offer.price_per_gpu_usd * Decimal(str(factor))).quantize(
                    MICRO, rounding=ROUND_HALF_UP
                )
                rows.append(
                    {
                        "offer_id": offer.id,
                        "day": start - timedelta(days=back),
                        "instance_price_usd": per_gpu * offer.gpu_count,
                        "price_per_gpu_usd": per_gpu,
                        "available": None,
                        "stated_price": None
                        if offer.stated_price is None
                        else (offer.stated_price * Decimal(str(factor))).quantize(
                            MICRO, rounding=ROUND_HALF_UP
                        ),
                        "stated_currency": offer.stated_currency,
                    }
                )
        for chunk in range(0, len(rows), 5000):
            upsert(
                connection,
                history_t,
                rows[chunk : chunk + 5000],
                key=["offer_id", "day"],
                update=(),
            )
    return len(rows)
