"""What a site's public status page (`/status/`) and `status.json` show: per source, the day
of its last successful data update, its rule and whether it is stale; and the data this
version of the site was built from.

Read from `ops_freshness`, which the build refreshes before it renders. Only public facts
reach the page: provider and probe-location names (already on the site's pages), days,
rules and counts. No hostnames (agents are counted, never named), no error messages, no
URLs, no timing.

Determinism: a page that changes every build would be re-uploaded every night. So days, not
times: the status page changes when a source's last update moves to a new day, when a source
turns stale or fresh, or when the rules change, and not otherwise. It shows no deploy time:
the build runs before its own deploy, so it could only show the previous deploy's, which
changes with every deploy and would make every next build upload the page again. The page
says instead which data the version you are reading was built from: that is the deploy
carrying it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select

from site_builder.db.models_runs import OpsFreshness

KIND_ORDER = {"provider": 0, "server_list": 1, "probe": 2, "agents": 3}
KIND_NAMES = {
    "provider": "GPU prices",
    "server_list": "VPN server list",
    "probe": "VPN probe",
    "agents": "VPN server agents",
}


def public_status(connection: Connection, kinds: Iterable[str]) -> dict[str, Any] | None:
    """The status of the sources of `kinds` (see `freshness.SOURCE_KINDS`), as plain data;
    None before any evaluation."""
    table = OpsFreshness.__table__
    rows = connection.execute(
        select(
            table.c.kind,
            table.c.label,
            table.c.newest_at,
            table.c.max_age_hours,
            table.c.stale,
            table.c.item_count,
            table.c.stale_count,
        ).where(table.c.kind.in_(list(kinds)))
    ).all()
    if not rows:
        return None
    sources = []
    for row in sorted(rows, key=lambda r: (KIND_ORDER.get(r.kind, 9), r.label)):
        source: dict[str, Any] = {
            "kind": row.kind,
            "what": KIND_NAMES.get(row.kind, row.kind),
            "name": row.label,
            "updated": row.newest_at.date().isoformat() if row.newest_at else None,
            "max_age_hours": row.max_age_hours,
            "stale": row.stale,
        }
        if row.kind == "agents":
            source["reporting"] = row.item_count - row.stale_count
            source["total"] = row.item_count
        sources.append(source)
    stale = []
    for s in sources:
        if s["stale"] and s["kind"] == "agents":
            stale.append(f"{s['what']} ({s['reporting']} of {s['total']} reporting)")
        elif s["stale"]:
            stale.append(f"{s['what']}: {s['name']}")
    updated = [s["updated"] for s in sources if s["updated"]]
    return {
        "sources": sources,
        "stale": stale,
        "data_as_of": max(updated) if updated else None,
    }


def status_document(status: dict[str, Any], site_title: str) -> dict[str, Any]:
    """`status.json`: the page's facts for machines (same content, stable key order)."""
    return {
        "site": site_title,
        "ok": not status["stale"],
        "data_as_of": status["data_as_of"],
        "stale": status["stale"],
        "sources": status["sources"],
    }
