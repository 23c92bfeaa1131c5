"""Sitemaps: an index at /sitemap.xml and shards of at most 50,000 URLs under /sitemaps/."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from xml.sax.saxutils import escape

from site_builder.render.environment import iso

MAX_URLS_PER_SHARD = 50_000
MAX_BYTES_PER_SHARD = 52_428_800
INDEX_PATH = "sitemap.xml"


def build_sitemaps(
    base_url: str,
    entries: Iterable[tuple[str, datetime | None]],
    shard_size: int = MAX_URLS_PER_SHARD,
) -> dict[str, bytes]:
    """Files (path -> bytes) for the index and its shards, from (site URL, lastmod) pairs."""
    ordered = sorted(entries)
    shards: list[list[tuple[str, datetime | None]]] = [
        ordered[i : i + shard_size] for i in range(0, len(ordered), shard_size)
    ] or [[]]
    files: dict[str, bytes] = {}
    index_lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    for number, shard in enumerate(shards, start=1):
        path = f"sitemaps/pages-{number}.xml"
        lines = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
        ]
        for url, lastmod in shard:
            lastmod_xml = f"<lastmod>{iso(lastmod)}</lastmod>" if lastmod else ""
            lines.append(f"<url><loc>{escape(base_url + url)}</loc>{lastmod_xml}</url>")
        lines.append("</urlset>")
        data = ("\n".join(lines) + "\n").encode()
        if len(data) > MAX_BYTES_PER_SHARD:
            raise ValueError(f"{path} would exceed 50 MB; lower the shard size")
        files[path] = data
        dated = [m for _, m in shard if m]
        shard_lastmod = f"<lastmod>{iso(max(dated))}</lastmod>" if dated else ""
        index_lines.append(
            f"<sitemap><loc>{escape(base_url)}/{path}</loc>{shard_lastmod}</sitemap>"
        )
    index_lines.append("</sitemapindex>")
    files[INDEX_PATH] = ("\n".join(index_lines) + "\n").encode()
    return files


def robots_txt(base_url: str) -> bytes:
    return (
        "User-agent: *\n"
        "Allow: /\n"
        "Disallow: /api/tools/\n"
        "Disallow: /.netlify/\n"
        "\n"
        f"Sitemap: {base_url}/{INDEX_PATH}\n"
    ).encode()
