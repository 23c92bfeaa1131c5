"""Instance sizes beside a price: vCPU, RAM and local storage, in the units we publish.

Adapters convert what a provider sends with the helpers here, so every unit conversion is
written once and named: storage is kept in decimal GB (disks are sold in decimal units,
1 TB = 1000 GB), so a size a provider gives in GiB, TiB, MiB or bytes is converted, and one
given in GB or TB is not rounded through binary units. RAM (`memory_gb`) is kept as the
provider counts it: providers write "GB" and "GiB" for the same binary gigabytes of memory,
and converting would print 214.7 GB for a 200 GiB machine.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from site_builder.pull.gpu.offer import ParsedOffer

# Decimal GB per unit a provider may state a disk size in (case-insensitive keys).
GB_PER_UNIT: dict[str, Decimal] = {
    "b": Decimal(1) / Decimal(10**9),
    "mb": Decimal("0.001"),
    "mib": Decimal(2**20) / Decimal(10**9),
    "gb": Decimal(1),
    "gib": Decimal(2**30) / Decimal(10**9),
    "tb": Decimal(1000),
    "tib": Decimal(2**40) / Decimal(10**9),
}


def storage_gb(amount: Any, unit: str) -> Any:
    """A disk size of `amount` `unit`s in decimal GB, to 0.1 GB; None when not stated.

    A value that is not a number is returned as it came, not turned into None: the store
    then drops it and says so in the offer's details (`instance_specs`), rather than the
    adapter hiding a provider's change of format.
    """
    if amount is None:
        return None
    try:
        number = Decimal(str(amount).strip())
    except InvalidOperation:
        return amount
    if isinstance(amount, bool) or not number.is_finite():
        return amount
    return float(round(number * GB_PER_UNIT[unit.lower()], 1))


_SIZE_TEXT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(TiB|TB|GiB|GB|MiB|MB)\s*", re.IGNORECASE)


def storage_text_gb(text: Any) -> Any:
    """A size written out ("3.8TB", "960GB", "500 GiB") in decimal GB; the text itself
    when it reads otherwise (dropped by the store, with the reason)."""
    match = _SIZE_TEXT.fullmatch(str(text)) if text is not None else None
    if match is None:
        return text
    return storage_gb(match.group(1), match.group(2))


def drives_gb(drives: Any) -> Any:
    """The total of a list of drives ``[{"count": 2, "size": "3.8TB"}, …]`` in decimal GB;
    None when there are none, the first unreadable size when one cannot be read."""
    if not isinstance(drives, list) or not drives:
        return None
    total = 0.0
    for drive in drives:
        size = storage_text_gb(drive.get("size") if isinstance(drive, dict) else drive)
        count = drive.get("count", 1) if isinstance(drive, dict) else 1
        if not isinstance(size, float) or isinstance(count, bool) or not isinstance(count, int):
            return size if not isinstance(size, float) else count
        total += size * count
    return round(total, 1)


SPEC_FIELDS = ("vcpus", "memory_gb", "storage_gb")


def instance_specs(parsed: ParsedOffer) -> tuple[dict[str, Any], dict[str, str]]:
    """The offer's vCPU, RAM and storage as they may be stored, and the values dropped.

    A size is published beside the price, so a value that is not a positive finite number
    (a string, a negative, NaN; a fractional vCPU count) is not stored: the price still is,
    the size reads "not stated", and the stored offer's details say what was dropped and
    why (`gpu_offers.details["dropped_specs"]`). 0 is what several APIs
    send for "none stated" (no local disk, say): it is stored as not stated, not as dropped.
    """
    kept: dict[str, Any] = {}
    dropped: dict[str, str] = {}
    for name in SPEC_FIELDS:
        raw = getattr(parsed, name)
        value, problem = _positive_number(raw, whole=name == "vcpus")
        kept[name] = value
        if problem:
            dropped[name] = f"{raw!r} {problem}"
    return kept, dropped


def _positive_number(raw: Any, *, whole: bool) -> tuple[int | float | None, str | None]:
    if raw is None:
        return None, None
    if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal | str):
        return None, "is not a number"
    try:
        number = Decimal(raw.strip() if isinstance(raw, str) else str(raw))
    except InvalidOperation:
        return None, "is not a number"
    if not number.is_finite():
        return None, "is not finite"
    if number < 0:
        return None, "is negative"
    if number == 0:
        return None, None
    if whole:
        if number != number.to_integral_value():
            return None, "is not a whole number of vCPUs"
        return int(number), None
    return float(number), None
