"""The public status page and status.json on both sites: built with the site, checked like
every page (the leak scan included), free of secrets, hostnames and traces, and unchanged by
a rebuild when nothing changed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import html

from tests.conftest import ROOT
from tests.local_http import Request, serve

BIN = Path(sys.executable).parent
TOKEN = "/services/T0TEST/B0TEST/slackwebhooktokenvalue"
SECRET = "generic-webhook-signing-secret"
SLACK: list[str] = []  # the receiver's URL, once it listens


def _ok(_: Request) -> tuple[int, dict[str, str], bytes]:
    return 200, {}, b"ok"


def _run(project: Path, command: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / command), "--config", str(project / "sites.toml"), *args],
        env={
            **os.environ,
            "DATABASE_URL": f"sqlite:///{project / 'store.db'}",
            "SITE_BUILDER_ALERT_SLACK_URL": SLACK[0],
            "SITE_BUILDER_ALERT_WEBHOOK_SECRET": SECRET,
            "COLUMNS": "250",
        },
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo project, built once with alert secrets in the environment (and a Slack
    receiver on loopback taking the alerts)."""

    target = tmp_path_factory.mktemp("status") / "project"
    target.mkdir()
    config = (ROOT / "sites.toml").read_text()
    (target / "sites.toml").write_text(
        config.replace("min_runs_per_server = 10", "min_runs_per_server = 3")
    )
    for folder in ("templates", "content", "netlify/functions"):
        shutil.copytree(ROOT / folder, target / folder)
    shutil.copytree(
        ROOT / "data",
        target / "data",
        ignore=shutil.ignore_patterns("site.db*", "archive", "rejects", "measurements"),
    )
    with serve({TOKEN: _ok}) as receiver:
        SLACK[:] = [receiver.base_url + TOKEN]
        result = _run(target, "build-site", "--demo", "--skip-deploy")
        assert result.returncode == 0, result.stdout + result.stderr
        assert receiver.requests  # the demo's stale sources were alerted
        yield target


@pytest.mark.parametrize(
    ("site", "source"),
    [("cloudgpus", "GPU prices: Lambda"), ("bestvpnserver", "VPN probe: Frankfurt probe")],
)
def test_each_site_publishes_its_status_page_and_json(
    project: Path, site: str, source: str
) -> None:
    output = project / "output" / site
    page = (output / "status/index.html").read_text(encoding="utf-8")
    document = json.loads((output / "status.json").read_text(encoding="utf-8"))
    tree = html.fromstring(page)
    assert tree.xpath("//meta[@name='robots']/@content") == ["noindex"]
    assert "/status/" not in (output / "sitemap.xml").read_text() + "".join(
        p.read_text() for p in output.glob("sitemap*.xml")
    )
    rows = [" ".join(r.text_content().split()) for r in tree.xpath("//tbody/tr")]
    assert any(row.startswith(source) for row in rows), rows
    # The demo's data is weeks old: every source past its rule is named stale, on both.
    assert document["ok"] is False
    assert source in document["stale"]
    assert document["data_as_of"] in page
    assert all(s["updated"] is None or len(s["updated"]) == 10 for s in document["sources"])
    # The footer of every page links to it.
    assert tree.xpath("//footer//a[@href='/status/']")


def test_status_output_holds_no_secret_hostname_or_trace(project: Path) -> None:
    for site in ("cloudgpus", "bestvpnserver"):
        for name in ("status/index.html", "status.json"):
            text = (project / "output" / site / name).read_text(encoding="utf-8")
            for forbidden in (
                SLACK[0],
                "slackwebhooktokenvalue",
                SECRET,
                "store.db",
                str(project),
                ".example",  # the demo servers' hostnames: agents are counted, never named
                "127.0.0.1",
                "localhost",
                "Traceback",
                "http://",
            ):
                assert forbidden not in text, (site, name, forbidden)


def test_the_leak_scan_runs_on_status_json(project: Path) -> None:
    """A secret that reached status.json stops the check (and so the deploy)."""
    live = project / "output/bestvpnserver/status.json"
    original = live.read_bytes()
    try:
        live.write_bytes(original.replace(b'"ok": false', f'"ok": "{SECRET}"'.encode()))
        result = _run(project, "site-builder", "check", "--site", "bestvpnserver")
    finally:
        live.write_bytes(original)
    assert result.returncode == 1
    assert "SITE_BUILDER_ALERT_WEBHOOK_SECRET" in result.stdout + result.stderr
    assert "status.json" in result.stdout + result.stderr


def test_a_rebuild_with_nothing_changed_leaves_the_status_files_alone(project: Path) -> None:
    files = [
        project / "output" / site / name
        for site in ("cloudgpus", "bestvpnserver")
        for name in ("status/index.html", "status.json")
    ]
    before = [(f.read_bytes(), f.stat().st_mtime_ns) for f in files]
    result = _run(project, "build-site", "--demo", "--skip-deploy")
    assert result.returncode == 0, result.stdout + result.stderr
    assert [(f.read_bytes(), f.stat().st_mtime_ns) for f in files] == before
