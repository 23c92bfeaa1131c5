"""The invented GPU market the fake provider APIs answer from: deterministic and plausible.

Every number comes from a list price per GPU model, scaled per provider and varied by a
hash of a key, so the same request always gets the same answer and `revision` makes a
later market (for history and anomaly tests).
"""

from __future__ import annotations

import hashlib
from decimal import ROUND_HALF_UP, Decimal

# Typical on-demand USD per GPU-hour, late 2026.
LIST_PRICE = {
    "b200": 5.99,
    "h200-sxm": 3.79,
    "h200-nvl": 3.29,
    "h100-sxm": 2.99,
    "h100-pcie": 2.49,
    "h100-nvl": 2.79,
    "gh200": 1.49,
    "a100-80-sxm": 1.79,
    "a100-80-pcie": 1.64,
    "a100-40-sxm": 1.29,
    "a100-40-pcie": 1.19,
    "l40s": 1.04,
    "l40": 0.99,
    "l4": 0.71,
    "a10": 0.75,
    "a10g": 1.01,
    "rtx-a6000": 0.79,
    "rtx-6000": 0.50,
    "rtx-6000-ada": 0.99,
    "rtx-pro-6000": 1.89,
    "rtx-4090": 0.49,
    "v100": 0.89,
    "t4": 0.35,
    "mi300x": 2.49,
}


def unit(key: str) -> float:
    """A stable pseudo-random number in [0, 1) for `key`."""
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def chance(key: str, probability: float) -> bool:
    return unit(key) < probability


def price(model: str, factor: float, key: str, spread: float = 0.08, places: int = 2) -> Decimal:
    """List price x provider factor, varied by up to +-`spread`, rounded to `places`."""
    value = LIST_PRICE[model] * factor * (1 + spread * (2 * unit(key) - 1))
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
