"""Each pre-deploy check, on a real demo build: it catches the problem and says where."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from site_builder.check import run_checks
from site_builder.check.guard import output_pages
from site_builder.cli import build_site, main
from site_builder.db import make_engine
from site_builder.db.models import SiteDeploy
from site_builder.render.netlify_files import HEADER_RULES
from site_builder.render.netlify_syntax import check_headers_file, check_redirects_file

ROOT = Path(__file__).resolve().parent.parent


def checks(project: Path, site: str = "cloudgpus", env=None, previous=None, force=False):
    return run_checks(
        site,
        project / "output" / site,
        f"https://{site}.{'io' if site == 'cloudgpus' else 'com'}",
        env=env or {},
        project_root=project,
        content_dir=project / "content" / site,
        previous_pages=previous,
        force=force,
    )


def test_a_clean_build_passes_every_check(built: Path) -> None:
    for site in ("cloudgpus", "bestvpnserver"):
        report = checks(built, site)
        assert report.failed == [], report.problems


def test_a_missing_asset_is_a_broken_link(built: Path) -> None:
    for css in (built / "output/cloudgpus/assets").glob("site.*.css"):
        css.unlink()
    problems = checks(built).problems["links"]
    assert problems and all("broken link /assets/site." in p for p in problems)


def test_sitemaps_must_list_exactly_the_indexable_pages(built: Path) -> None:
    output = built / "output/cloudgpus"
    shutil.copytree(output / "gpus/a10", output / "gpus/extra")  # a page not in the sitemap
    shard = output / "sitemaps/pages-1.xml"
    shard.write_text(
        shard.read_text().replace(
            "</urlset>", "<url><loc>https://cloudgpus.io/gone/</loc></url></urlset>"
        )
    )
    problems = checks(built).problems["sitemaps"]
    assert (
        "sitemaps: https://cloudgpus.io/gone/ is listed but is not an indexable page of the output"
        in problems
    )
    # the copied page keeps a10's canonical, so the check sees it as that page
    assert not any("extra" in p for p in problems)


def test_a_noindex_page_in_the_sitemap_is_caught(built: Path) -> None:
    page = built / "output/cloudgpus/gpus/a10/index.html"
    page.write_text(
        page.read_text().replace("<title>", '<meta name=robots content="noindex"><title>', 1)
    )
    problems = checks(built).problems["sitemaps"]
    a10 = "https://cloudgpus.io/gpus/a10/"
    assert problems == [f"sitemaps: {a10} is listed but is not an indexable page of the output"]


def test_broken_sitemap_xml_is_reported(built: Path) -> None:
    (built / "output/cloudgpus/sitemaps/pages-1.xml").write_text("<urlset><url>")
    assert any("not well-formed XML" in p for p in checks(built).problems["sitemaps"])


def test_a_secret_in_the_output_is_named_not_shown(built: Path) -> None:
    token = "nfp_s3cr3tT0kenValue42"
    page = built / "output/cloudgpus/index.html"
    page.write_text(page.read_text() + f"<!-- {token} -->")
    env = {
        "NETLIFY_AUTH_TOKEN": token,
        "DATABASE_URL": "postgresql://u:hunter2hunter2@db/x",
        "SITE_BUILDER_PROBE_KEYS": '{"fra": "probe-secret-123"}',
    }
    problems = checks(built, env=env).problems["leaks"]
    assert problems == ["index.html: contains the value of $NETLIFY_AUTH_TOKEN"]
    assert token not in " ".join(problems)
    page.write_text(page.read_text() + "probe-secret-123 hunter2hunter2")
    problems = checks(built, env=env).problems["leaks"]
    assert "index.html: contains the value of $SITE_BUILDER_PROBE_KEYS" in problems
    assert "index.html: contains the value of $DATABASE_URL" in problems


def test_a_local_path_in_the_output_is_caught(built: Path) -> None:
    (built / "output/cloudgpus/robots.txt").write_text(f"# built in {built}/output\n")
    assert checks(built).problems["leaks"] == [
        f"robots.txt: contains the local path {built.resolve()}"
    ]


def test_a_published_draft_is_caught(built: Path) -> None:
    (built / "content/cloudgpus/secret-plans.md").write_text(
        "---\ntitle: Plans\ndraft: true\n---\nSoon.\n"
    )
    assert checks(built).problems["drafts"] == []
    (built / "output/cloudgpus/secret-plans").mkdir()
    (built / "output/cloudgpus/secret-plans/index.html").write_text("<html></html>")
    assert checks(built).problems["drafts"] == [
        "secret-plans/index.html: published from draft secret-plans.md"
    ]


def test_a_build_that_lost_30_percent_of_its_pages_is_stopped_unless_forced(built: Path) -> None:
    output = built / "output/cloudgpus"
    previous = output_pages(output)
    pages = sorted(p.parent for p in output.glob("*/*/*/index.html"))
    assert len(pages) > len(previous) * 0.3
    for directory in pages[: round(len(previous) * 0.3)]:
        shutil.rmtree(directory)
    [problem] = checks(built, previous=previous).problems["page loss"]
    assert "would disappear, more than the 20% allowed" in problem and "--force" in problem
    assert checks(built, previous=previous, force=True).problems["page loss"] == []
    assert (
        checks(built, previous=output_pages(output) | {"/gpus/gone/index.html"}).problems[
            "page loss"
        ]
        == []
    )


def test_the_guard_uses_the_last_deploy_from_the_store_and_build_site_stops(built: Path) -> None:
    url = f"sqlite:///{built / 'store.db'}"
    engine = make_engine(url)
    manifest = {p: "0" * 40 for p in output_pages(built / "output/cloudgpus")}
    gone = round(len(manifest) * 0.3)  # pages the last deploy had and this build lacks
    manifest |= {f"/gpus/old-{n}/index.html": "0" * 40 for n in range(gone)}
    with engine.begin() as connection:
        connection.execute(
            SiteDeploy.__table__.insert().values(
                site="cloudgpus",
                deploy_id="d1",
                created_at=datetime.now(UTC),
                draft=False,
                url="",
                files=len(manifest),
                uploaded_files=0,
                uploaded_bytes=0,
                manifest=manifest,
            )
        )
    engine.dispose()
    args = ["--config", str(built / "sites.toml"), "--skip-pull", "--site", "cloudgpus"]
    stopped = CliRunner().invoke(build_site, args, env={"DATABASE_URL": url})
    assert stopped.exit_code == 1
    assert "error: check cloudgpus: page loss failed (nothing was deployed)" in stopped.output
    forced = CliRunner().invoke(build_site, [*args, "--force"], env={"DATABASE_URL": url})
    assert forced.exit_code == 0, forced.output
    check_only = CliRunner().invoke(
        main,
        [
            "--config",
            str(built / "sites.toml"),
            "check",
            "--site",
            "cloudgpus",
            "--max-page-loss",
            "0.9",
        ],
        env={"DATABASE_URL": url},
    )
    assert check_only.exit_code == 0, check_only.output


def test_headers_syntax() -> None:
    good = "/*\n  X-Frame-Options: DENY\n# comment\n/assets/*\n  Cache-Control: max-age=1\n"
    assert check_headers_file(good) == []
    bad = "  X-Early: 1\n/*\n  Missing-Colon\n  Bad Name: x\nassets/*\n"
    assert check_headers_file(bad) == [
        "_headers:1: header before any path line",
        "_headers:3: expected 'Name: value', got 'Missing-Colon'",
        "_headers:4: invalid header name 'Bad Name'",
        "_headers:5: path 'assets/*' must start with /",
    ]


def test_redirects_syntax() -> None:
    good = "# moved\n/old /new 301\n/api/* https://example.com/:splat 200!\n/x /y 302 Country=us\n"
    assert check_redirects_file(good) == []
    bad = "/lonely\nold /new\n/.netlify/x /y\n/a/*/b /c\n/a /b 299\n"
    assert check_redirects_file(bad) == [
        "_redirects:1: expected 'from to [status] [conditions]'",
        "_redirects:2: from 'old' must start with / or be a URL",
        "_redirects:3: from may not start with /.netlify",
        "_redirects:4: a splat (*) may only end the from path",
        "_redirects:5: unknown status '299'",
    ]


def test_an_editors_bad_redirect_fails_the_check(built: Path) -> None:
    (built / "content/cloudgpus/_redirects").write_text("/old-gpus /gpus/ 301\nbroken-line\n")
    result = CliRunner().invoke(
        build_site,
        ["--config", str(built / "sites.toml"), "--skip-pull", "--site", "cloudgpus"],
        env={"DATABASE_URL": f"sqlite:///{built / 'store.db'}"},
    )
    assert result.exit_code == 1
    # named in the editor's file (line 2), not the generated one (where it was line 3)
    expected = "content/cloudgpus/_redirects:2: expected 'from to [status] [conditions]'"
    assert expected in result.output.replace("\n", "")


def test_netlify_toml_headers_match_the_generated_headers_file() -> None:
    config = tomllib.loads((ROOT / "netlify.toml").read_text())
    from_toml = {rule["for"]: tuple(rule["values"].items()) for rule in config["headers"]}
    assert from_toml == dict(HEADER_RULES)


@pytest.mark.parametrize(
    ("chosen", "published"), [("bestvpnserver", "bestvpnserver"), ("", "cloudgpus")]
)
def test_netlify_builds_and_publishes_the_site_its_environment_names(
    tmp_path: Path, chosen: str, published: str
) -> None:
    """The build command after the install, with a stand-in build-site that writes
    output/<site>/index.html: each Netlify site gets its own site's pages."""
    command = tomllib.loads((ROOT / "netlify.toml").read_text())["build"]["command"]
    after_install = command[command.index(".venv/bin/build-site") :]
    stand_in = tmp_path / ".venv/bin/build-site"
    stand_in.parent.mkdir(parents=True)
    stand_in.write_text(
        '#!/bin/sh\n[ "$1" = --site ] || exit 2\n'
        'mkdir -p "output/$2"\necho "$2" > "output/$2/index.html"\n'
    )
    stand_in.chmod(0o755)
    (tmp_path / "output/publish").mkdir(parents=True)
    (tmp_path / "output/publish/stale.html").write_text("from an earlier build")
    env = {"PATH": os.environ["PATH"], "SITE_BUILDER_SITE": chosen}
    subprocess.run(["sh", "-c", after_install], cwd=tmp_path, env=env, check=True)
    publish = tmp_path / tomllib.loads((ROOT / "netlify.toml").read_text())["build"]["publish"]
    assert sorted(p.name for p in publish.iterdir()) == ["index.html"]
    assert (publish / "index.html").read_text() == f"{published}\n"
