"""bestvpnserver reads, as plain dicts (SQLAlchemy Core): servers, their daily rollups,
uptime, latest probe results and streaming checks. No raw-measurement scans: pages are
built from the rollups the pull maintains."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, String, func, select, type_coerce

from site_builder.db.models import (
    Country,
    VpnCity,
    VpnMeasurementDaily,
    VpnProbeLocation,
    VpnProtocol,
    VpnProvider,
    VpnServer,
    VpnServerProbeLatest,
    VpnServerUptimeDaily,
    VpnStreamingCheck,
    VpnStreamingPlatform,
)
from site_builder.render.state import rows_digest
from site_builder.sites.bestvpnserver.model import ProbeRun

servers = VpnServer.__table__
providers = VpnProvider.__table__
countries = Country.__table__
cities = VpnCity.__table__
daily = VpnMeasurementDaily.__table__
uptime = VpnServerUptimeDaily.__table__
probe_latest = VpnServerProbeLatest.__table__
streaming = VpnStreamingCheck.__table__


def _rows(connection: Connection, statement: Any) -> list[dict[str, Any]]:
    """The rows as dicts, fetched in batches: never a buffer of every row beside them."""
    result = connection.execution_options(yield_per=10_000).execute(statement)
    return [dict(row._mapping) for row in result]


# Columns whose few distinct values repeat on every server row: interned, each is one string
# shared by all its servers instead of one copy per row (about 60 MB at 100,000 servers).
_SHARED_TEXT = (
    "provider_slug",
    "provider_name",
    "affiliate_url",
    "country_code",
    "country_name",
    "country_slug",
    "city_name",
    "city_slug",
    "status",
)


def listed_servers(connection: Connection) -> list[dict[str, Any]]:
    """Enabled servers that are not retired, with provider, country and city names: only
    the columns pages show. With their figures a server's dict then has 21 keys, which is
    as many as the smallest table that fits them holds (one more doubles it: about 25 MB
    at 100,000 servers)."""
    rows = _rows(
        connection,
        select(
            servers.c.id,
            servers.c.hostname,
            servers.c.provider_slug,
            providers.c.name.label("provider_name"),
            providers.c.affiliate_url,
            servers.c.country_code,
            countries.c.name.label("country_name"),
            countries.c.slug.label("country_slug"),
            cities.c.name.label("city_name"),
            cities.c.slug.label("city_slug"),
            servers.c.status,
        )
        .join(providers, providers.c.slug == servers.c.provider_slug)
        .join(countries, countries.c.code == servers.c.country_code)
        .outerjoin(cities, cities.c.id == servers.c.city_id)
        .where(servers.c.enabled.is_(True), servers.c.status != "retired")
        .order_by(servers.c.id),
    )
    for row in rows:
        for column in _SHARED_TEXT:
            if row[column] is not None:
                row[column] = sys.intern(row[column])
    return rows


def provider_links(connection: Connection) -> dict[str, dict[str, str | None]]:
    """Provider slug -> its website and affiliate link (None when it has none): a few rows,
    read apart from the servers so that no server row carries them."""
    rows = connection.execute(
        select(providers.c.slug, providers.c.website, providers.c.affiliate_url)
    )
    return {
        slug: {"website": website or None, "affiliate_url": affiliate or None}
        for slug, website, affiliate in rows
    }


def newest_rollup_day(connection: Connection) -> date | None:
    """The last day with a daily rollup (None for an empty store)."""
    return connection.execute(select(func.max(daily.c.day))).scalar()


def daily_rollups(connection: Connection, since: date | None = None) -> Iterator[Any]:
    """Every daily rollup row from `since` on, streamed (there is one per server, day and
    protocol), with the columns of `model.DailyRow` in its order. The day comes as the
    driver gives it (ISO text from SQLite, a date from PostgreSQL), not parsed row by row:
    `model.server_stats` turns each distinct day into an ordinal once (a parse per row was a
    fifth of reading the rows)."""
    statement = select(
        daily.c.server_id,
        type_coerce(daily.c.day, String),
        daily.c.protocol,
        daily.c.runs,
        daily.c.successes,
        daily.c.latency_median_ms,
        daily.c.download_median_bps,
        daily.c.upload_median_bps,
    ).order_by(daily.c.server_id, daily.c.day, daily.c.protocol)
    if since is not None:
        statement = statement.where(daily.c.day >= since)
    return connection.execution_options(yield_per=10_000).execute(statement)


def measured_server_ids(connection: Connection, since: date | None = None) -> set[int]:
    """The servers with at least one daily rollup from `since` on."""
    statement = select(daily.c.server_id).distinct()
    if since is not None:
        statement = statement.where(daily.c.day >= since)
    return set(connection.scalars(statement))


def uptime_means(connection: Connection, since: date | None = None) -> dict[int, float]:
    """Server id -> its mean daily uptime (percent of heartbeats answered), from `since` on."""
    statement = select(uptime.c.server_id, func.avg(uptime.c.uptime_pct)).group_by(
        uptime.c.server_id
    )
    if since is not None:
        statement = statement.where(uptime.c.day >= since)
    return {server_id: float(mean) for server_id, mean in connection.execute(statement)}


_PROBE_RUN_COLUMNS = (
    probe_latest.c.server_id,
    probe_latest.c.probe_id,
    probe_latest.c.protocol,
    probe_latest.c.started_at,
    probe_latest.c.connect_success,
    probe_latest.c.latency_ms,
    probe_latest.c.download_bps,
)


def _probe_runs(rows: Iterable[Any]) -> Iterator[ProbeRun]:
    """Rows of `_PROBE_RUN_COLUMNS` as ProbeRuns, probe and protocol names interned (a
    handful of strings shared by every run). Read by position, as `model.DailyRow` explains."""
    intern = sys.intern
    for server_id, probe_id, protocol, started_at, success, latency_ms, download_bps in rows:
        yield ProbeRun(
            server_id,
            intern(probe_id),
            intern(protocol),
            started_at,
            success,
            latency_ms,
            download_bps,
        )


def latest_runs_by_probe(connection: Connection) -> Iterator[ProbeRun]:
    """Every server's latest run per probe and protocol, streamed in probe order (then
    server and protocol)."""
    return _probe_runs(
        connection.execution_options(yield_per=10_000).execute(
            select(*_PROBE_RUN_COLUMNS).order_by(
                probe_latest.c.probe_id, probe_latest.c.server_id, probe_latest.c.protocol
            )
        )
    )


def latest_runs_of(connection: Connection, server_ids: Sequence[int]) -> list[ProbeRun]:
    """The latest run per probe and protocol of a few servers, by server, probe, protocol."""
    return list(
        _probe_runs(
            connection.execute(
                select(*_PROBE_RUN_COLUMNS)
                .where(probe_latest.c.server_id.in_(server_ids))
                .order_by(
                    probe_latest.c.server_id, probe_latest.c.probe_id, probe_latest.c.protocol
                )
            )
        )
    )


def latest_streaming(connection: Connection) -> list[dict[str, Any]]:
    """The latest check per server x platform x region."""
    ranked = select(
        streaming.c.server_id,
        streaming.c.platform,
        streaming.c.region,
        streaming.c.status,
        streaming.c.checked_at,
        func.row_number()
        .over(
            partition_by=(streaming.c.server_id, streaming.c.platform, streaming.c.region),
            order_by=(streaming.c.checked_at.desc(), streaming.c.id.desc()),
        )
        .label("rank"),
    ).subquery()
    return _rows(
        connection,
        select(
            ranked.c.server_id,
            ranked.c.platform,
            ranked.c.region,
            ranked.c.status,
            ranked.c.checked_at,
        )
        .where(ranked.c.rank == 1)
        .order_by(ranked.c.server_id, ranked.c.platform, ranked.c.region),
    )


def reference(connection: Connection) -> dict[str, list[dict[str, Any]]]:
    return {
        "probes": _rows(connection, select(VpnProbeLocation.__table__).order_by("id")),
        "protocols": _rows(connection, select(VpnProtocol.__table__).order_by("slug")),
        "platforms": _rows(connection, select(VpnStreamingPlatform.__table__).order_by("slug")),
    }


def fingerprint(connection: Connection) -> list[Any]:
    """A cheap digest input of everything the pages read: small tables in full, the large
    ones as counts, sums and maxima (any ingest or edit moves at least one of them)."""
    from site_builder.db.models import VpnStreamingCheck

    checks = VpnStreamingCheck.__table__

    def one(statement: Any) -> list[Any]:
        return [list(row) for row in connection.execute(statement)]

    return [
        rows_digest(
            connection.execution_options(yield_per=10_000).execute(
                # as stored, not typed: the digest only has to move when a value does, and
                # turning each timestamp into a datetime was half the fingerprint's time
                select(*(type_coerce(column, String) for column in servers.c)).order_by(
                    servers.c.id
                )
            )
        ),
        one(select(providers).order_by(providers.c.slug)),
        one(select(cities).order_by(cities.c.id)),
        one(
            select(
                func.count(),
                func.sum(daily.c.runs),
                func.sum(daily.c.successes),
                func.max(daily.c.day),
                func.sum(daily.c.download_median_bps),
                func.sum(daily.c.upload_median_bps),
                func.sum(daily.c.latency_median_ms),
            )
        ),
        one(select(func.count(), func.sum(uptime.c.uptime_pct), func.max(uptime.c.day))),
        one(
            select(
                func.count(),
                func.max(probe_latest.c.started_at),
                func.sum(probe_latest.c.latency_ms),
                func.sum(probe_latest.c.download_bps),
            )
        ),
        one(select(func.count(), func.max(checks.c.checked_at))),
        {name: rows for name, rows in reference(connection).items()},
    ]
