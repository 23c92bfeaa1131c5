"""IP address -> country, from a range CSV such as db-ip's free "IP to Country Lite".

Each line is ``first_ip,last_ip,country_code`` (IPv4 or IPv6). Lookups are a binary search;
no extra dependency. Without a file every country is unknown, which the verdict handles.
"""

from __future__ import annotations

import bisect
import csv
import ipaddress
from pathlib import Path

from site_builder.errors import ConfigError


class CountryLookup:
    def __init__(self, ranges: list[tuple[int, int, int, str]]) -> None:
        # (version, first, last, country), sorted by (version, first)
        self._ranges = sorted(ranges)
        self._keys = [(v, first) for v, first, _, _ in self._ranges]

    @classmethod
    def empty(cls) -> CountryLookup:
        return cls([])

    @classmethod
    def from_csv(cls, path: Path) -> CountryLookup:
        ranges = []
        try:
            with path.open(newline="", encoding="utf-8") as handle:
                for number, row in enumerate(csv.reader(handle), start=1):
                    if not row or row[0].startswith("#"):
                        continue
                    try:
                        first, last = ipaddress.ip_address(row[0]), ipaddress.ip_address(row[1])
                        country = row[2].strip().upper()
                    except (ValueError, IndexError):
                        raise ConfigError(
                            f"{path}:{number}: expected first_ip,last_ip,country"
                        ) from None
                    if first.version != last.version or int(last) < int(first) or len(country) != 2:
                        raise ConfigError(f"{path}:{number}: invalid range or country code")
                    ranges.append((first.version, int(first), int(last), country))
        except FileNotFoundError:
            raise ConfigError(f"{path}: country database not found") from None
        return cls(ranges)

    def country(self, ip: str) -> str | None:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return None
        key = (address.version, int(address))
        index = bisect.bisect_right(self._keys, key) - 1
        if index < 0:
            return None
        version, _first, last, country = self._ranges[index]
        return country if version == address.version and int(address) <= last else None
