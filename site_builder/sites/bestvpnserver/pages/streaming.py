"""Streaming pages: per platform, which servers unblock it, and per platform and country."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from site_builder.config import SiteConfig
from site_builder.render.page import Breadcrumb, Page
from site_builder.sites.bestvpnserver.common import HOME, STREAMING, Dataset

STATUS_ORDER = ("unblocked", "originals_only", "blocked", "error")

# A check that errored (the platform did not load, the probe timed out) says nothing about
# blocking: it is "no answer", and left out of the share unblocked.
NO_ANSWER = frozenset({"error"})


def unblocked_share(statuses: Iterable[str]) -> tuple[float | None, int]:
    """The share of checks that unblocked the platform's full catalogue, over the checks
    that gave an answer (unblocked, originals only or blocked; errors excluded), and how
    many answered. None when none did: 0 % would claim every one was blocked."""
    answered = unblocked = 0
    for status in statuses:
        if status in NO_ANSWER:
            continue
        answered += 1
        unblocked += status == "unblocked"
    return (unblocked / answered if answered else None), answered


def _status_order(check: dict[str, Any]) -> tuple[Any, ...]:
    status = STATUS_ORDER.index(check["status"]) if check["status"] in STATUS_ORDER else 9
    return (status, check["server"]["provider_slug"], check["server"]["hostname"], check["region"])


# What the streaming pages show and group by of a check's server: only these go into their
# context, so their input keys do not move with the server's speed figures.
STREAMING_SERVER_FIELDS = (
    "hostname",
    "provider_slug",
    "provider_name",
    "country_slug",
    "country_name",
)


def streaming_pages(data: Dataset, site: SiteConfig) -> Iterator[Page]:
    by_id = {s["id"]: {field: s[field] for field in STREAMING_SERVER_FIELDS} for s in data.stats}
    by_platform: dict[str, list[dict[str, Any]]] = defaultdict(list)  # one pass over checks
    for server_checks in data.streaming.values():
        for c in server_checks:
            server = by_id.get(c["server_id"])
            if server is not None:
                by_platform[c["platform"]].append({**c, "server": server})
    hub_rows = []
    shown: list[str] = []  # the platforms the hub lists (enough checks)
    for platform in data.platforms:
        slug = platform["slug"]
        checks = by_platform.get(slug, [])
        if len(checks) < data.gate.min_servers:
            continue
        url = f"/streaming/{slug}/"
        # sub-pages by the server's country (/streaming/<p>/<country>/) and by provider
        # (/streaming/<p>/providers/<provider>/)
        splits = {
            "country": ("country_slug", "country_name", ""),
            "provider": ("provider_slug", "provider_name", "providers/"),
        }
        tables: dict[str, list[dict[str, Any]]] = {}
        for split, (key, label, prefix) in splits.items():
            groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for check in checks:
                groups[check["server"][key]].append(check)
            tables[split] = []
            for group_slug, group in sorted(groups.items()):
                name = group[0]["server"][label]
                page_url = f"{url}{prefix}{group_slug}/"
                tables[split].append(_streaming_row(group, page_url, name, data))
                if len(group) < data.gate.min_servers:
                    continue
                unblocked = sum(c["status"] == "unblocked" for c in group)
                where = f"in {name}" if split == "country" else f"on {name}"
                yield Page(
                    kind="streaming",
                    url=page_url,
                    template="bestvpnserver/streaming.html",
                    title=(
                        f"{platform['name']} with a VPN {where}: {unblocked} of {len(group)}"
                        " servers unblock it"
                    ),
                    description=(
                        f"The latest {platform['name']} check of {len(group)} VPN servers"
                        f" {where}, server by server."
                    ),
                    context={
                        "platform": platform,
                        "tables": None,
                        "checks": sorted(group, key=_status_order),
                        "where": where,
                        "summary": _streaming_row(group, page_url, name, data),
                    },
                    lastmod=max(c["checked_at"] for c in group),
                    breadcrumbs=(
                        HOME,
                        STREAMING,
                        Breadcrumb(platform["name"], url),
                        Breadcrumb(name, page_url),
                    ),
                )
        row = {
            "name": platform["name"],
            "url": url,
            **_streaming_row(checks, url, platform["name"], data),
        }
        hub_rows.append(row)
        shown.append(slug)
        unblocked = sum(c["status"] == "unblocked" for c in checks)
        yield Page(
            kind="streaming",
            url=url,
            template="bestvpnserver/streaming.html",
            title=(
                f"VPN servers that unblock {platform['name']}: {unblocked:,} of {len(checks):,}"
                " checked"
            ),
            description=(
                f"Which VPN servers reach {platform['name']}'s full catalogue, by country and"
                f" provider: the latest result of {len(checks):,} checks."
            ),
            context={
                "platform": platform,
                "tables": tables,
                "checks": None,
                "where": None,
                "summary": row,
            },
            lastmod=max(c["checked_at"] for c in checks),
            breadcrumbs=(HOME, STREAMING, Breadcrumb(platform["name"], url)),
        )
    # the hub stays (the menu links it); unindexed while no platform has data
    yield Page(
        kind="streaming",
        url="/streaming/",
        indexable=bool(hub_rows),
        template="bestvpnserver/streaming_hub.html",
        title="Which VPN servers unblock Netflix, Disney+, BBC iPlayer and more",
        description="The latest streaming checks of the VPN servers we measure, per platform.",
        context={
            "rows": hub_rows,
            "overall": _overall(by_platform, shown),
        },
        lastmod=max((r["last"] for r in hub_rows), default=None),
        breadcrumbs=(HOME, STREAMING),
    )


def _streaming_row(
    checks: list[dict[str, Any]], url: str, name: str, data: Dataset
) -> dict[str, Any]:
    counts = {status: sum(c["status"] == status for c in checks) for status in STATUS_ORDER}
    share, answered = unblocked_share(c["status"] for c in checks)
    return {
        "name": name,
        "url": url,
        "checks": len(checks),
        "counts": counts,
        "unblocked_share": share,
        "answered": answered,
        "last": max(c["checked_at"] for c in checks),
        "linked": len(checks) >= data.gate.min_servers,
    }


def _overall(by_platform: dict[str, list[dict[str, Any]]], shown: list[str]) -> dict[str, Any]:
    """The hub's figure: the share unblocked over every answered check of the platforms
    it lists, and how many checks that is."""
    statuses = [c["status"] for slug in shown for c in by_platform[slug]]
    share, answered = unblocked_share(statuses)
    return {"share": share, "answered": answered, "checks": len(statuses)}
