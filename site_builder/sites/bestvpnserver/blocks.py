"""The live-data blocks editors may use in content/bestvpnserver/*.md (see docs/pages.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from markupsafe import Markup

from site_builder.sites.bestvpnserver.common import Dataset, day_lastmod, server_rows


def blocks(environment: Any) -> dict[str, Any]:
    """The blocks editors can use in content/bestvpnserver/*.md (see docs/content.md)."""

    def fastest_servers(data: Dataset, args: list[str]) -> tuple[Any, datetime | None]:
        options = dict(a.split("=", 1) for a in args if "=" in a)
        unknown = set(options) - {"country", "provider", "limit"}
        if unknown or any("=" not in a for a in args):
            raise ValueError(
                "usage: ::: fastest-servers [country=<slug>] [provider=<slug>] [limit=N]"
            )
        try:
            limit = int(options.get("limit", "10"))
        except ValueError:
            raise ValueError(f"limit must be a whole number, not {options['limit']!r}") from None
        for key, known in (
            ("country", {s["country_slug"] for s in data.stats}),
            ("provider", {s["provider_slug"] for s in data.stats}),
        ):
            if key in options and options[key] not in known:
                raise ValueError(f"no {key} {options[key]!r} among the measured servers")
        servers = [
            s
            for s in data.ranked
            if options.get("country", s["country_slug"]) == s["country_slug"]
            and options.get("provider", s["provider_slug"]) == s["provider_slug"]
        ]
        html = environment.get_template("bestvpnserver/block_fastest_servers.html").render(
            servers=server_rows(servers[:limit], data), gate=data.gate
        )
        return Markup(html), day_lastmod(max(s["last_day"] for s in servers)) if servers else None

    return {"fastest-servers": fastest_servers}
