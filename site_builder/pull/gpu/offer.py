"""The plain data that flows through the price pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

PricingKind = Literal["on_demand", "spot", "reserved"]
PriceBasis = Literal["instance", "gpu"]


@dataclass(frozen=True)
class RawResponse:
    """One HTTP response as received, archived before anything parses it."""

    name: str  # stable name within the provider's fetch, e.g. "instance-types"
    url: str
    status: int
    content_type: str
    fetched_at: datetime
    body: str
    request_body: str = ""  # what was POSTed, so a fake can replay the exchange exactly


@dataclass(frozen=True)
class ParsedOffer:
    """An offer as a provider states it: raw GPU name, price in its currency and basis."""

    provider: str
    instance_type: str
    raw_gpu_name: str
    gpu_count: int
    region_code: str
    region_name: str
    pricing_kind: PricingKind
    price: Decimal | None  # in `currency`, per hour, on `price_basis`; None: see below
    price_basis: PriceBasis
    currency: str
    raw_price: str
    raw_unit: str
    observed_at: datetime
    reserved_term: str = ""
    vcpus: int | None = None
    # RAM as the provider counts it (its "GB" and "GiB" are the same binary gigabytes);
    # local disk in decimal GB (1 TB = 1000 GB). Conversions: site_builder/pull/gpu/sizes.py.
    memory_gb: float | None = None
    storage_gb: float | None = None
    available: bool | None = None
    region_country: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    # The provider lists the offer but states no price ("Contact for pricing"): `price` is
    # None and the offer is stored as "price on request", never as a number. A None price
    # without this flag is a provider error (held back as invalid, the reason in
    # `details["unpriced"]`).
    price_on_request: bool = False

    @property
    def key(self) -> str:
        """Identity of the offer across pulls (provider x instance x region x pricing kind)."""
        term = f"/{self.reserved_term}" if self.reserved_term else ""
        return f"{self.provider}/{self.instance_type}/{self.region_code}/{self.pricing_kind}{term}"


@dataclass(frozen=True)
class Offer:
    """A validated offer, normalized to a catalog GPU model and to USD."""

    parsed: ParsedOffer
    gpu_model: str
    instance_price_usd: Decimal
    price_per_gpu_usd: Decimal


@dataclass(frozen=True)
class Rejection:
    """A parsed offer held back from publication, and why."""

    parsed: ParsedOffer
    reason_code: str
    reason: str
    extra: dict[str, Any] = field(default_factory=dict)  # kept with the row, e.g. USD prices
