"""Editors' decisions on quarantined price rows: list, accept, reject.

Only a held anomaly can be accepted: its prices were valid, just surprising, so accepting
publishes them as if the next pull had confirmed them. Every other reason (an unknown GPU
name, a broken rule, a missing exchange rate) is fixed at its source (the catalog, the
provider) and can only be dismissed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select, update

from site_builder.db.models import GpuOffer, GpuPriceHistory, GpuQuarantine
from site_builder.db.upsert import upsert
from site_builder.errors import DataError

table = GpuQuarantine.__table__
offers_t = GpuOffer.__table__

FIX_HINTS = {
    "unknown_gpu": "add the name to the aliases in data/gpu_catalog.toml; the next pull maps it",
    "invalid": "the row breaks a validation rule and cannot be published",
    "duplicate": "the provider sent this offer twice; the first one was kept",
    "fx_missing": "no exchange rate for its currency; the next pull with a rate publishes it",
}


@dataclass(frozen=True)
class QuarantinedRow:
    id: int
    provider: str
    reason_code: str
    reason: str
    offer_key: str
    raw_gpu_name: str | None
    status: str
    created_at: datetime
    payload: dict[str, Any]


def list_rows(
    connection: Connection, *, status: str | None = "pending", provider: str | None = None
) -> list[QuarantinedRow]:
    query = select(table).order_by(table.c.provider_slug, table.c.id)
    if status is not None:
        query = query.where(table.c.status == status)
    if provider is not None:
        query = query.where(table.c.provider_slug == provider)
    return [
        QuarantinedRow(
            row.id,
            row.provider_slug,
            row.reason_code,
            row.reason,
            row.offer_key,
            row.raw_gpu_name,
            row.status,
            row.created_at,
            row.payload,
        )
        for row in connection.execute(query)
    ]


def _pending(connection: Connection, row_id: int) -> Any:
    row = connection.execute(select(table).where(table.c.id == row_id)).first()
    if row is None:
        raise DataError(f"quarantine row {row_id} does not exist")
    if row.status != "pending":
        raise DataError(f"quarantine row {row_id} was already {row.status}")
    return row


def accept(connection: Connection, row_id: int, *, now: datetime) -> str:
    """Publish a held anomaly's price now. Returns what was done, for the editor."""
    row = _pending(connection, row_id)
    if row.reason_code != "anomaly":
        hint = FIX_HINTS.get(row.reason_code, "it cannot be published as it is")
        raise DataError(f"quarantine row {row_id} ({row.reason_code}) cannot be accepted: {hint}")
    payload = row.payload
    p = payload
    offer = connection.execute(
        select(offers_t.c.id).where(
            offers_t.c.provider_slug == p["provider"],
            offers_t.c.instance_type == p["instance_type"],
            offers_t.c.region_code == p["region_code"],
            offers_t.c.pricing_kind == p["pricing_kind"],
            offers_t.c.reserved_term == p["reserved_term"],
        )
    ).first()
    if offer is None:
        raise DataError(f"quarantine row {row_id}: its offer {row.offer_key} no longer exists")
    instance_price = Decimal(p["instance_price_usd"])
    per_gpu = Decimal(p["price_per_gpu_usd"])
    observed_at = datetime.fromisoformat(p["observed_at"])
    connection.execute(
        update(offers_t)
        .where(offers_t.c.id == offer.id)
        .values(
            instance_price_usd=instance_price,
            price_per_gpu_usd=per_gpu,
            raw_price=p["raw_price"],
            available=p["available"],
            last_seen_at=observed_at,
            price_changed_at=now,
            is_active=True,
        )
    )
    upsert(
        connection,
        GpuPriceHistory.__table__,
        [
            {
                "offer_id": offer.id,
                "day": observed_at.date(),
                "instance_price_usd": instance_price,
                "price_per_gpu_usd": per_gpu,
                "available": p["available"],
                "stated_price": None if p.get("price") is None else Decimal(p["price"]),
                "stated_currency": p.get("currency"),
            }
        ],
        key=["offer_id", "day"],
    )
    _close(connection, row_id, "accepted", now, "accepted by an editor", payload)
    return f"{row.offer_key}: now {per_gpu} USD per GPU-hour"


def reject(connection: Connection, row_id: int, *, now: datetime) -> str:
    row = _pending(connection, row_id)
    _close(connection, row_id, "rejected", now, "rejected by an editor", row.payload)
    if row.reason_code == "anomaly":
        return (
            f"{row.offer_key}: the last accepted price stays; this value will not be raised again"
        )
    return f"{row.offer_key}: dismissed"


def _close(
    connection: Connection,
    row_id: int,
    status: str,
    now: datetime,
    note: str,
    payload: dict[str, Any],
) -> None:
    connection.execute(
        update(table)
        .where(table.c.id == row_id)
        .values(status=status, decided_at=now, payload=payload | {"decision": note})
    )
