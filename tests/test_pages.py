"""The full page inventory of both sites, on the small demo: every kind, SEO facts,
structured data, quality gates, data files, charts, editors' pages, incremental output."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree, html
from sqlalchemy import select, update

from site_builder.cli import main
from site_builder.db import make_engine
from site_builder.db.models import GpuOffer, GpuProvider
from site_builder.render.content import ContentError, content_pages
from site_builder.render.sitemap import build_sitemaps

SITES = {"cloudgpus": "https://cloudgpus.io", "bestvpnserver": "https://bestvpnserver.com"}


def pages(root: Path) -> dict[str, html.HtmlElement]:
    """URL -> parsed page, for every page of a built site (the 404 page aside)."""
    found = {}
    for file in sorted(root.rglob("index.html")):
        url = "/" + file.parent.relative_to(root).as_posix() + "/"
        found["/" if url == "/./" else url] = html.fromstring(file.read_bytes())
    return found


def rebuild(project: Path, *args: str) -> object:
    return CliRunner().invoke(
        main,
        ["--config", str(project / "sites.toml"), *args],
        env={"DATABASE_URL": f"sqlite:///{project / 'store.db'}"},
    )


def tree_hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_both_sites_have_every_page_kind(built: Path) -> None:
    cloud = set(pages(built / "output/cloudgpus"))
    for url in (
        "/",
        "/gpus/",
        "/gpus/h100-sxm/",
        "/gpus/h100-sxm/lambda/",
        "/providers/",
        "/providers/aws/",
        "/compare/aws-vs-azure/",
        "/gpus/compare/h100-sxm-vs-h200-sxm/",
        "/providers/aws/regions/us-east-1/",
        "/calculator/",
        "/price-changes/",
        "/methodology/",
        "/open-data/",
        "/best-gpu-for-llm-training/",
    ):
        assert url in cloud, url
    vpn = pages(built / "output/bestvpnserver")
    kinds = Counter(url.split("/")[1] for url in vpn)
    for section in (
        "rankings",
        "providers",
        "countries",
        "protocols",
        "servers",
        "streaming",
        "compare",
        "methodology",
        "open-data",
        "tools",
        "fastest-vpn-servers-germany",
    ):
        assert kinds[section] >= 1, section
    assert "/rankings/lowest-latency/fra/" in vpn or any(
        u.startswith("/rankings/lowest-latency/") for u in vpn
    )


@pytest.mark.parametrize("site", SITES)
def test_every_page_is_linked_and_has_unique_seo_facts(built: Path, site: str) -> None:
    base = SITES[site]
    found = pages(built / f"output/{site}")
    linked = {
        href.split("#")[0]
        for document in found.values()
        for href in document.xpath("//a/@href | //form/@action")  # the search page: a form's
        if href.startswith("/")
    }
    orphans = sorted(url for url in found if url != "/" and url not in linked)
    assert orphans == []
    titles = Counter(d.findtext(".//title") for d in found.values())
    descriptions = Counter(
        d.xpath("//meta[@name='description']/@content")[0] for d in found.values()
    )
    assert [t for t, n in titles.items() if n > 1] == []
    assert [d for d, n in descriptions.items() if n > 1] == []
    for url, document in found.items():
        canonical = document.xpath("//link[@rel='canonical']/@href")
        assert canonical == [base + url] and url == url.lower() and url.endswith("/"), url
        assert document.xpath("//meta[@property='og:url']/@content") == canonical
        assert document.xpath("//main") and len(document.xpath("//h1")) == 1, url
        for table in document.xpath("//table"):
            assert table.xpath(".//th"), f"{url}: a table without headers"
        if url != "/":
            blocks = [
                json.loads(s.text) for s in document.xpath("//script[@type='application/ld+json']")
            ]
            assert any(b["@type"] == "BreadcrumbList" for b in blocks), url


def test_structured_data_by_page_kind(built: Path) -> None:
    def blocks(site: str, url: str) -> dict[str, dict]:
        file = built / f"output/{site}{url}index.html"
        document = html.fromstring(file.read_bytes())
        return {
            b["@type"]: b
            for b in (
                json.loads(s.text) for s in document.xpath("//script[@type='application/ld+json']")
            )
        }

    product = blocks("cloudgpus", "/gpus/h100-sxm/")["Product"]
    assert (
        product["offers"]["@type"] == "AggregateOffer"
        and product["offers"]["priceCurrency"] == "USD"
    )
    assert float(product["offers"]["lowPrice"]) <= float(product["offers"]["highPrice"])
    ranking = blocks("bestvpnserver", "/rankings/fastest-servers/")["ItemList"]
    assert ranking["numberOfItems"] == len(ranking["itemListElement"]) > 0
    for site in SITES:
        dataset = blocks(site, "/open-data/")["Dataset"]
        assert dataset["distribution"] and dataset["license"].startswith("https://")


def test_charts_are_inline_svg_with_a_text_alternative(built: Path) -> None:
    server = next((built / "output/bestvpnserver/servers").rglob("index.html"))
    document = html.fromstring(server.read_bytes())
    [svg, upload, latency] = document.xpath("//svg")  # daily download, upload, latency
    assert svg.get("role") == "img" and svg.xpath("./title") and svg.xpath("./desc")
    assert "Mbit/s" in svg.xpath("./desc")[0].text_content()
    assert "upload" in upload.xpath("./title")[0].text_content()
    assert "Mbit/s" in upload.xpath("./desc")[0].text_content()
    assert " ms " in latency.xpath("./desc")[0].text_content()
    ids = document.xpath("//@id")
    assert len(ids) == len(set(ids))  # each chart's title and desc ids are its own
    assert document.xpath("//details//table")  # the numbers behind the chart
    scripts = document.xpath("//script/@src")
    assert all("sort." in s for s in scripts)  # no chart library in the browser


def test_the_sorting_script_is_small_and_pages_work_without_it(built: Path) -> None:
    [script] = (built / "output/cloudgpus/assets").glob("sort.*.js")
    assert script.stat().st_size < 10_000
    home = html.fromstring((built / "output/cloudgpus/index.html").read_bytes())
    [table] = home.xpath("//table[contains(@class, 'sortable')]")
    assert table.xpath("./thead") and len(table.xpath("./tbody/tr")) > 5  # rendered server-side


def test_data_files_mirror_the_list_endpoints(built: Path) -> None:
    vpn = built / "output/bestvpnserver"
    servers = json.loads((vpn / "api/servers.json").read_text())
    assert servers["count"] == len(servers["servers"]) > 0
    assert {"provider", "hostname", "download_median_mbps", "runs", "url"} <= set(
        servers["servers"][0]
    )
    rows = list(csv.DictReader(io.StringIO((vpn / "data/servers.csv").read_text())))
    assert len(rows) == servers["count"]
    overview = json.loads((vpn / "api/stats/overview.json").read_text())
    assert overview["servers"] >= servers["count"]
    cloud = built / "output/cloudgpus"
    instances = json.loads((cloud / "api/instances.json").read_text())
    offers = list(csv.DictReader(io.StringIO((cloud / "data/offers.csv").read_text())))
    assert instances["count"] == len(offers) > 1000
    # the instance sizes came last, so columns read by position keep their meaning
    assert list(offers[0])[-4:] == ["last_seen_at", "vcpus", "memory_gb", "storage_gb"]
    assert any(o["storage_gb"] for o in offers) and any(not o["storage_gb"] for o in offers)
    models = json.loads((cloud / "api/gpu-models.json").read_text())["gpu_models"]
    for model in models:
        per_gpu = json.loads((cloud / f"api/compare-prices/{model['gpu']}.json").read_text())
        prices = [float(o["price_per_gpu_usd"]) for o in per_gpu["offers"]]
        assert prices == sorted(prices)


def test_the_quality_gate_removes_thin_pages_and_their_links(built: Path) -> None:
    config = built / "sites.toml"
    config.write_text(
        config.read_text()
        .replace("min_runs_per_server = 3", "min_runs_per_server = 1000")
        .replace("min_servers = 3", "min_servers = 1000")
    )
    assert rebuild(built, "build", "--site", "bestvpnserver").exit_code == 0
    found = pages(built / "output/.staging/bestvpnserver")  # the build, before its check
    assert not [u for u in found if u.startswith("/servers/")]
    assert not [u for u in found if u.count("/") == 4 and u.startswith("/countries/")]  # cities
    checked = rebuild(built, "check", "--site", "bestvpnserver", "--force")
    assert checked.exit_code == 0, checked.output  # no link points at a page that is gone


def test_only_pages_showing_a_changed_price_are_rewritten(built: Path) -> None:
    output = built / "output/cloudgpus"
    before = tree_hashes(output)
    engine = make_engine(f"sqlite:///{built / 'store.db'}")
    offers = GpuOffer.__table__
    with engine.begin() as connection:
        offer = connection.execute(
            select(offers.c.id, offers.c.price_per_gpu_usd, offers.c.gpu_model_slug).where(
                offers.c.provider_slug == "voltagepark", offers.c.pricing_kind == "on_demand"
            )
        ).first()
        connection.execute(
            update(offers)
            .where(offers.c.id == offer.id)
            .values(
                price_per_gpu_usd=offer.price_per_gpu_usd + 1,
                price_changed_at=datetime(2026, 11, 22, tzinfo=UTC),
            )
        )
    engine.dispose()
    assert rebuild(built, "build", "--site", "cloudgpus").exit_code == 0
    output = built / "output/.staging/cloudgpus"  # the new build, awaiting its check
    after = tree_hashes(output)
    changed = sorted(p for p in after if after[p] != before.get(p))
    assert changed and len(changed) < len(after) / 4
    gpu_name = {"h100-sxm": "H100 SXM", "b200": "B200", "h200-sxm": "H200"}[offer.gpu_model_slug]
    for path in (p for p in changed if p.endswith(".html")):  # (sitemaps, data files aside)
        text = (output / path).read_text()  # shows the offer, or a figure over that GPU's offers
        assert "Voltage Park" in text or "voltagepark" in text or gpu_name in text, path
    unrelated = [p for p in changed if p.startswith("providers/aws/") or "/a10/" in p]
    assert unrelated == []


def test_hostile_provider_names_render_as_text_on_every_kind(built: Path) -> None:
    hostile = '<img src=x onerror=alert(1)>"Lambda'
    engine = make_engine(f"sqlite:///{built / 'store.db'}")
    with engine.begin() as connection:
        connection.execute(
            update(GpuProvider.__table__)
            .where(GpuProvider.__table__.c.slug == "lambda")
            .values(name=hostile)
        )
    engine.dispose()
    assert rebuild(built, "build", "--site", "cloudgpus").exit_code == 0
    for url in ("/providers/lambda/", "/gpus/h100-sxm/lambda/", "/compare/aws-vs-lambda/"):
        page = built / f"output/.staging/cloudgpus{url}index.html"
        document = html.fromstring(page.read_bytes())
        assert not document.xpath("//img"), url
        assert hostile in document.text_content() or hostile in document.findtext(".//title")


def test_a_sitemap_of_120000_urls_is_sharded_under_the_limits() -> None:
    moment = datetime(2026, 11, 20, tzinfo=UTC)
    files = build_sitemaps(
        "https://bestvpnserver.com", [(f"/servers/p/s-{n}/", moment) for n in range(120_000)]
    )
    shards = sorted(k for k in files if k.startswith("sitemaps/"))
    assert shards == ["sitemaps/pages-1.xml", "sitemaps/pages-2.xml", "sitemaps/pages-3.xml"]
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    counts = [len(etree.fromstring(files[s]).xpath("//s:url", namespaces=ns)) for s in shards]
    assert counts == [50_000, 50_000, 20_000]
    assert all(len(files[s]) < 50 * 1024 * 1024 for s in shards)


# ------------------------------------------------------------------------------ editors


def editor_page(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "content"
    folder.mkdir(exist_ok=True)
    (folder / "guide.md").write_text(text)
    return folder


def render(folder: Path) -> list:
    def block(data: object, args: list[str]):
        if args != ["ok"]:
            raise ValueError(f"unknown GPU {args[0]!r}")
        from markupsafe import Markup

        return Markup("<table><tr><th>x</th></tr></table>"), datetime(2026, 11, 21, tzinfo=UTC)

    return list(
        content_pages(
            folder,
            site_name="cloudgpus",
            blocks={"gpu-prices": block},
            data=None,
            taken_urls={"/gpus/"},
        )
    )


GOOD = "---\ntitle: A guide\ndescription: About GPUs.\nslug: a-guide\ndate: 2026-11-01\n---\n"


def test_an_editors_page_with_a_block(tmp_path: Path) -> None:
    [page] = render(editor_page(tmp_path, GOOD + "Intro *text*.\n\n::: gpu-prices ok\n\nMore.\n"))
    assert page.url == "/a-guide/" and page.title == "A guide"
    body = str(page.context["body"])
    assert (
        "<em>text</em>" in body and "<table>" in body and body.index("<em>") < body.index("<table>")
    )
    assert page.lastmod == datetime(2026, 11, 21, tzinfo=UTC)  # the data's, newer than the edit


def test_an_editors_page_has_the_same_input_key_in_every_process(tmp_path: Path) -> None:
    """Input keys hash the page's pickle: nothing in it may depend on the process's string
    hash seed (sets pickle in hash order), or the page re-renders on every build."""
    import subprocess
    import sys

    folder = editor_page(tmp_path, GOOD.replace("---\n", "---\nupdated: 2026-11-20\n", 1) + "Hi.\n")
    script = (
        "import sys; from pathlib import Path;"
        "from site_builder.render.content import content_pages;"
        "from site_builder.render.state import page_bytes, page_key;"
        "[p] = content_pages(Path(sys.argv[1]), site_name='cloudgpus', blocks={}, data=None,"
        " taken_urls=set()); print(page_key(page_bytes(p), ''))"
    )
    keys = {
        subprocess.run(
            [sys.executable, "-c", script, str(folder)],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(keys) == 1


def test_drafts_are_not_published(tmp_path: Path) -> None:
    assert render(editor_page(tmp_path, GOOD.replace("---\n", "---\ndraft: true\n", 1))) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("---\ntitle: [unclosed\n---\nx\n", "guide.md:2: front matter is not valid YAML"),
        (GOOD.replace("slug: a-guide", "slug: A Guide"), "guide.md:4: slug: String should match"),
        (
            GOOD.replace("date: 2026-11-01\n", "date: 2026-11-01\nauthor: me\n"),
            "guide.md:6: author: Extra inputs",
        ),
        (GOOD.replace("title: A guide\n", ""), "title: Field required"),
        (GOOD + "\n\n::: gpu-table h100\n", "guide.md:9: unknown block 'gpu-table'"),
        (
            GOOD + "text\n::: gpu-prices nope\n",
            "guide.md:8: block 'gpu-prices': unknown GPU 'nope'",
        ),
        (GOOD.replace("slug: a-guide", "slug: gpus"), "slug 'gpus' is already a page"),
        ("no front matter\n", "guide.md:1: no front matter"),
    ],
)
def test_a_malformed_editors_page_fails_naming_file_line_and_reason(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ContentError, match=message.replace("[", r"\[").replace("(", r"\(")):
        render(editor_page(tmp_path, text))


# ------------------------------------------------------------------------------ engine


def build_report(project: Path, site: str, jobs: int = 2):
    from site_builder.config import load_project
    from site_builder.render import build_site
    from site_builder.sites import available_page_kinds

    config = load_project(project / "sites.toml", available_page_kinds())
    engine = make_engine(f"sqlite:///{project / 'store.db'}")
    try:
        report = build_site(engine, config, site, jobs=jobs)
        if report.staged:  # a build writes staging; make it live (unchecked, as a test may)
            from site_builder import publish

            publish.promote(publish.trees(config, site))
        return report
    finally:
        engine.dispose()


def test_an_unchanged_rebuild_renders_and_writes_nothing(built: Path) -> None:
    again = build_report(built, "bestvpnserver")
    assert again.pages > 0 and again.rendered == 0 and again.written == 0
    assert again.skipped == again.pages and again.removed == []


def test_a_lost_output_file_or_a_template_change_is_rebuilt(built: Path) -> None:
    output = built / "output/cloudgpus"
    (output / "gpus/h100-sxm/index.html").unlink()
    lost = build_report(built, "cloudgpus")
    assert lost.rendered == 1 and lost.written == 1  # only the missing page is rendered
    footer = built / "templates/cloudgpus/_footer.html"
    footer.write_text(footer.read_text() + "<p>Prices in USD.</p>\n")
    changed = build_report(built, "cloudgpus", jobs=1)
    assert changed.rendered == changed.pages and changed.written >= changed.pages


def test_parallel_and_serial_builds_are_byte_identical(built: Path, tmp_path: Path) -> None:
    serial = tree_hashes(built / "output/cloudgpus")
    (built / ".build-state/cloudgpus.json").unlink()
    import shutil

    shutil.rmtree(built / "output/cloudgpus")
    parallel = build_report(built, "cloudgpus", jobs=2)
    assert parallel.rendered == parallel.pages
    assert tree_hashes(built / "output/cloudgpus") == serial


def test_server_pages_built_in_the_workers_rebuild_only_what_is_missing(
    built: Path, tmp_path: Path
) -> None:
    output = built / "output/bestvpnserver"
    server_page = next((output / "servers").rglob("index.html"))
    server_page.unlink()
    lost = build_report(built, "bestvpnserver", jobs=2)
    assert lost.rendered == 1 and lost.written == 1 and server_page.is_file()
    assert lost.skipped == lost.pages - 1
    parallel = tree_hashes(output)
    (built / ".build-state/bestvpnserver.json").unlink()
    import shutil

    shutil.rmtree(output)
    serial = build_report(built, "bestvpnserver", jobs=1)
    assert serial.rendered == serial.pages and serial.pages_by_kind == lost.pages_by_kind
    assert tree_hashes(output) == parallel


def test_minify_html_is_a_site_setting_that_keeps_the_page_the_same(tmp_path: Path) -> None:
    from site_builder.render.environment import make_environment
    from site_builder.render.page import Breadcrumb, Page
    from site_builder.render.parallel import RenderTarget

    templates = tmp_path / "templates"
    (templates / "shared").mkdir(parents=True)
    (templates / "shared/page.html").write_text(
        '<!doctype html>\n<html lang="en">\n<head>\n<title>{{ page.title }}</title>\n</head>\n'
        '<body>\n<main>\n<p class="lede">  {{ text }}  </p>\n</main>\n</body>\n</html>\n'
    )
    environment = make_environment(templates, {})
    page = Page(
        kind="x",
        url="/a/",
        template="shared/page.html",
        title="A <b> title",
        description="d",
        context={"text": "Prices & more"},
        breadcrumbs=(Breadcrumb("Home", "/"),),
    )
    sizes = {}
    for minify in (False, True):
        root = tmp_path / str(minify)
        assert RenderTarget(environment, root, "https://example.com", minify).render(page)
        body = (root / "a/index.html").read_bytes()
        sizes[minify] = len(body)
        parsed = html.fromstring(body)
        assert parsed.findtext(".//title") == "A <b> title"
        assert parsed.find(".//p").text_content().strip() == "Prices & more"
    assert sizes[True] < sizes[False]


def test_large_data_files_are_written_a_record_at_a_time_with_the_same_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from site_builder.render import datafiles
    from site_builder.render.datafiles import csv_file, json_file, json_records_file

    monkeypatch.setattr(datafiles, "ROWS_PER_CHUNK", 2)  # several chunks from a few rows
    records = [
        {"hostname": "de-1.example", "city": "Köln", "latency_median_ms": None, "runs": 12},
        {"hostname": '<script>"x"</script>', "city": None, "latency_median_ms": 8.5, "runs": 3},
        {"hostname": "fr-2.example", "city": "Lyon", "latency_median_ms": 21.0, "runs": 40},
        {"hostname": "us-9.example", "city": "Austin", "latency_median_ms": 90.5, "runs": 7},
        {"hostname": "jp-1.example", "city": "東京", "latency_median_ms": 180.0, "runs": 5},
    ]
    for rows in (records, records[:4], records[:2], records[:1], []):
        expected = json_file({"count": len(rows), "servers": rows})
        assert b"".join(json_records_file({"count": len(rows)}, "servers", iter(rows))) == expected
        csv_text = b"".join(csv_file(iter(rows))).decode()
        assert list(csv.DictReader(io.StringIO(csv_text))) == [
            {key: "" if value is None else str(value) for key, value in row.items()} for row in rows
        ]
    document = b"".join(json_records_file({"count": 5}, "servers", records))
    assert json.loads(document)["servers"] == records
    with pytest.raises(ValueError, match="not the header's"):
        b"".join(csv_file(iter([*records, {"hostname": "x", "runs": 1}])))
    assert b"".join(csv_file(iter([{"runs": 1}, {"runs": None}]))) == b'runs\n1\n""\n'


_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(),
)


@given(
    st.lists(
        st.dictionaries(
            st.text(max_size=8),
            _SCALAR | st.lists(_SCALAR, max_size=3) | st.dictionaries(st.text(max_size=3), _SCALAR),
            max_size=5,
        ),
        max_size=4,
    )
)
def test_streamed_records_have_the_bytes_of_the_whole_document_flat_or_nested(
    records: list[dict[str, object]],
) -> None:
    """Flat records take a faster encoder than nested ones; both lay out as `json_file`."""
    from site_builder.render.datafiles import json_file, json_records_file

    expected = json_file({"count": len(records), "servers": records})
    assert b"".join(json_records_file({"count": len(records)}, "servers", records)) == expected


def test_a_streamed_file_is_written_only_when_its_bytes_change_and_a_failure_keeps_the_old(
    tmp_path: Path,
) -> None:
    from site_builder.render.writer import write_if_changed

    target = tmp_path / "api" / "servers.json"
    assert write_if_changed(target, iter([b"[1,", b"2]"]))
    assert target.read_bytes() == b"[1,2]"
    before = target.stat().st_mtime_ns
    assert not write_if_changed(target, iter([b"[1", b",2]"]))
    assert target.stat().st_mtime_ns == before

    def broken() -> Iterator[bytes]:
        yield b"[3,"
        raise ValueError("an encoder failed half-way")

    with pytest.raises(ValueError, match="half-way"):
        write_if_changed(target, broken())
    assert target.read_bytes() == b"[1,2]"
    assert sorted(p.name for p in target.parent.iterdir()) == ["servers.json"]


def test_a_page_is_written_once_into_new_folders_and_a_failed_write_leaves_no_temporary(
    tmp_path: Path,
) -> None:
    from site_builder.render.writer import write_if_changed

    target = tmp_path / "servers" / "mullvad" / "de-fra-001" / "index.html"
    assert write_if_changed(target, b"<p>one</p>")  # its folders are made on the way
    assert target.read_bytes() == b"<p>one</p>"
    before = target.stat().st_mtime_ns
    assert not write_if_changed(target, b"<p>one</p>")
    assert target.stat().st_mtime_ns == before
    assert write_if_changed(target, b"<p>two</p>")
    assert target.read_bytes() == b"<p>two</p>"
    sibling = target.parent / "feed.json"  # a new file in a folder that is already there
    assert write_if_changed(str(sibling), b"{}")
    assert sibling.read_bytes() == b"{}"
    cousin = tmp_path / "servers" / "ivpn" / "nl-ams-002" / "index.html"  # one new level
    assert write_if_changed(str(cousin), b"<p>three</p>")
    assert cousin.read_bytes() == b"<p>three</p>"

    blocked = tmp_path / "servers" / "mullvad" / "a-folder"  # a folder where a file should go
    (blocked / "inside").mkdir(parents=True)
    with pytest.raises(OSError):
        write_if_changed(blocked, b"<p>page</p>")
    assert blocked.is_dir()
    assert not [p.name for p in blocked.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_change_to_any_server_column_moves_the_vpn_sites_fingerprint(built: Path) -> None:
    """The fingerprint reads the servers as stored (not typed): a new timestamp or a flag
    still makes the next build look at the data again."""
    from site_builder.db.models import VpnServer
    from site_builder.sites.bestvpnserver import queries

    engine = make_engine(f"sqlite:///{built / 'store.db'}")
    try:
        with engine.begin() as connection:
            first = connection.execute(select(VpnServer.id).order_by(VpnServer.id)).scalar()
            before = queries.fingerprint(connection)
            connection.execute(
                update(VpnServer)
                .where(VpnServer.id == first)
                .values(last_seen_at=datetime(2026, 12, 1, 4, 5, 6, tzinfo=UTC))
            )
            moved = queries.fingerprint(connection)
            paid = connection.execute(select(VpnServer.paid).where(VpnServer.id == first)).scalar()
            connection.execute(update(VpnServer).where(VpnServer.id == first).values(paid=not paid))
            flagged = queries.fingerprint(connection)
        assert before != moved != flagged
        assert queries.fingerprint(engine.connect()) == flagged
    finally:
        engine.dispose()


def test_a_build_into_an_empty_folder_claims_every_file_it_leaves_there(built: Path) -> None:
    """Such a build skips the walk for stale files: so nothing it wrote may be unclaimed."""
    from site_builder.render.state import BuildState
    from site_builder.render.writer import OutputWriter

    for site in SITES:
        outputs = BuildState.load(built / ".build-state" / f"{site}.json").outputs
        assert OutputWriter(built / "output" / site, produced=set(outputs)).remove_stale() == []
        stray = built / "output" / site / "old-page" / "index.html"
        stray.parent.mkdir()
        stray.write_text("<p>from an older build</p>")
        again = build_report(built, site)
        assert again.removed == [] and not stray.parent.exists()  # never copied to staging


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_template_syntax_error_names_the_template_and_line_and_publishes_nothing(
    built: Path, jobs: int
) -> None:
    footer = built / "templates/cloudgpus/_footer.html"
    footer.write_text(footer.read_text() + "<p>{% if %}</p>\n")
    before = tree_hashes(built / "output/cloudgpus")
    result = rebuild(built, "build", "--site", "cloudgpus", "--jobs", str(jobs))
    assert result.exit_code == 1
    assert "cloudgpus/_footer.html" in result.output and "line" in result.output
    assert "Traceback" not in result.output
    assert tree_hashes(built / "output/cloudgpus") == before


def test_offer_tables_put_on_demand_first_show_sizes_and_providers_link_out(built: Path) -> None:
    cloud = built / "output/cloudgpus"
    page = html.fromstring((cloud / "gpus/h100-sxm/index.html").read_bytes())
    table = page.xpath("//table[@data-filters]")[0]
    kinds = [td.get("data-filter-value") for td in table.xpath(".//td[@data-label='Pricing']")]
    order = {"on-demand": 0, "spot": 1, "reserved": 2}
    assert {"on-demand", "spot", "reserved"} <= set(kinds)
    assert kinds == sorted(kinds, key=order.__getitem__)  # on-demand, then spot, then reserved
    sizes = table.xpath(".//td[@data-label='Instance']/span[@class='sub']/text()")
    assert any("vCPU" in s and "GB RAM" in s and "storage" in s for s in sizes)
    lambda_page = html.fromstring((cloud / "providers/lambda/index.html").read_bytes())
    (visit,) = lambda_page.xpath("//a[text()='Visit Lambda']")
    assert visit.get("href") == "https://lambda.ai" and visit.get("rel") is None
