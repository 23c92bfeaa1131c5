"""One spelling and one code per country and city, whatever a provider's list says.

Countries: an ISO 3166-1 alpha-2 code (any case), a name pycountry knows (names, official
and common names: "United States", "Czech Republic"), or an alias from the checked-in
``[country_aliases]`` of ``data/vpn/reference.toml`` ("UK", "Turkey", "Kosovo"). Anything
else fails loudly, naming the provider and the value: a new spelling is added to the
table by a person, never guessed.

Cities: the part before any comma ("New York, NY" -> "New York"), matched by slug within
its country against the checked-in city table (``[[city]]`` of the same file, with
``aliases`` such as "Frankfurt am Main"), which also holds their coordinates. A city the
table lacks keeps the provider's spelling and has no coordinates (the pull reports it);
a region name that is not a known city ("US Florida") is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pycountry
from slugify import slugify

from site_builder.db.countries import known_countries
from site_builder.errors import DataError


@dataclass(frozen=True)
class City:
    country: str
    name: str
    slug: str
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class Places:
    aliases: Mapping[str, str]  # casefolded spelling -> code
    cities: Mapping[tuple[str, str], City]  # (code, slug of a name or alias) -> city

    @classmethod
    def from_reference(cls, reference: Mapping[str, Any]) -> Places:
        aliases = {
            str(k).casefold(): str(v).upper()
            for k, v in (reference.get("country_aliases") or {}).items()
        }
        cities: dict[tuple[str, str], City] = {}
        for entry in reference.get("city", []):
            city = City(
                entry["country"],
                entry["name"],
                slugify(entry["name"]),
                entry.get("latitude"),
                entry.get("longitude"),
            )
            for spelling in (entry["name"], *entry.get("aliases", [])):
                cities[(city.country, slugify(spelling))] = city
        return cls(aliases, cities)

    def country(self, raw: str, provider: str) -> str:
        value = raw.strip()
        code = self.aliases.get(value.casefold())
        if code is None and len(value) == 2 and value.upper() in known_countries():
            code = value.upper()
        if code is None:
            try:
                code = pycountry.countries.lookup(value).alpha_2
            except LookupError:
                code = None
        if code is None or code not in known_countries():
            raise DataError(
                f"{provider}: unknown country {raw!r}: add the spelling to [country_aliases]"
                " in data/vpn/reference.toml if it names a real country"
            )
        return code

    def city(self, country: str, raw: str | None, *, region: bool = False) -> City | None:
        """The city the table knows, a city of the provider's spelling without
        coordinates, or None (no city, or a region name that is not a known city)."""
        if not raw:
            return None
        name = " ".join(raw.split(",", 1)[0].split())
        if not name:
            return None
        known = self.cities.get((country, slugify(name)))
        if known is not None:
            return known
        if region:
            return None
        return City(country, name, slugify(name), None, None)
