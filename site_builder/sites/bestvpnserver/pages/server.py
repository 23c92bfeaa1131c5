"""A page per server with enough runs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from sqlalchemy import Connection

from site_builder.config import SiteConfig
from site_builder.render.charts import Series, line_chart
from site_builder.render.environment import date_text, day_text, iso, mbps, ms
from site_builder.render.page import Breadcrumb, Page
from site_builder.render.parallel import ShardedKind
from site_builder.sites.bestvpnserver import queries
from site_builder.sites.bestvpnserver.common import (
    HOME,
    PROVIDERS,
    Dataset,
    day_lastmod,
    protocols_with_pages,
)
from site_builder.sites.bestvpnserver.inventory import listings_of
from site_builder.sites.bestvpnserver.model import (
    ProbeRun,
)
from site_builder.sites.bestvpnserver.pages.streaming import unblocked_share


def _server_pages(
    data: Dataset, site: SiteConfig, items: range, connection: Connection
) -> Iterator[Page]:
    """The pages of `data.paged_servers[items]`. Their latest runs are read here, for these
    servers only: every server's would be the largest part of the dataset."""
    servers = data.paged_servers[items.start : items.stop]
    protocol_pages = tuple(protocols_with_pages(data, data.stats))
    latest_runs: dict[int, list[ProbeRun]] = defaultdict(list)
    for run in queries.latest_runs_of(connection, [s["id"] for s in servers]):
        latest_runs[run.server_id].append(run)
    listings = listings_of(connection, [s["id"] for s in servers])
    probes = {p["id"]: p for p in data.probes}
    platforms = {p["slug"]: p["name"] for p in data.platforms}
    for s in servers:
        series = data.daily.series(s["id"])
        chart = line_chart(
            f"Daily median download of {s['hostname']}",
            [Series("download", series.downloads_mbit())],
            unit=lambda v: f"{v:,.0f} Mbit/s",
            caption="Each day's median download over all probes and protocols.",
            values_table=False,  # the page's "Daily medians" table has these numbers
        )
        upload_chart = line_chart(
            f"Daily median upload of {s['hostname']}",
            [Series("upload", series.uploads_mbit())],
            unit=lambda v: f"{v:,.0f} Mbit/s",
            caption="Each day's median upload over all probes and protocols.",
            values_table=False,
        )
        latency_chart = line_chart(
            f"Daily median latency of {s['hostname']}",
            [Series("latency", series.latencies_ms())],
            unit=lambda v: f"{v:,.0f} ms",
            caption="Each day's median latency over all probes and protocols (lower is better).",
            values_table=False,
        )
        checks = sorted(
            data.streaming.get(s["id"], []),
            key=lambda c: (platforms.get(c["platform"], c["platform"]), c["region"]),
        )
        location = f"{s['city_name']}, {s['country_name']}" if s["city_name"] else s["country_name"]
        yield Page(
            kind="server",
            url=s["url"],
            template="bestvpnserver/server.html",
            title=f"{s['hostname']} ({s['provider_name']}, {location}): speed, latency, uptime",
            description=(
                f"{s['provider_name']} server {s['hostname']} in {location}: median download"
                f" {mbps(s['download_median_bps'])}, latency {ms(s['latency_median_ms'])} over"
                f" {s['runs']} runs from {day_text(s['first_day'], year=False)} to"
                f" {day_text(s['last_day'])}."
            ),
            context={
                "s": s,
                "series": series,
                "protocols": data.by_protocol.of(s["id"]),
                "chart": chart,
                "upload_chart": upload_chart,
                "latency_chart": latency_chart,
                # What the table shows of each run, in its columns' order, so that the key
                # follows it: tuples of plain values, as a dict with a datetime in it cost
                # eight times as much to pickle for the key.
                "latest": [
                    (
                        probes.get(run.probe_id, {"city": run.probe_id})["city"],
                        run.protocol,
                        iso(run.started_at),
                        date_text(run.started_at),
                        run.latency_ms,
                        run.download_bps,
                        run.connect_success,
                    )
                    for run in latest_runs[s["id"]]
                ],
                "checks": checks,
                "unblocked": unblocked_share(c["status"] for c in checks),
                "platforms": platforms,
                "stale": (data.newest - s["last_day"]).days > data.gate.stale_after_days,
                "city_page": (s["country_slug"], s["city_slug"]) in data.city_pages,
                "listing": listings.get(s["id"]),
                "protocol_names": {p["slug"]: p["name"] for p in data.protocols},
                # a protocol is linked only where it has a page: a thin night gates it off
                "protocol_pages": protocol_pages,
            },
            lastmod=day_lastmod(s["last_day"]),
            breadcrumbs=(
                HOME,
                PROVIDERS,
                Breadcrumb(s["provider_name"], f"/providers/{s['provider_slug']}/"),
                Breadcrumb(s["hostname"], s["url"]),
            ),
        )


# A page per server with enough runs: built in the render workers, a shard of servers at a
# time (site_builder/render/parallel.py), as these are most of the site's pages.
server_pages = ShardedKind(count=lambda data: len(data.paged_servers), pages=_server_pages)
