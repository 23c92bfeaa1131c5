"""The Jinja2 environment shared by every site: autoescaped, strict, with data filters."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import minify_html
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup


def usd(value: Decimal | None, per: str = "") -> str:
    """$2.99, or $0.045 for sub-dime prices; '—' for missing."""
    if value is None:
        return "—"
    places = 2 if value >= Decimal("0.1") else 4
    text = f"${value:,.{places}f}"
    return f"{text}/{per}" if per else text


def mbps(bytes_per_s: float | int | None) -> str:
    """Throughput in megabits per second, as people read speed tests."""
    if bytes_per_s is None:
        return "—"
    return f"{bytes_per_s * 8 / 1_000_000:,.0f} Mbit/s"


def ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f} ms"


def date_text(value: datetime | None) -> str:
    return "—" if value is None else value.astimezone(UTC).strftime("%-d %b %Y")


def iso(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return iso(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def json_ld(value: Mapping[str, Any]) -> Markup:
    """A JSON-LD block body, safe inside <script>: '<' escaped so no '</script>' can appear."""
    text = json.dumps(value, default=_json_default, ensure_ascii=False, sort_keys=True)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def breadcrumb_list(crumbs: Any, base_url: str) -> dict[str, Any]:
    """BreadcrumbList JSON-LD for a page's breadcrumbs."""
    return {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": i, "name": c.name, "item": base_url + c.url}
            for i, c in enumerate(crumbs, start=1)
        ],
    }


def make_environment(templates_dir: Path, globals_: Mapping[str, Any]) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(templates_dir),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    filters: dict[str, Callable[..., Any]] = {
        "usd": usd,
        "mbps": mbps,
        "ms": ms,
        "date": date_text,
        "iso": iso,
        "json_ld": json_ld,
    }
    environment.filters.update(filters)
    environment.globals["breadcrumb_list"] = breadcrumb_list
    environment.globals.update(globals_)
    return environment


def minify(html: str) -> str:
    """Whitespace, optional quotes and closing tags' spacing removed (tags kept closed)."""
    return minify_html.minify(
        html,
        minify_css=True,
        minify_js=True,
        keep_closing_tags=True,
        keep_html_and_head_opening_tags=True,
    )
