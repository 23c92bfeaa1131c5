"""Price changes (issue 29): the pure change computation over history rows, held moves never
counted, and what a visitor sees on /price-changes/ and on a GPU page of the demo build."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lxml import etree, html
from sqlalchemy import Engine, func, select, update

from site_builder.cli import build_site
from site_builder.db import make_engine
from site_builder.db.models import GpuOffer, GpuPriceHistory
from site_builder.sites.cloudgpus import history, queries
from site_builder.sites.cloudgpus.history import price_changes, top_changes
from site_builder.sites.cloudgpus.pages.changes import MAX_ROWS
from site_builder.sites.cloudgpus.pages.home import latest_moves
from tests.conftest import copy_project
from tests.test_price_store import FIXTURE, make_snapshot, offer_row, replay

ROOT = Path(__file__).resolve().parent.parent
END = date(2026, 11, 21)


def _offer(offer_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": offer_id,
        "gpu_model_slug": "h100-sxm",
        "provider_slug": f"p{offer_id}",
        "provider_name": f"Provider {offer_id}",
        "instance_type": "8x",
        "region_code": "us",
        "region_name": "US",
        "pricing_kind": "on_demand",
        "reserved_term": None,
        "gpu_count": 8,
        "details": None,
        **extra,
    }


def _points(offer_id: int, prices: dict[int, str]) -> list[dict[str, Any]]:
    """History rows of one offer: days before END -> price."""
    return [
        {"offer_id": offer_id, "day": END - timedelta(days=back), "price_per_gpu_usd": Decimal(p)}
        for back, p in prices.items()
    ]


def test_a_change_has_its_old_and_new_price_the_change_and_its_day() -> None:
    offers = {1: _offer(1)}
    points = _points(1, {40: "2.50", 20: "2.50", 12: "2.00", 5: "2.00", 0: "2.00"})
    [change] = price_changes(points, offers, end=END, days=30)
    assert change["old_price"] == Decimal("2.50") and change["new_price"] == Decimal("2.00")
    assert change["change_usd"] == Decimal("-0.50")
    assert change["change_pct"] == Decimal("-20.0")
    assert change["changed_on"] == END - timedelta(days=12)  # the day it moved, not the last
    assert change["since"] == END - timedelta(days=40)  # the price when the window opened
    assert change["provider_name"] == "Provider 1" and change["gpu_model_slug"] == "h100-sxm"


def test_no_change_a_return_and_a_move_before_the_window_give_no_row() -> None:
    offers = {1: _offer(1), 2: _offer(2), 3: _offer(3)}
    points = [
        *_points(1, {30: "1.00", 10: "1.00", 0: "1.00"}),  # flat
        *_points(2, {31: "1.00", 10: "1.20", 0: "1.00"}),  # up, then back
        *_points(3, {60: "3.00", 35: "2.00", 10: "2.00", 0: "2.00"}),  # cut before the window
    ]
    assert price_changes(points, offers, end=END, days=30) == []
    # the same cut, inside a 40-day window, is a change
    [cut] = price_changes(points, offers, end=END, days=40)
    assert (cut["offer_id"], cut["old_price"], cut["new_price"]) == (3, 3, 2)


def test_the_window_ends_at_the_history_not_the_clock_and_new_offers_start_at_their_first_day() -> (
    None
):
    offers = {1: _offer(1), 2: _offer(2)}
    points = [
        *_points(1, {20: "1.00", 0: "1.00", -3: "0.50"}),  # a point after END is ignored
        *_points(2, {6: "4.00", 2: "5.00"}),  # first seen inside the window
    ]
    [new_offer] = price_changes(points, offers, end=END, days=30)
    assert new_offer["offer_id"] == 2 and new_offer["old_price"] == Decimal("4.00")
    assert new_offer["change_pct"] == Decimal("25.0")


def test_exchange_rate_drift_and_a_move_that_rounds_to_nothing_are_not_changes() -> None:
    offers = {
        1: _offer(1, raw_currency="EUR"),  # a steady EUR price, converted at each day's rate
        2: _offer(2, raw_currency="EUR"),  # a real EUR cut
        3: _offer(3, raw_currency="USD"),  # a USD move of 0.04 %: "+0.0%" would mislead
    }
    points = [
        *_points(1, {35: "2.500000", 10: "2.517000", 1: "2.481000"}),
        *_points(2, {35: "2.500000", 1: "2.200000"}),
        *_points(3, {35: "2.500000", 1: "2.501000"}),
    ]
    [change] = price_changes(points, offers, end=END, days=30)
    assert change["offer_id"] == 2 and change["change_pct"] == Decimal("-12.0")


def _stated(offer_id: int, prices: dict[int, tuple[str, str]]) -> list[dict[str, Any]]:
    """History rows with the stated EUR price: days before END -> (USD, EUR)."""
    return [
        {
            "offer_id": offer_id,
            "day": END - timedelta(days=back),
            "price_per_gpu_usd": Decimal(usd),
            "stated_price": Decimal(eur),
            "stated_currency": "EUR",
        }
        for back, (usd, eur) in prices.items()
    ]


def test_a_stated_price_that_stayed_is_no_change_however_far_the_rate_moved() -> None:
    offers = {1: _offer(1, raw_currency="EUR"), 2: _offer(2, raw_currency="EUR")}
    points = [
        # EUR 2.00 all month while the euro rose 4 %: a USD "rise" that is no price change
        *_stated(1, {35: ("2.300000", "2.00"), 10: ("2.350000", "2.00"), 1: ("2.392000", "2.00")}),
        # a 0.5 % cut in euros is the provider's move, small as it is
        *_stated(2, {35: ("2.300000", "2.00"), 4: ("2.310000", "1.99"), 1: ("2.320000", "1.99")}),
    ]
    [cut] = price_changes(points, offers, end=END, days=30)
    assert cut["offer_id"] == 2 and cut["change_pct"] == Decimal("-0.5")
    assert cut["changed_on"] == END - timedelta(days=4)  # the day the euros moved


def test_a_stated_cut_is_its_size_in_euros_with_the_old_price_at_todays_rate() -> None:
    offers = {1: _offer(1, raw_currency="EUR")}
    # EUR 2.00 -> 1.80 (-10 %) while the euro rose: USD 2.30 -> 2.16 (-6.1 %)
    points = _stated(1, {35: ("2.300000", "2.00"), 2: ("2.160000", "1.80")})
    [cut] = price_changes(points, offers, end=END, days=30)
    assert cut["change_pct"] == Decimal("-10.0")
    assert cut["new_price"] == Decimal("2.160000") and cut["old_price"] == Decimal("2.400000")
    assert cut["change_usd"] == Decimal("-0.240000")  # old, new and change agree


def test_aggregator_offers_and_inactive_offers_are_left_out() -> None:
    offers = {1: _offer(1, details={"via": "Lambda"}), 2: _offer(2)}
    points = [
        *_points(1, {10: "2.00", 0: "1.00"}),
        *_points(2, {10: "2.00", 0: "1.50"}),
        *_points(3, {10: "2.00", 0: "1.00"}),  # offer 3 is not active: not in `offers`
    ]
    assert [c["offer_id"] for c in price_changes(points, offers, end=END)] == [2]


def test_ties_are_ordered_the_same_whatever_the_input_order() -> None:
    offers = {i: _offer(i) for i in range(1, 6)}
    points = [
        *_points(1, {10: "2.00", 3: "1.00"}),  # -50 %, day -3
        *_points(2, {10: "2.00", 1: "1.00"}),  # -50 %, day -1: newer, so first among ties
        *_points(3, {10: "1.00", 1: "1.10"}),  # +10 %
        *_points(4, {10: "4.00", 1: "2.00"}),  # -50 %, day -1, provider p4 after p2
        *_points(5, {10: "1.00", 1: "0.90"}),  # -10 %
    ]
    order = [c["offer_id"] for c in price_changes(points, offers, end=END)]
    assert order == [2, 4, 1, 5, 3]  # biggest drop first
    assert [c["offer_id"] for c in price_changes(points[::-1], offers, end=END)] == order


def test_the_cap_keeps_the_biggest_moves_and_counts_the_rest() -> None:
    offers = {i: _offer(i) for i in range(1, 5)}
    points = [
        *_points(1, {10: "1.00", 1: "0.95"}),  # -5 %
        *_points(2, {10: "1.00", 1: "1.40"}),  # +40 %
        *_points(3, {10: "1.00", 1: "0.70"}),  # -30 %
        *_points(4, {10: "1.00", 1: "1.02"}),  # +2 %
    ]
    shown, left_out = top_changes(price_changes(points, offers, end=END), 2)
    assert [c["offer_id"] for c in shown] == [3, 2] and left_out == 2  # shown drop first
    assert top_changes([], 2) == ([], 0)


def test_the_home_page_lists_one_repricing_once_with_its_offers() -> None:
    """A provider that cuts a GPU model everywhere at once is one piece of news on the home
    page, not a line per size and region: listed once, at its cheapest offer. Spot moves
    are not listed there."""
    same = {"provider_slug": "p1", "provider_name": "Provider 1"}
    offers = {
        1: _offer(1, **same, region_code="no", region_name="Norway"),
        2: _offer(2, **same, region_code="us", region_name="United States", instance_type="1x"),
        3: _offer(3, **same, region_code="ca", region_name="Canada"),
        4: _offer(4),
        5: _offer(5, pricing_kind="spot"),
    }
    points = [
        *_points(1, {20: "1.50", 3: "1.35", 0: "1.35"}),
        *_points(2, {20: "1.40", 3: "1.26", 0: "1.26"}),  # the same 10 % cut, cheaper region
        *_points(3, {20: "1.40", 3: "1.30", 0: "1.30"}),  # another share: another move
        *_points(4, {20: "2.00", 9: "1.50", 0: "1.50"}),
        *_points(5, {20: "1.00", 1: "0.50", 0: "0.50"}),
    ]
    changes = price_changes(points, offers, end=END, days=30)
    moves = latest_moves(changes, limit=10)
    assert [(m["offer_id"], len(m["offers"])) for m in moves] == [(2, 2), (3, 1), (4, 1)]
    first = moves[0]
    assert first["regions"] == ["Norway", "United States"] and not first["one_price"]
    assert (first["old_price"], first["new_price"]) == (Decimal("1.40"), Decimal("1.26"))
    assert first["change_pct"] == Decimal("-10.0")
    assert len(latest_moves(changes, limit=1)) == 1


def test_a_held_price_move_never_becomes_a_change(engine: Engine, tmp_path: Path) -> None:
    """A move over 50% is held by the store (quarantine) and never written to history, so
    the change list never shows it; a 10% cut the same night is listed."""
    replay(engine, make_snapshot(tmp_path / "s1", FIXTURE, datetime(2026, 11, 20, 2, tzinfo=UTC)))
    body = json.loads(json.dumps(FIXTURE))
    body["data"]["gpu_8x_h100_sxm5"]["instance_type"]["price_cents_per_hour"] = 2152  # -10 %
    body["data"]["gpu_1x_a10"]["instance_type"]["price_cents_per_hour"] = 20  # -73 %: held
    replay(engine, make_snapshot(tmp_path / "s2", body, datetime(2026, 11, 21, 2, tzinfo=UTC)))
    with engine.connect() as connection:
        end = history.newest_day(connection)
        points = history.window_points(connection, end, 30)
        offers = {o["id"]: o for o in queries.active_offers(connection)}
    changes = price_changes(points, offers, end=end)
    assert end == date(2026, 11, 21)
    assert {(c["instance_type"], c["change_pct"]) for c in changes} == {
        ("gpu_8x_h100_sxm5", Decimal("-10.0"))  # in each of its regions
    }
    assert offer_row(engine, "gpu_1x_a10", "us-east-1").price_per_gpu_usd == Decimal("0.75")


# --- the demo build ---------------------------------------------------------------------


def _run(project: Path, *args: str) -> None:
    result = CliRunner().invoke(
        build_site,
        ["--config", str(project / "sites.toml"), "--site", "cloudgpus", *args],
        env={"DATABASE_URL": f"sqlite:///{project / 'store.db'}"},
    )
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The demo cloudgpus site, with one known change written into its history: an H100
    offer at $2.00 per GPU-hour until the newest day, then $0.80 (a 60 % cut)."""
    project = copy_project(tmp_path_factory.mktemp("changes") / "project")
    if (ROOT / "node_modules").exists():
        os.symlink(ROOT / "node_modules", project / "node_modules")
    _run(project, "--demo", "--skip-build", "--skip-check", "--skip-deploy")
    engine = make_engine(f"sqlite:///{project / 'store.db'}")
    offers_t, history_t = GpuOffer.__table__, GpuPriceHistory.__table__
    with engine.begin() as connection:
        end = connection.execute(select(func.max(history_t.c.day))).scalar_one()
        offer = connection.execute(
            select(offers_t)
            .where(
                offers_t.c.gpu_model_slug == "h100-sxm",
                offers_t.c.provider_slug == "lambda",
                offers_t.c.pricing_kind == "on_demand",
                offers_t.c.is_active.is_(True),
            )
            .order_by(offers_t.c.id)
            .limit(1)
        ).one()
        mine = history_t.c.offer_id == offer.id
        connection.execute(
            update(history_t)
            .where(mine, history_t.c.day < end)
            .values(price_per_gpu_usd=Decimal("2"), stated_price=Decimal(2 * offer.gpu_count))
        )
        connection.execute(
            update(history_t)
            .where(mine, history_t.c.day == end)
            .values(price_per_gpu_usd=Decimal("0.8"), stated_price=Decimal("0.8") * offer.gpu_count)
        )
        connection.execute(
            update(offers_t)
            .where(offers_t.c.id == offer.id)
            .values(price_per_gpu_usd=Decimal("0.8"))
        )
    engine.dispose()
    _run(project, "--skip-pull", "--skip-deploy")
    yield project / "output/cloudgpus", {"offer": offer, "end": end}


