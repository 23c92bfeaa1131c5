"""What a visitor sees, measured in headless Chromium at 1280x800 and 390x844.

Both sites are built once from the small demo, with 90 days of H100 price history added to
the store (the demo snapshot holds one day), and served from their output folders. One
browser session loads a few sample pages at both sizes and asserts: no page scrolls
sideways, each table's key number columns (class "pri") are inside the viewport without
scrolling, chart text renders at 12 px or more, a filter narrows a table, and the first click
on a column sorts it in its useful direction.
"""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from site_builder.check.scan import scan_html
from site_builder.check.titles import check_unique_titles
from site_builder.cli import build_site, main
from tests.cdp import Browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SIZES = ((1280, 800), (390, 844))
pytestmark = pytest.mark.skipif(not CHROMIUM, reason="needs Debian's chromium (.ci/run)")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _serve(folder: Path) -> tuple[ThreadingHTTPServer, str]:
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _add_price_history(database: str, gpu: str, days: int) -> None:
    """`days` days of daily prices before the demo's own day for the GPU's offers, 1 % a day
    dearer going back (prices are stored as micro-dollars)."""
    engine = create_engine(database)
    with engine.begin() as connection:
        rows = connection.execute(
            text(
                "select h.offer_id, h.day, h.instance_price_usd, h.price_per_gpu_usd"
                " from gpu_price_history h join gpu_offers o on o.id = h.offer_id"
                " where o.gpu_model_slug = :gpu"
                # only where the demo's own history (pull/gpu/demo_history.py) left one day
                " and (select count(*) from gpu_price_history h2"
                " where h2.offer_id = h.offer_id) = 1"
            ),
            {"gpu": gpu},
        ).all()
        for offer_id, day, instance, per_gpu in rows:
            first = day if isinstance(day, date) else date.fromisoformat(day)
            for back in range(1, days):
                factor = 1 + back / 100
                connection.execute(
                    text(
                        "insert into gpu_price_history (offer_id, day, instance_price_usd,"
                        " price_per_gpu_usd, available) values (:o, :d, :i, :p, true)"
                    ),
                    {
                        "o": offer_id,
                        "d": first - timedelta(days=back),
                        "i": int(instance * factor),
                        "p": int(per_gpu * factor),
                    },
                )
    engine.dispose()


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    from tests.conftest import ROOT as project_root

    project = tmp_path_factory.mktemp("visitor") / "project"
    shutil.copytree(
        project_root,
        project,
        ignore=shutil.ignore_patterns(
            ".venv",
            ".git",
            "output",
            "site.db*",
            "archive",
            "rejects",
            "__pycache__",
            "tests",
            "node_modules",
            ".build-state",
        ),
    )
    config = project / "sites.toml"
    # The small demo measures each server a few times: let every server rank.
    config.write_text(
        config.read_text()
        .replace("min_runs_per_server = 10", "min_runs_per_server = 1")
        .replace("min_servers = 3", "min_servers = 1")
    )
    database = f"sqlite:///{project / 'store.db'}"
    env = {"DATABASE_URL": database}
    result = CliRunner().invoke(
        build_site, ["--config", str(config), "--demo", "--skip-deploy", "--jobs", "2"], env=env
    )
    assert result.exit_code == 0, result.output
    _add_price_history(database, "h100-sxm", 90)
    for command in (["build", "--site", "cloudgpus"], ["check", "--site", "cloudgpus"]):
        result = CliRunner().invoke(main, ["--config", str(config), *command], env=env)
        assert result.exit_code == 0, result.output
    servers = {name: _serve(project / "output" / name) for name in ("cloudgpus", "bestvpnserver")}
    try:
        yield {name: url for name, (_, url) in servers.items()} | {"root": str(project)}
    finally:
        for server, _ in servers.values():
            server.shutdown()
            server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM
    chromium = Browser(CHROMIUM)
    try:
        yield chromium
    finally:
        chromium.close()


