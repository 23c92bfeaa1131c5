"""Each tool page, loaded in headless Chromium against a local stand-in for the function.

The stand-in (netlify/standin/serve.mjs) serves the built site and runs the real function
handler; the DNS results come from the real nameserver on loopback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import html

from site_builder.cli import build_site
from site_builder.dnsleak.server import NameServer
from site_builder.dnsleak.zone import ZoneConfig

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NODE = shutil.which("node")
SECRET = "browser-test-secret-0123456789"

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and NODE), reason="needs Debian's chromium and node (.ci/run installs them)"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Build bestvpnserver, start the nameserver and the stand-in; yields the base URL."""
    from tests.conftest import ROOT as project_root

    project = tmp_path_factory.mktemp("browser") / "project"
    shutil.copytree(
        project_root,
        project,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "output", "site.db*", "archive", "rejects", "__pycache__", "tests"
        ),
    )
    result = CliRunner().invoke(
        build_site,
        [
            "--config",
            str(project / "sites.toml"),
            "--demo",
            "--site",
            "bestvpnserver",
            "--skip-deploy",
        ],
        env={"DATABASE_URL": f"sqlite:///{project / 'store.db'}"},
    )
    assert result.exit_code == 0, result.output
    nameserver = NameServer(
        ZoneConfig("leak.test", ("ns1.leak.test",), "127.0.0.1", None),
        secret=SECRET,
        dns_address=("127.0.0.1", 0),
        http_address=("127.0.0.1", 0),
    )
    nameserver.start()
    env = {
        **os.environ,
        "DNS_LEAK_ZONE": "leak.test",
        "DNS_LEAK_RESULTS_SECRET": SECRET,
        "DNS_LEAK_RESULTS_URL": f"http://127.0.0.1:{nameserver.http_port}",
        "STANDIN_GEO": '{"city": "Testville", "country": {"code": "ZZ", "name": "Testland"}}',
    }
    standin = subprocess.Popen(
        [NODE, str(ROOT / "netlify/standin/serve.mjs"), str(project / "output/bestvpnserver"), "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = standin.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith("listening on "), line
        yield line.removeprefix("listening on ").strip().rstrip("/")
    finally:
        standin.terminate()
        standin.wait(timeout=10)
        nameserver.stop()


def load(url: str) -> html.HtmlElement:
    """The page's DOM after its scripts ran (virtual time lets timers and fetches finish)."""
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--virtual-time-budget=30000",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            timeout=120,
            check=True,
        ).stdout
    return html.fromstring(dom)


def tool(document: html.HtmlElement) -> tuple[str, dict[str, str]]:
    [section] = document.xpath("//section[@data-tool]")
    fields = {
        e.get("data-field"): e.text_content().strip() for e in section.xpath(".//*[@data-field]")
    }
    return section.get("data-state"), fields


def test_my_ip_shows_address_and_location(site: str) -> None:
    state, fields = tool(load(f"{site}/tools/my-ip/"))
    assert state == "done", fields
    assert fields["ip"] == "127.0.0.1" and fields["version"] == "IPv4"
    assert fields["location"] == "Testville, Testland"


def test_dns_leak_test_runs_and_explains_its_verdict(site: str) -> None:
    state, fields = tool(load(f"{site}/tools/dns-leak-test/#run"))
    assert state == "done", fields
    # This sandbox has no DNS path to the nameserver, so no resolver is seen: inconclusive.
    assert fields["verdict"].startswith("Inconclusive. No DNS lookups reached our nameserver")
    assert "appears to be in ZZ" in fields["status"]


def test_speed_test_reports_ping_download_and_upload(site: str) -> None:
    state, fields = tool(load(f"{site}/tools/speed-test/#run"))
    assert state == "done", fields
    assert fields["ping"].endswith(" ms") and fields["download"].endswith(" Mbit/s")
    assert fields["upload"].endswith(" Mbit/s") and fields["error"] == ""


def test_tool_scripts_load_only_on_their_own_page(site: str) -> None:
    def scripts(path: str) -> list[str]:
        """The page's scripts other than the table sorter every page carries."""
        document = load(site + path)
        sources = [s.get("src") for s in document.iter("script") if s.get("src")]
        return [src for src in sources if not src.startswith("/assets/sort.")]

    assert scripts("/rankings/fastest-servers/") == []
    [only] = scripts("/tools/my-ip/")
    assert "/assets/tools/my-ip." in only