def _page(root: Path, url: str) -> html.HtmlElement:
    return html.fromstring((root / url.strip("/") / "index.html").read_bytes())


def _rows(table: html.HtmlElement) -> list[dict[str, str]]:
    return [
        {td.get("data-label"): td.text_content().strip() for td in tr.xpath("./td")}
        for tr in table.xpath("./tbody/tr")
    ]


def test_the_page_lists_a_known_change_with_its_old_and_new_price(demo) -> None:
    root, known = demo
    page = _page(root, "/price-changes/")
    [table] = page.xpath("//table[@data-filters]")
    rows = _rows(table)
    assert rows[0] == {
        "GPU": "NVIDIA H100 SXM",
        "Provider": "Lambda",
        "Change": "\N{MINUS SIGN}60.0%",
        "Old price": "$2.00",
        "New price": "$0.80",
        "Change in $": "\N{MINUS SIGN}$1.20",
        "Changed": f"{known['end'].day} Nov {known['end'].year}",
        "Pricing": "on-demand",
        "Instance": known["offer"].instance_type,
        "Region": rows[0]["Region"],
    }
    heads = {th.text_content(): th for th in table.xpath("./thead/tr/th")}
    assert heads["Changed"].get("data-first") == "desc"  # newest first on the first click
    assert {"GPU", "Provider", "Pricing", "Region"} <= {
        th.get("data-filter") for th in heads.values()
    }
    changed = table.xpath("./tbody/tr[1]/td[@data-label='Changed']/time/@datetime")
    assert changed == [known["end"].isoformat()]  # dates sort by value
    assert page.xpath("//nav//a[@href='/price-changes/']")  # reachable from every page