MEASURE = """(() => {
  const inside = (r) => r.left >= -1 && r.right <= innerWidth + 1;
  const tables = [...document.querySelectorAll('table')].map((table) => {
    const row = [...table.tBodies[0].rows].find((r) => !r.hidden);
    const cells = row ? [...row.querySelectorAll('td.pri')] : [];
    return {
      caption: table.caption ? table.caption.textContent.slice(0, 60) : '',
      key: cells.length,
      outside: cells.filter((c) => !inside(c.getBoundingClientRect()))
        .map((c) => c.getAttribute('data-label')),
    };
  });
  const charts = [...document.querySelectorAll('svg.chart text')]
    .map((t) => t.getBoundingClientRect().height);
  const fontPx = [...document.querySelectorAll('svg.chart text')].map((t) => {
    const svg = t.ownerSVGElement;
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    return parseFloat(getComputedStyle(t).fontSize) * scale;
  });
  return {
    sideways: document.documentElement.scrollWidth - innerWidth,
    tables, charts: charts.length, smallestChartText: Math.min(...fontPx, 99),
  };
})()"""

PAGES = (
    ("cloudgpus", "/gpus/h100-sxm/"),
    ("cloudgpus", "/gpus/"),  # From and $ / PFLOPS-hour are the hub's key columns
    ("cloudgpus", "/best-gpu-for-llm-training/"),
    ("cloudgpus", "/calculator/"),
    ("cloudgpus", "/price-changes/"),  # the change and the old and new prices
    ("cloudgpus", "/providers/lambda/"),  # offers with vCPU, RAM and storage; its history
    ("bestvpnserver", "/rankings/fastest-servers/"),
    ("bestvpnserver", "/providers/nordvpn/"),
    ("bestvpnserver", "/providers/"),  # the providers' facts compared
    ("bestvpnserver", "/streaming/"),  # % unblocked
    ("bestvpnserver", "/streaming/netflix/"),
)


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_tables_show_their_numbers_and_charts_are_readable(
    sites: dict[str, str], browser: Browser, width: int, height: int
) -> None:
    seen_key_columns = seen_charts = 0
    for site, path in PAGES:
        browser.open(sites[site] + path, width, height, mobile=width < 500)
        facts = browser.evaluate(MEASURE)
        assert facts["sideways"] <= 0, f"{path} scrolls sideways by {facts['sideways']} px"
        for table in facts["tables"]:
            assert not table["outside"], f"{path} at {width}px: {table} off-screen"
            seen_key_columns += table["key"]
        if facts["charts"]:
            assert facts["smallestChartText"] >= 12, (path, width, facts["smallestChartText"])
            seen_charts += 1
    assert seen_key_columns >= 5  # the sample pages do have tables with key columns
    assert seen_charts >= 2  # the H100's 90-day history, a provider's daily medians


def test_price_history_chart_for_a_gpu_and_for_a_provider(
    sites: dict[str, str], browser: Browser
) -> None:
    browser.open(sites["cloudgpus"] + "/gpus/h100-sxm/", 1280, 800)
    titles = browser.evaluate(
        "[...document.querySelectorAll('svg.chart title')].map(t => t.textContent)"
    )
    assert "NVIDIA H100 SXM lowest price" in titles
    provider = browser.evaluate(
        "[...document.querySelectorAll('a')].map(a => a.getAttribute('href'))"
        ".find(h => /^\\/gpus\\/h100-sxm\\/[a-z]+\\/$/.test(h)"
        " && !/on_demand|spot|reserved/.test(h))"
    )
    browser.open(sites["cloudgpus"] + provider, 390, 844, mobile=True)
    facts = browser.evaluate(MEASURE)
    assert facts["charts"] and facts["smallestChartText"] >= 12
    labels = browser.evaluate(
        "[...document.querySelectorAll('svg.chart .grid text')].map(t => t.textContent)"
    )
    assert labels[0] == "$0.00" and len(labels) == 5  # zero-based, labelled gridlines


def test_a_filter_narrows_the_offers_table_and_sorting_starts_useful(
    sites: dict[str, str], browser: Browser
) -> None:
    browser.open(sites["cloudgpus"] + "/gpus/h100-sxm/", 1280, 800)
    shown = browser.evaluate(
        """(() => {
      const table = document.querySelector('table[data-filters]');
      const visible = () => [...table.tBodies[0].rows].filter(r => !r.hidden).length;
      const before = visible();
      const select = [...document.querySelectorAll('.filters label')]
        .find(l => l.textContent.startsWith('Provider')).querySelector('select');
      select.value = select.options[1].value;
      select.dispatchEvent(new Event('change', {bubbles: true}));
      return [before, visible(), table.tBodies[0].rows.length];
    })()"""
    )
    before, after, total = shown
    assert before == total and 0 < after < total
    browser.open(sites["bestvpnserver"] + "/rankings/fastest-servers/", 1280, 800)
    order = browser.evaluate(
        """(() => {
      const table = document.querySelector('table.sortable');
      const heads = [...table.tHead.rows[0].cells];
      const values = (label) => {
        const index = heads.findIndex(h => h.textContent.trim() === label);
        heads[index].querySelector('button').click();
        return [...table.tBodies[0].rows].map(r => parseFloat(r.cells[index].dataset.sort));
      };
      return {upload: values('Upload'), latency: values('Latency')};
    })()"""
    )
    assert order["upload"] == sorted(order["upload"], reverse=True)  # fastest first
    assert order["latency"] == sorted(order["latency"])  # lowest latency first


