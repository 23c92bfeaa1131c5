"""The data files published beside the pages: JSON under /api/ and CSV under /data/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from site_builder.config import SiteConfig
from site_builder.render.datafiles import csv_file, json_file, json_records_file
from site_builder.render.writer import Content
from site_builder.sites.bestvpnserver.common import Dataset, group_by
from site_builder.sites.bestvpnserver.model import (
    summary,
)

DATA_FILES = (
    {
        "url": "/api/servers.json",
        "format": "application/json",
        "what": "Every ranked server with its medians",
    },
    {
        "url": "/api/stats/overview.json",
        "format": "application/json",
        "what": "Totals and medians over all servers",
    },
    {
        "url": "/api/providers.json",
        "format": "application/json",
        "what": "Per provider: servers, countries, medians",
    },
    {"url": "/data/servers.csv", "format": "text/csv", "what": "The server table"},
    {"url": "/data/providers.csv", "format": "text/csv", "what": "The provider table"},
    {
        "url": "/data/provider-countries.csv",
        "format": "text/csv",
        "what": "Per provider and country",
    },
)


def _server_record(s: dict[str, Any]) -> dict[str, Any]:
    return {
        "provider": s["provider_slug"],
        "hostname": s["hostname"],
        "country": s["country_code"],
        "city": s["city_name"],
        "status": s["status"],
        "runs": s["runs"],
        "success_rate": round(s["success_rate"], 4),
        "download_median_mbps": None
        if s["download_median_bps"] is None
        else round(s["download_median_bps"] * 8 / 1e6, 1),
        "upload_median_mbps": None
        if s["upload_median_bps"] is None
        else round(s["upload_median_bps"] * 8 / 1e6, 1),
        "latency_median_ms": None
        if s["latency_median_ms"] is None
        else round(s["latency_median_ms"], 1),
        "uptime_pct": None if s["uptime_pct"] is None else round(s["uptime_pct"], 2),
        "first_day": s["first_day"].isoformat(),
        "last_day": s["last_day"].isoformat(),
        "url": s["url"],
    }


def _figures_record(f: dict[str, Any]) -> dict[str, Any]:
    return {
        "servers": f["servers"],
        "runs": f["runs"],
        "countries": f["countries"],
        "download_median_mbps": None
        if f["download_median_bps"] is None
        else round(f["download_median_bps"] * 8 / 1e6, 1),
        "latency_median_ms": None
        if f["latency_median_ms"] is None
        else round(f["latency_median_ms"], 1),
        "success_rate": round(f["success_rate"], 4),
        "first_day": f["first_day"].isoformat(),
        "last_day": f["last_day"].isoformat(),
    }


def data_files(data: Dataset | None, site: SiteConfig) -> Iterator[tuple[str, Content]]:
    """The seeds' list endpoints as static JSON under /api/, and every table as CSV."""
    if data is None:
        return
    servers = data.ranked  # written a record at a time: the list is every ranked server
    providers = [
        {
            "provider": slug,
            "name": group[0]["provider_name"],
            **_figures_record(summary(group, data.newest, data.gate)),
        }
        for slug, group in group_by(data.stats, "provider_slug").items()
    ]
    provider_countries = [
        {
            "provider": slug,
            "country": country_group[0]["country_code"],
            **_figures_record(summary(country_group, data.newest, data.gate)),
        }
        for slug, group in group_by(data.stats, "provider_slug").items()
        for country_group in group_by(group, "country_slug").values()
    ]
    yield (
        "api/servers.json",
        json_records_file({"count": len(servers)}, "servers", map(_server_record, servers)),
    )
    yield (
        "api/stats/overview.json",
        json_file(_figures_record(summary(data.stats, data.newest, data.gate))),
    )
    yield "api/providers.json", json_file({"count": len(providers), "providers": providers})
    yield "data/servers.csv", csv_file(map(_server_record, servers))
    yield "data/providers.csv", csv_file(providers)
    yield "data/provider-countries.csv", csv_file(provider_countries)
