"""Sitemap sharding and the link check, on small synthetic outputs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

from site_builder.check import check_links
from site_builder.render.sitemap import build_sitemaps

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def test_sitemap_index_points_at_shards_of_bounded_size() -> None:
    moment = datetime(2026, 11, 20, 12, tzinfo=UTC)
    entries = [(f"/gpus/model-{n:03d}/", moment) for n in range(25)]
    files = build_sitemaps("https://cloudgpus.io", entries, shard_size=10)
    assert sorted(files) == [
        "sitemap.xml",
        "sitemaps/pages-1.xml",
        "sitemaps/pages-2.xml",
        "sitemaps/pages-3.xml",
    ]
    index = etree.fromstring(files["sitemap.xml"])
    assert (
        index.xpath("//s:loc/text()", namespaces=NS)[0]
        == "https://cloudgpus.io/sitemaps/pages-1.xml"
    )
    sizes = [
        len(etree.fromstring(files[f"sitemaps/pages-{n}.xml"]).xpath("//s:url", namespaces=NS))
        for n in (1, 2, 3)
    ]
    assert sizes == [10, 10, 5]


def test_sitemap_escapes_urls_and_omits_unknown_lastmod() -> None:
    files = build_sitemaps("https://x.example", [("/a&b/", None)])
    shard = files["sitemaps/pages-1.xml"].decode()
    assert "<loc>https://x.example/a&amp;b/</loc>" in shard and "lastmod" not in shard


def write(root: Path, relative: str, body: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<!doctype html><html><body>{body}</body></html>")


def test_link_check_finds_broken_internal_links_only(tmp_path: Path) -> None:
    write(
        tmp_path,
        "index.html",
        '<a href="/gpus/">ok</a><a href="gpus/h100/">relative ok</a><a href="/missing/">x</a>'
        '<a href="https://other.example/missing/">external</a><a href="#top">anchor</a>'
        '<a href="https://cloudgpus.io/gone/">absolute own</a><a href="mailto:a@b.c">mail</a>'
        '<img src="/assets/missing.png" alt="">',
    )
    write(
        tmp_path, "gpus/index.html", '<a href="h100/?sort=price#offers">ok</a><a href="../">up</a>'
    )
    write(tmp_path, "gpus/h100/index.html", "")
    problems = check_links(tmp_path, "https://cloudgpus.io")
    assert sorted(str(p) for p in problems) == [
        "index.html: broken link /assets/missing.png",
        "index.html: broken link /missing/",
        "index.html: broken link https://cloudgpus.io/gone/",
    ]
