"""bestvpnserver reads: per-server measurement statistics, as plain dicts (SQLAlchemy Core)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, select

from site_builder.db.models import Country, VpnCity, VpnMeasurement, VpnProvider, VpnServer

measurements = VpnMeasurement.__table__
servers = VpnServer.__table__
providers = VpnProvider.__table__
countries = Country.__table__
cities = VpnCity.__table__


def server_stats(connection: Connection) -> list[dict[str, Any]]:
    """Medians per enabled, unretired server over all its stored runs, with sample size."""
    statement = (
        select(
            servers.c.id,
            servers.c.hostname,
            servers.c.provider_slug,
            providers.c.name.label("provider_name"),
            countries.c.name.label("country_name"),
            servers.c.country_code,
            cities.c.name.label("city_name"),
            measurements.c.started_at,
            measurements.c.connect_success,
            measurements.c.latency_ms,
            measurements.c.download_bps,
            measurements.c.upload_bps,
        )
        .join(servers, servers.c.id == measurements.c.server_id)
        .join(providers, providers.c.slug == servers.c.provider_slug)
        .join(countries, countries.c.code == servers.c.country_code)
        .outerjoin(cities, cities.c.id == servers.c.city_id)
        .where(servers.c.enabled.is_(True), servers.c.status != "retired")
        .order_by(servers.c.id, measurements.c.started_at, measurements.c.id)
    )
    runs: dict[int, list[Any]] = defaultdict(list)
    info: dict[int, dict[str, Any]] = {}
    for row in connection.execute(statement):
        runs[row.id].append(row)
        info.setdefault(
            row.id,
            {
                "id": row.id,
                "hostname": row.hostname,
                "provider_slug": row.provider_slug,
                "provider_name": row.provider_name,
                "country_code": row.country_code,
                "country_name": row.country_name,
                "city_name": row.city_name,
            },
        )
    stats = []
    for server_id, rows in runs.items():
        ok = [r for r in rows if r.connect_success]
        downloads = [r.download_bps for r in ok if r.download_bps is not None]
        uploads = [r.upload_bps for r in ok if r.upload_bps is not None]
        latencies = [r.latency_ms for r in ok if r.latency_ms is not None]
        stats.append(
            {
                **info[server_id],
                "runs": len(rows),
                "success_rate": len(ok) / len(rows),
                "download_median_bps": statistics.median(downloads) if downloads else None,
                "upload_median_bps": statistics.median(uploads) if uploads else None,
                "latency_median_ms": statistics.median(latencies) if latencies else None,
                "first_at": rows[0].started_at,
                "last_at": rows[-1].started_at,
            }
        )
    return stats