def test_the_page_is_capped_and_says_how_many_were_left_out(demo) -> None:
    root, _ = demo
    data = json.loads((root / "api/price-changes.json").read_text())
    assert data["count"] > MAX_ROWS  # the invented demo history moves most prices
    page = _page(root, "/price-changes/")
    assert len(page.xpath("//table[@data-filters]/tbody/tr")) == MAX_ROWS
    [note] = [
        p.text_content() for p in page.xpath("//p[@class='note']") if "left out" in p.text_content()
    ]
    assert note.startswith(f"{data['count'] - MAX_ROWS} smaller changes left out")
    assert page.xpath("//a[@href='/api/price-changes.json']")
    first = data["changes"][0]
    assert (first["gpu"], first["old_price_per_gpu_usd"], first["new_price_per_gpu_usd"]) == (
        "h100-sxm",
        "2",
        "0.8",
    )
    assert (root / "data/price-changes.csv").read_text().count("\n") == data["count"] + 1
    assert _page(root, "/open-data/").xpath("//a[@href='/api/price-changes.json']")


def test_the_gpu_page_shows_its_recent_changes(demo) -> None:
    root, _ = demo
    page = _page(root, "/gpus/h100-sxm/")
    [heading] = page.xpath("//h2[.='Recent price changes for this GPU']")
    table = heading.getnext().xpath(".//table")[0]
    rows = _rows(table)
    assert 1 <= len(rows) <= 5 and "GPU" not in rows[0]  # a few rows, no GPU column
    assert ("Lambda", "$2.00", "$0.80") in [
        (r["Provider"], r["Old price"], r["New price"]) for r in rows
    ]
    assert page.xpath("//a[@href='/price-changes/']")


