"""The rows of the store's countries table: ISO 3166-1 from pycountry, plus the one
user-assigned code probes and providers report (XK). Both pulls write them; the
measurement validation accepts exactly these codes."""

from __future__ import annotations

from functools import lru_cache

import pycountry
from slugify import slugify

# Kosovo has no ISO 3166-1 code yet; "XK" is the user-assigned code the EU, the IMF and most
# VPN providers use for it, so the store accepts it.
EXTRA_COUNTRIES = {"XK": "Kosovo"}


def country_rows() -> list[dict[str, str]]:
    """Every country the store knows, with its display name and URL slug, by code."""
    rows = []
    for country in pycountry.countries:
        name = getattr(country, "common_name", None) or country.name
        rows.append({"code": country.alpha_2, "name": name, "slug": slugify(name)})
    for code, name in EXTRA_COUNTRIES.items():
        rows.append({"code": code, "name": name, "slug": slugify(name)})
    return sorted(rows, key=lambda r: r["code"])


@lru_cache(maxsize=1)
def known_countries() -> frozenset[str]:
    """Every code the store's countries table holds: ISO 3166-1 alpha-2, plus XK."""
    return frozenset({c.alpha_2 for c in pycountry.countries} | set(EXTRA_COUNTRIES))