def test_pages_carry_a_favicon_and_a_manifest(sites: dict[str, str], browser: Browser) -> None:
    for name in ("cloudgpus", "bestvpnserver"):
        browser.open(sites[name] + "/", 1280, 800)
        manifest = browser.evaluate(
            "fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())"
        )
        icon = browser.evaluate(
            "fetch(document.querySelector('link[rel=icon]').href).then(r => r.status)"
        )
        assert manifest["start_url"] == "/" and manifest["icons"] and icon == 200


def test_tool_controls_wait_for_javascript(sites: dict[str, str], browser: Browser) -> None:
    browser.open(sites["cloudgpus"] + "/calculator/", 390, 844, mobile=True)
    facts = browser.evaluate(
        """(async () => {
      const count = document.getElementById('calc-count');
      const enabled = !count.disabled;
      const result = document.getElementById('calc-result');
      const before = result.getBoundingClientRect().height;
      count.value = '-3';
      count.dispatchEvent(new Event('input', {bubbles: true}));
      const message = document.getElementById('calc-count-error').textContent;
      const after = result.getBoundingClientRect().height;
      return {enabled, message, before, after};
    })()"""
    )
    assert facts["enabled"] and "at least 1" in facts["message"]
    assert facts["before"] == facts["after"]  # no layout shift when the result changes


def test_titles_and_descriptions_are_unique_on_both_sites(sites: dict[str, str]) -> None:
    """With every server ranked (the gates lowered), city-states included: no page twice."""
    output = Path(sites["root"]) / "output"
    for name in ("cloudgpus", "bestvpnserver"):
        pages = scan_html(output / name)
        assert len(pages) > 100
        assert check_unique_titles(pages) == []
    countries = output / "bestvpnserver" / "countries"
    assert (countries / "singapore" / "index.html").is_file()
    assert not (countries / "singapore" / "singapore").exists()


SEARCH_RESULTS = """new Promise((resolve) => {
  const started = Date.now();
  const poll = () => {
    const status = document.getElementById('search-status').textContent;
    if (!/Searching|not started/.test(status) || Date.now() - started > 20000) {
      resolve({status, links: [...document.querySelectorAll('#search-results a')]
        .map((a) => a.getAttribute('href'))});
    } else setTimeout(poll, 100);
  };
  poll();
})"""


def test_search_finds_a_gpu_and_a_server(sites: dict[str, str], browser: Browser) -> None:
    """Pagefind's index is part of the sealed tree, and loads only on the search page."""
    output = Path(sites["root"]) / "output"
    browser.open(sites["cloudgpus"] + "/gpus/h100-sxm/", 1280, 800)
    loaded = browser.evaluate(
        "performance.getEntriesByType('resource').map(e => e.name).filter(n => /pagefind/.test(n))"
    )
    assert loaded == []  # no page but /search/ fetches anything of the index
    browser.open(sites["cloudgpus"] + "/search/?q=H100+SXM", 390, 844, mobile=True)
    found = browser.evaluate(SEARCH_RESULTS)
    assert "/gpus/h100-sxm/" in found["links"], found
    server = next((output / "bestvpnserver" / "servers").rglob("index.html"))
    hostname = server.read_text().split("<h1>", 1)[1].split("</h1>", 1)[0]
    browser.open(sites["bestvpnserver"] + f"/search/?q={hostname}", 1280, 800)
    found = browser.evaluate(SEARCH_RESULTS)
    url = "/" + server.parent.relative_to(output / "bestvpnserver").as_posix() + "/"
    assert found["links"][:3].count(url) == 1, (hostname, found)