def test_the_pages_lastmod_is_the_newest_change_not_the_build_time(demo) -> None:
    root, known = demo
    urls = {}
    for shard in sorted((root / "sitemaps").glob("*.xml")):
        for url in etree.parse(str(shard)).getroot():
            loc, lastmod = (child.text for child in url)
            urls[loc] = lastmod
    data = json.loads((root / "api/price-changes.json").read_text())
    newest = max(c["changed_on"] for c in data["changes"])
    assert urls["https://cloudgpus.io/price-changes/"] == f"{newest}T00:00:00Z"
    assert newest == known["end"].isoformat()  # the data's day, weeks before this run


def test_demo_history_charts_show_their_numbers(demo) -> None:
    root, _ = demo
    for url in ("/gpus/h100-sxm/", "/providers/lambda/", "/gpus/h100-sxm/lambda/"):
        page = _page(root, url)
        assert page.xpath("//figure[@class='chart-figure']/svg"), url
        [table] = page.xpath("//details[@class='chart-data']//table")
        assert len(table.xpath("./tbody/tr")) >= 2, url


def test_the_home_page_lists_the_newest_moves_with_their_old_price(demo) -> None:
    root, _ = demo
    home = _page(root, "/")
    [heading] = home.xpath("//h2[.='Latest price changes']")
    first = heading.getnext().xpath("./li")[0].text_content()
    assert (
        first.startswith("Lambda ") and "$2.00 → $0.80 per GPU-hour (\N{MINUS SIGN}60.0%)" in first
    )
    assert home.xpath("//a[@href='/price-changes/']")
