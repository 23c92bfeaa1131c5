"""The pure part of the price pipeline: validate, normalize the GPU, convert to USD.

Nothing here touches the store or the network; the same function serves live pulls and
snapshot replays, and tests call it directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from site_builder.db.types import quantize_micros
from site_builder.pull.gpu.catalog import GpuCatalog
from site_builder.pull.gpu.offer import Offer, ParsedOffer, Rejection


@dataclass(frozen=True)
class PriceRules:
    """Bounds a believable per-GPU hourly price must fall within (USD)."""

    max_price_per_gpu_usd: Decimal = Decimal("100")


def _to_usd(offer: ParsedOffer, usd_per_unit: Mapping[str, Decimal]) -> Decimal | None:
    if offer.price is None:
        return None
    if offer.currency == "USD":
        return offer.price
    rate = usd_per_unit.get(offer.currency)
    return None if rate is None else offer.price * rate


def normalize(
    parsed: list[ParsedOffer],
    catalog: GpuCatalog,
    rules: PriceRules,
    usd_per_unit: Mapping[str, Decimal] | None = None,
) -> tuple[list[Offer], list[Rejection]]:
    """Split parsed offers into accepted offers and rejections with reasons."""
    accepted: list[Offer] = []
    rejected: list[Rejection] = []
    seen: set[str] = set()
    for offer in parsed:
        problem = _check(offer, catalog, rules, usd_per_unit or {}, seen)
        if isinstance(problem, Rejection):
            rejected.append(problem)
            continue
        seen.add(offer.key)
        accepted.append(problem)
    return accepted, rejected


def _check(
    offer: ParsedOffer,
    catalog: GpuCatalog,
    rules: PriceRules,
    usd_per_unit: Mapping[str, Decimal],
    seen: set[str],
) -> Offer | Rejection:
    if offer.key in seen:
        return Rejection(offer, "duplicate", f"{offer.key} appears twice in one response")
    if offer.gpu_count < 1:
        return Rejection(offer, "invalid", f"GPU count {offer.gpu_count} is below 1")
    slug = catalog.resolve(offer.provider, offer.raw_gpu_name)
    if slug is None:
        return Rejection(
            offer,
            "unknown_gpu",
            f"unknown GPU name {offer.raw_gpu_name!r} from {offer.provider}:"
            " add it to the catalog's aliases",
        )
    if offer.price is None:  # a "price on request" offer never gets this far (see on_request)
        reason = offer.details.get("unpriced") or "the provider states no price"
        return Rejection(offer, "invalid", f"no usable price: {reason}")
    price_usd = _to_usd(offer, usd_per_unit)
    if price_usd is None:
        return Rejection(offer, "fx_missing", f"no USD exchange rate for {offer.currency}")
    if offer.price_basis == "instance":
        instance_price, per_gpu = price_usd, price_usd / offer.gpu_count
    else:
        instance_price, per_gpu = price_usd * offer.gpu_count, price_usd
    instance_price, per_gpu = quantize_micros(instance_price), quantize_micros(per_gpu)
    if per_gpu <= 0:
        return Rejection(offer, "invalid", f"per-GPU price {per_gpu} USD/h is not positive")
    if per_gpu > rules.max_price_per_gpu_usd:
        return Rejection(
            offer,
            "invalid",
            f"per-GPU price {per_gpu} USD/h is above the ceiling of"
            f" {rules.max_price_per_gpu_usd} USD/h",
        )
    return Offer(offer, slug, instance_price, per_gpu)
