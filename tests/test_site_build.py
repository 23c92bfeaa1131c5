"""The slice end to end: build-site on the demo data, from a fresh project copy."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree, html
from sqlalchemy import update

from site_builder.cli import build_site, main
from site_builder.db import make_engine
from site_builder.db.models import VpnProvider


def run_build_site(project_dir: Path, database_url: str, *args: str):
    result = CliRunner().invoke(
        build_site,
        ["--config", str(project_dir / "sites.toml"), "--demo", *args],
        env={"DATABASE_URL": database_url, "NETLIFY_AUTH_TOKEN": ""},
    )
    return result


def tree_hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_demo_build_produces_both_sites_with_working_links(
    project_dir: Path, database_url: str
) -> None:
    result = run_build_site(project_dir, database_url)
    assert result.exit_code == 0, result.output
    assert "every internal link resolves" in result.output
    assert "NETLIFY_AUTH_TOKEN is not set: nothing deployed" in result.output
    cloud = project_dir / "output/cloudgpus"
    vpn = project_dir / "output/bestvpnserver"
    assert (cloud / "index.html").is_file() and (cloud / "gpus/h100-sxm/index.html").is_file()
    assert (vpn / "index.html").is_file() and (
        vpn / "rankings/fastest-servers/index.html"
    ).is_file()
    page = html.fromstring((cloud / "gpus/h100-sxm/index.html").read_bytes())
    title = page.findtext(".//title")
    assert title == "NVIDIA H100 SXM cloud prices: from $1.91/GPU-hour at 25 providers"
    assert page.xpath("//link[@rel='canonical']/@href") == ["https://cloudgpus.io/gpus/h100-sxm/"]
    assert "$23.92" in page.text_content()
    robots = (cloud / "robots.txt").read_text()
    assert "Sitemap: https://cloudgpus.io/sitemap.xml" in robots


def test_sitemaps_list_every_indexable_page_with_data_lastmod(
    project_dir: Path, database_url: str
) -> None:
    assert run_build_site(project_dir, database_url).exit_code == 0
    cloud = project_dir / "output/cloudgpus"
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    index = etree.parse(str(cloud / "sitemap.xml"))
    shards = index.xpath("//s:sitemap/s:loc/text()", namespaces=ns)
    assert shards == ["https://cloudgpus.io/sitemaps/pages-1.xml"]
    shard = etree.parse(str(cloud / "sitemaps/pages-1.xml"))
    urls = shard.xpath("//s:url/s:loc/text()", namespaces=ns)
    pages = {
        "https://cloudgpus.io/" + p.parent.relative_to(cloud).as_posix().replace(".", "") + "/"
        for p in cloud.rglob("index.html")
        if '<meta name="robots" content="noindex">' not in p.read_text(encoding="utf-8")
    }
    assert "https://cloudgpus.io/status/" not in pages  # noindex: out of the sitemap
    assert set(u.replace("https://cloudgpus.io//", "https://cloudgpus.io/") for u in urls) == {
        u.replace("https://cloudgpus.io//", "https://cloudgpus.io/") for u in pages
    }
    assert "404" not in " ".join(urls)
    lastmods = {
        url.findtext("s:loc", namespaces=ns): url.findtext("s:lastmod", namespaces=ns)
        for url in shard.xpath("//s:url", namespaces=ns)
    }
    # the data's time, never the build's: the snapshot's, and for the price changes the day
    # of the newest change in the price history (its content changes only with those)
    changes = lastmods.pop("https://cloudgpus.io/price-changes/")
    assert changes == "2026-11-21T00:00:00Z"
    assert set(lastmods.values()) == {"2026-11-21T02:00:00Z"}


def test_second_run_is_byte_identical_and_rewrites_nothing(
    project_dir: Path, database_url: str
) -> None:
    assert run_build_site(project_dir, database_url).exit_code == 0
    output = project_dir / "output"
    before = tree_hashes(output)
    mtimes = {p: p.stat().st_mtime_ns for p in output.rglob("*") if p.is_file()}
    second = run_build_site(project_dir, database_url)
    assert second.exit_code == 0, second.output
    assert tree_hashes(output) == before
    assert {p: p.stat().st_mtime_ns for p in output.rglob("*") if p.is_file()} == mtimes


def test_hostile_names_render_as_text(project_dir: Path, database_url: str) -> None:
    assert run_build_site(project_dir, database_url).exit_code == 0
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            update(VpnProvider.__table__)
            .where(VpnProvider.__table__.c.slug == "nordvpn")
            .values(name='<script>alert(1)</script>"Nord')
        )
    engine.dispose()
    assert run_build_site(project_dir, database_url, "--skip-pull").exit_code == 0
    ranking = (project_dir / "output/bestvpnserver/rankings/fastest-servers/index.html").read_text()
    hostile = '<script>alert(1)</script>"Nord'
    document = html.fromstring(ranking)
    # the name comes back as text in table cells and attribute values, never as markup
    cells = [td.text_content() for td in document.iter("td")]
    assert hostile in cells
    description = document.xpath("//meta[@name='description']/@content")[0]
    assert hostile in description
    scripts = [s for s in document.iter("script") if not s.get("src")]
    assert all(s.get("type") == "application/ld+json" for s in scripts)
    assert not [s for s in scripts if "alert" in (s.text or "") and "\\u003cscript" not in s.text]
    json_ld = " ".join(s.text for s in scripts)
    assert "</script>" not in json_ld and "\\u003cscript" in json_ld


def test_pages_no_longer_produced_are_removed(project_dir: Path, database_url: str) -> None:
    assert run_build_site(project_dir, database_url).exit_code == 0
    stray = project_dir / "output/cloudgpus/gpus/retired-gpu/index.html"
    stray.parent.mkdir(parents=True)
    stray.write_text("<html></html>")
    result = run_build_site(project_dir, database_url, "--skip-pull")
    assert result.exit_code == 0
    assert not stray.exists() and not stray.parent.exists()


def test_a_broken_link_stops_build_site_before_deploy(project_dir: Path, database_url: str) -> None:
    template = project_dir / "templates/cloudgpus/_nav.html"
    template.write_text(template.read_text() + '<a href="/no-such-page/">Gone</a>\n')
    result = run_build_site(project_dir, database_url)
    assert result.exit_code == 1
    assert "broken link /no-such-page/" in result.output
    assert "cloudgpus: links failed (nothing was deployed)" in result.output
    assert "deploy cloudgpus: NETLIFY" not in result.output  # its deploy step never ran
    live = project_dir / "output/cloudgpus"
    assert not live.exists()  # the failed build was never published
    assert (project_dir / "output/.staging/cloudgpus/index.html").is_file()  # kept to inspect
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", [["pull"], ["build"], ["check"]])
def test_stage_commands_refuse_an_unmigrated_database(
    project_dir: Path, tmp_path: Path, command
) -> None:
    result = CliRunner().invoke(
        main,
        ["--config", str(project_dir / "sites.toml"), *command],
        env={"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"},
    )
    if command == ["check"]:  # check reads output, not the store
        assert "holds no built site" in result.output
    else:
        assert "run `site-builder db upgrade`" in result.output
    assert result.exit_code == 1


def test_stale_files_and_the_folders_they_leave_empty_are_removed(tmp_path: Path) -> None:
    from site_builder.render.writer import OutputWriter

    files = ["index.html", "a/index.html", "a/old.html", "b/c/index.html", "d/e/gone.html"]
    for relative in files:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(relative)
    writer = OutputWriter(tmp_path, produced={"index.html", "a/index.html", "b/c/index.html"})
    assert writer.remove_stale() == ["a/old.html", "d/e/gone.html"]
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "a",
        "a/index.html",
        "b",
        "b/c",
        "b/c/index.html",
        "index.html",
    ]
    assert OutputWriter(tmp_path).remove_stale() == ["a/index.html", "b/c/index.html", "index.html"]
    assert tmp_path.is_dir() and not any(tmp_path.iterdir())  # the root itself stays


def _dataset_part(servers: list[int], fail: str = "") -> dict[str, int]:
    if fail == "raise":
        raise ValueError("a bad server row")
    if fail == "lambda":
        return {"servers": lambda: len(servers)}  # type: ignore[dict-item]
    if fail == "die":
        os._exit(3)  # as the kernel's OOM killer would leave it: no result, no exception
    return {"servers": len(servers), "pid": os.getpid()}


def test_work_beside_the_load_runs_in_a_child_and_its_failures_name_the_cause() -> None:
    from site_builder.errors import SiteBuilderError
    from site_builder.render.parallel import beside

    with beside(_dataset_part, [1, 2, 3]) as result:
        assert result()["servers"] == 3 and result()["pid"] != os.getpid()
    with beside(_dataset_part, [1, 2], forked=False) as result:
        assert result() == {"servers": 2, "pid": os.getpid()}
    failed = r"(?s)_dataset_part failed.*a bad server row"
    with pytest.raises(SiteBuilderError, match=failed), beside(_dataset_part, [], "raise") as run:
        run()
    unsent = r"(?s)_dataset_part failed.*pickle"
    with pytest.raises(SiteBuilderError, match=unsent), beside(_dataset_part, [], "lambda") as run:
        run()
    died = r"_dataset_part died \(exit code 3\)"
    with pytest.raises(SiteBuilderError, match=died), beside(_dataset_part, [], "die") as run:
        run()
