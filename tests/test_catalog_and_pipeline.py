"""GPU names map to exactly one catalog model; bad offers are rejected with a reason."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from site_builder.errors import ConfigError
from site_builder.pull.gpu.catalog import load_catalog
from site_builder.pull.gpu.offer import ParsedOffer
from site_builder.pull.gpu.pipeline import PriceRules, normalize

ROOT = Path(__file__).resolve().parent.parent
CATALOG = load_catalog(ROOT / "data/gpu_catalog.toml")


def test_catalog_has_the_reference_models() -> None:
    assert len(CATALOG.models) >= 22


@pytest.mark.parametrize(
    ("provider", "raw", "slug"),
    [
        ("runpod", "NVIDIA H100 80GB HBM3", "h100-sxm"),
        ("vast", "H100 PCIE", "h100-pcie"),
        ("vast", "H100 NVL", "h100-nvl"),
        ("lambda", "A10 (24 GB PCIe)", "a10"),
        ("aws", "A10G", "a10g"),
        ("lambda", "RTX 6000 (24 GB)", "rtx-6000"),
        ("vast", "RTX 6000Ada", "rtx-6000-ada"),
        ("runpod", "RTX PRO 6000", "rtx-pro-6000"),
        ("vast", "rtx  a6000", "rtx-a6000"),  # case and spacing do not matter
        ("gcp", "nvidia-tesla-a100", "a100-40-sxm"),
    ],
)
def test_provider_names_resolve_to_distinct_models(provider: str, raw: str, slug: str) -> None:
    assert CATALOG.resolve(provider, raw) == slug


def test_unknown_name_resolves_to_nothing() -> None:
    assert CATALOG.resolve("vast", "H100 SXM5 80GB Ultra") is None
    assert CATALOG.resolve("lambda", "RTX 6000") is None  # ambiguous names are not guessed


def test_an_alias_naming_two_models_is_refused(tmp_path: Path) -> None:
    text = (
        (ROOT / "data/gpu_catalog.toml")
        .read_text()
        .replace('aliases.any = ["NVIDIA A10G", "A10G"]', 'aliases.any = ["NVIDIA A10G", "A10"]')
    )
    path = tmp_path / "catalog.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"alias 'A10' .* names both 'a10' and 'a10g'"):
        load_catalog(path)


def offer(**changes) -> ParsedOffer:
    base = ParsedOffer(
        provider="lambda",
        instance_type="gpu_8x_h100_sxm5",
        raw_gpu_name="H100 (80 GB SXM5)",
        gpu_count=8,
        region_code="us-east-1",
        region_name="Virginia, USA",
        pricing_kind="on_demand",
        price=Decimal("23.92"),
        price_basis="instance",
        currency="USD",
        raw_price="2392",
        raw_unit="USD cents / instance-hour",
        observed_at=datetime(2026, 11, 21, tzinfo=UTC),
    )
    return replace(base, **changes)


def test_instance_price_is_split_per_gpu() -> None:
    [accepted], rejected = normalize([offer()], CATALOG, PriceRules())
    assert rejected == []
    assert accepted.gpu_model == "h100-sxm"
    assert accepted.instance_price_usd == Decimal("23.92")
    assert accepted.price_per_gpu_usd == Decimal("2.99")


def test_per_gpu_price_is_multiplied_out() -> None:
    [accepted], _ = normalize(
        [offer(price=Decimal("2.39"), price_basis="gpu", gpu_count=2)], CATALOG, PriceRules()
    )
    assert accepted.instance_price_usd == Decimal("4.78")


@pytest.mark.parametrize(
    ("changes", "code", "reason"),
    [
        ({"raw_gpu_name": "H100 (80 GB SXM6)"}, "unknown_gpu", "unknown GPU name"),
        ({"price": Decimal("0")}, "invalid", "not positive"),
        ({"price": Decimal("-1")}, "invalid", "not positive"),
        ({"price": Decimal("9000")}, "invalid", "above the ceiling"),
        ({"gpu_count": 0}, "invalid", "below 1"),
        ({"currency": "EUR"}, "fx_missing", "no USD exchange rate for EUR"),
    ],
)
def test_bad_offers_are_rejected_with_a_reason(changes, code: str, reason: str) -> None:
    accepted, [rejection] = normalize([offer(**changes)], CATALOG, PriceRules())
    assert accepted == []
    assert rejection.reason_code == code
    assert reason in rejection.reason


def test_a_duplicate_offer_keeps_the_first() -> None:
    accepted, [rejection] = normalize([offer(), offer(price=Decimal("1"))], CATALOG, PriceRules())
    assert accepted[0].instance_price_usd == Decimal("23.92")
    assert rejection.reason_code == "duplicate"
