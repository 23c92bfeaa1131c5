"""Offers listed without a price ("Contact for pricing"): "price on request", never a number.

A provider page that says "Contact for pricing" still tells a reader that the GPU is sold
there, by which pricing kind and term. Such an offer is parsed with ``price=None`` and
``price_on_request=True``; here it is checked (known GPU, count >= 1), stored in its own
table (``gpu_offers_on_request``) and kept out of every price figure, which read
``gpu_offers`` only. One key is never both: an offer that gets a price leaves this table,
and an offer that loses its price leaves ``gpu_offers`` at once (its history stays).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Table, select, update

from site_builder.db.models import GpuOffer, GpuRegion
from site_builder.db.models_gpu_request import GpuOfferOnRequest
from site_builder.db.upsert import upsert
from site_builder.pull.gpu.catalog import GpuCatalog
from site_builder.pull.gpu.offer import Offer, ParsedOffer, Rejection

requests_t = GpuOfferOnRequest.__table__
offers_t = GpuOffer.__table__
KEY = ("instance_type", "region_code", "pricing_kind", "reserved_term")


@dataclass(frozen=True)
class OnRequest:
    """A checked offer without a price, mapped to a catalog GPU model."""

    parsed: ParsedOffer
    gpu_model: str


def split_on_request(
    parsed: list[ParsedOffer], catalog: GpuCatalog
) -> tuple[list[ParsedOffer], list[OnRequest], list[Rejection]]:
    """(offers with a price, offers on request, rejected offers on request)."""
    priced: list[ParsedOffer] = []
    requested: list[OnRequest] = []
    rejected: list[Rejection] = []
    seen: set[str] = set()
    for offer in parsed:
        if not offer.price_on_request:
            priced.append(offer)
            continue
        if offer.key in seen:
            rejected.append(Rejection(offer, "duplicate", f"{offer.key} appears twice"))
        elif offer.gpu_count < 1:
            rejected.append(Rejection(offer, "invalid", f"GPU count {offer.gpu_count} is below 1"))
        elif (slug := catalog.resolve(offer.provider, offer.raw_gpu_name)) is None:
            rejected.append(
                Rejection(
                    offer,
                    "unknown_gpu",
                    f"unknown GPU name {offer.raw_gpu_name!r} from {offer.provider}:"
                    " add it to the catalog's aliases",
                )
            )
        else:
            seen.add(offer.key)
            requested.append(OnRequest(offer, slug))
    return priced, requested, rejected


def _key(parsed: ParsedOffer) -> tuple[str, str, str, str]:
    return (parsed.instance_type, parsed.region_code, parsed.pricing_kind, parsed.reserved_term)


def _active_ids(
    connection: Connection, table: Table, provider: str, keys: set[tuple[str, str, str, str]]
) -> list[int]:
    """Ids of the provider's active rows in `table` whose key is one of `keys`."""
    rows = connection.execute(
        select(table.c.id, *(table.c[name] for name in KEY)).where(
            table.c.provider_slug == provider, table.c.is_active.is_(True)
        )
    )
    return [row[0] for row in rows if tuple(row[1:]) in keys]


def store_on_request(
    connection: Connection,
    provider: str,
    requested: list[OnRequest],
    priced: list[Offer],
    *,
    now: datetime,
    inactive_after: timedelta,
) -> int:
    """Upsert this pull's offers on request; returns how many were stored.

    Called in the provider's store transaction, after its priced offers are stored.
    """
    if requested:
        regions = {
            (r.parsed.region_code, r.parsed.region_name, r.parsed.region_country) for r in requested
        }
        upsert(
            connection,
            GpuRegion.__table__,
            [
                {"provider_slug": provider, "code": code, "name": name, "country_code": country}
                for code, name, country in sorted(regions, key=lambda r: r[0])
            ],
            key=["provider_slug", "code"],
            update=(),  # a priced offer's region row wins; only add missing ones
        )
        upsert(
            connection,
            requests_t,
            [
                {
                    "provider_slug": provider,
                    "instance_type": r.parsed.instance_type,
                    "region_code": r.parsed.region_code,
                    "region_name": r.parsed.region_name[:120],
                    "pricing_kind": r.parsed.pricing_kind,
                    "reserved_term": r.parsed.reserved_term,
                    "gpu_model_slug": r.gpu_model,
                    "gpu_count": r.parsed.gpu_count,
                    "raw_text": r.parsed.raw_price[:120],
                    "details": r.parsed.details,
                    "first_seen_at": now,
                    "last_seen_at": now,
                    "is_active": True,
                }
                for r in requested
            ],
            key=["provider_slug", *KEY],
            update=[
                "region_name",
                "gpu_model_slug",
                "gpu_count",
                "raw_text",
                "details",
                "last_seen_at",
                "is_active",
            ],
        )
        # A price became "on request": the old number is no longer offered.
        gone = _active_ids(connection, offers_t, provider, {_key(r.parsed) for r in requested})
        if gone:
            connection.execute(
                update(offers_t)
                .where(offers_t.c.id.in_(gone))
                .values(is_active=False, price_changed_at=now)
            )
    if priced:  # an offer on request that now has a price
        priced_now = _active_ids(connection, requests_t, provider, {_key(o.parsed) for o in priced})
        if priced_now:
            connection.execute(
                update(requests_t).where(requests_t.c.id.in_(priced_now)).values(is_active=False)
            )
    connection.execute(
        update(requests_t)
        .where(
            requests_t.c.provider_slug == provider,
            requests_t.c.is_active.is_(True),
            requests_t.c.last_seen_at < now - inactive_after,
        )
        .values(is_active=False)
    )
    return len(requested)
