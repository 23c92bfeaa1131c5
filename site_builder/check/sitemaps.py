"""Sitemaps parse, respect the protocol's limits, and list exactly the indexable pages."""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from site_builder.check.scan import HtmlFacts
from site_builder.render.sitemap import INDEX_PATH, MAX_BYTES_PER_SHARD, MAX_URLS_PER_SHARD

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
W3C_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$")
MAX_URL_LENGTH = 2048
NOT_PAGES = {"404.html"}


def _parse(path: Path, root_tag: str, problems: list[str]) -> etree._Element | None:
    if not path.is_file():
        problems.append(f"{path.name}: missing")
        return None
    size = path.stat().st_size
    if size > MAX_BYTES_PER_SHARD:
        problems.append(f"{path.name}: {size:,} bytes, over the 50 MB limit")
    try:
        tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        problems.append(f"{path.name}: not well-formed XML: {exc}")
        return None
    element = tree.getroot()
    if element.tag != f"{{{NS['s']}}}{root_tag}":
        problems.append(f"{path.name}: root element is {element.tag}, expected {root_tag}")
        return None
    return element


def _check_loc(loc: str, base_url: str, where: str, problems: list[str]) -> bool:
    if not loc.startswith(base_url + "/"):
        problems.append(f"{where}: {loc} is not an absolute URL on {base_url}")
        return False
    if len(loc) > MAX_URL_LENGTH:
        problems.append(f"{where}: URL longer than {MAX_URL_LENGTH} characters")
        return False
    return True


def check_sitemaps(root: Path, base_url: str, pages: list[HtmlFacts]) -> list[str]:
    problems: list[str] = []
    index = _parse(root / INDEX_PATH, "sitemapindex", problems)
    if index is None:
        return problems
    listed: dict[str, str] = {}
    shards = index.xpath("s:sitemap/s:loc/text()", namespaces=NS)
    if not shards:
        problems.append(f"{INDEX_PATH}: lists no sitemap")
    for shard_loc in shards:
        if not _check_loc(shard_loc, base_url, INDEX_PATH, problems):
            continue
        shard_path = root / shard_loc[len(base_url) + 1 :]
        shard = _parse(shard_path, "urlset", problems)
        if shard is None:
            continue
        name = shard_path.relative_to(root).as_posix()
        urls = shard.xpath("s:url", namespaces=NS)
        if len(urls) > MAX_URLS_PER_SHARD:
            problems.append(f"{name}: {len(urls):,} URLs, over the 50,000 limit")
        for url in urls:
            loc = url.findtext("s:loc", namespaces=NS) or ""
            lastmod = url.findtext("s:lastmod", namespaces=NS)
            if not _check_loc(loc, base_url, name, problems):
                continue
            if loc in listed:
                problems.append(f"{name}: {loc} is listed twice (also in {listed[loc]})")
            listed[loc] = name
            if lastmod is not None and not W3C_DATETIME.match(lastmod):
                problems.append(f"{name}: {loc} has lastmod {lastmod!r}, not a W3C datetime")
    indexable = {
        page.canonical or base_url + page.url
        for page in pages
        if not page.noindex and page.relative not in NOT_PAGES
    }
    for missing in sorted(indexable - set(listed)):
        problems.append(f"sitemaps: indexable page {missing} is not listed")
    for extra in sorted(set(listed) - indexable):
        problems.append(f"sitemaps: {extra} is listed but is not an indexable page of the output")
    return problems
