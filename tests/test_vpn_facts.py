"""bestvpnserver's provider facts (data/vpn/provider_facts.toml), the link out to each
provider, % unblocked on streaming pages and the upload and latency history charts."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from lxml import html
from sqlalchemy import update

from site_builder.cli import build_site
from site_builder.db import make_engine
from site_builder.db.models import VpnProvider
from site_builder.pull.servers.providers import ADAPTERS
from site_builder.sites.bestvpnserver.facts import (
    FactsError,
    load_facts,
    parse_facts,
    read_facts,
)
from site_builder.sites.bestvpnserver.pages.provider import visit_link
from site_builder.sites.bestvpnserver.pages.streaming import unblocked_share
from tests.conftest import copy_project

ROOT = Path(__file__).resolve().parent.parent
FACTS = ROOT / "data/vpn/provider_facts.toml"

GOOD = """
[mullvad.price]
monthly = "5.00"
currency = "EUR"
plan = "1 month"
source = "https://mullvad.net/en/pricing"
checked = 2026-12-01

[mullvad.logging]
summary = "No activity logs"
audit_url = "https://example.org/audit.pdf"
source = "https://mullvad.net/en/help/privacy-policy"
checked = 2026-12-02
"""


# --- the loader -------------------------------------------------------------------------


def test_a_facts_file_gives_each_providers_facts_with_source_and_checked_day() -> None:
    facts = parse_facts(GOOD, "facts.toml")
    mullvad = facts["mullvad"]
    assert str(mullvad.price.monthly) == "5.00" and mullvad.price.currency == "EUR"
    assert mullvad.price.checked == date(2026, 12, 1)
    assert mullvad.logging.audit_url == "https://example.org/audit.pdf"
    assert mullvad.refund is None and mullvad.present() == ["price", "logging"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[mullvad.price\n", "facts.toml: invalid TOML"),
        (
            GOOD.replace('monthly = "5.00"', "monthly = 4.99"),
            "facts.toml: mullvad.price.monthly: write the price as text",
        ),
        (
            GOOD.replace("https://mullvad.net/en/pricing", "http://mullvad.net/en/pricing"),
            "facts.toml: mullvad.price.source: must be an https:// URL",
        ),
        (GOOD.replace("checked = 2026-12-01\n", ""), "facts.toml: mullvad.price.checked:"),
        (GOOD.replace('plan = "1 month"', 'plan = "1 month"\nplna = "x"'), "mullvad.price.plna"),
        (
            '[nordvpn.refund]\ndays = -1\nsource = "https://x.example"\nchecked = 2026-12-01\n',
            "facts.toml: nordvpn.refund.days:",
        ),
        ("[Mullvad.refund]\ndays = 1\n", "facts.toml: Mullvad: a provider slug is"),
        ("mullvad = 3\n", "facts.toml: mullvad: expected a table"),
    ],
)
def test_a_broken_entry_is_an_error_naming_the_file_and_the_entry(text: str, message: str) -> None:
    with pytest.raises(FactsError) as raised:
        parse_facts(text, "facts.toml")
    assert message in str(raised.value)


def test_a_broken_or_missing_file_becomes_a_problem_and_no_facts(tmp_path: Path) -> None:
    broken = tmp_path / "provider_facts.toml"
    broken.write_text(GOOD.replace('currency = "EUR"', 'currency = "euro"'))
    facts = load_facts(broken)
    assert facts.by_provider == {}
    assert facts.problem is not None
    assert f"{broken}: mullvad.price.currency" in facts.problem
    missing = load_facts(tmp_path / "nowhere.toml")
    assert missing.by_provider == {} and "not found" in (missing.problem or "")
    assert load_facts(None).by_provider == {} and load_facts(None).problem is None


def test_a_slug_no_server_list_knows_is_reported_not_dropped_silently(tmp_path: Path) -> None:
    typo = tmp_path / "provider_facts.toml"
    typo.write_text(GOOD.replace("[mullvad", "[mulvad"))
    facts = load_facts(typo, {"mullvad", "nordvpn"})
    assert facts.by_provider == {}
    assert facts.problem == (
        f"provider facts left out: {typo}: [mulvad]: no server list names this provider"
        " (the slugs are mullvad, nordvpn)"
    )
    assert load_facts(typo).by_provider.keys() == {"mulvad"}  # no list to check against


# Other domains a provider's own pages live on, each with its evidence: Proton AG's terms
# cover "the proton.me or protonvpn.com website" (https://proton.me/legal/terms).
ALSO_OWN = {"protonvpn": ("proton.me",)}


def test_the_checked_in_file_names_only_known_providers_and_cites_their_own_pages() -> None:
    facts = read_facts(FACTS)
    known = {adapter.slug: adapter for adapter in ADAPTERS}
    assert facts and set(facts) <= set(known)
    for slug, entry in facts.items():
        # the provider's own site (its domain, or a help centre under it)
        domain = re.sub(r"^https://(www\.)?", "", known[slug].website).split(".")[0]
        own = (domain, *ALSO_OWN.get(slug, ()))
        for kind in entry.present():
            fact = getattr(entry, kind)
            host = fact.source.split("/")[2]
            assert any(name in host for name in own), (slug, kind, fact.source)
            assert fact.checked <= date.today()


# --- % unblocked -------------------------------------------------------------------------


def test_unblocked_share_leaves_errored_checks_out() -> None:
    statuses = ["unblocked", "error", "blocked", "originals_only", "error", "unblocked"]
    share, answered = unblocked_share(statuses)
    assert answered == 4 and share == 0.5  # 2 of the 4 that answered; the errors are no answer
    assert unblocked_share(["error", "error"]) == (None, 0)  # no answer is not 0 %
    assert unblocked_share([]) == (None, 0)
    assert unblocked_share(["blocked"]) == (0.0, 1)


def test_the_link_out_is_the_affiliate_link_marked_sponsored_else_the_website() -> None:
    website = {"website": "https://mullvad.net", "affiliate_url": None}
    assert visit_link("Mullvad", website) == {
        "name": "Mullvad",
        "url": "https://mullvad.net",
        "sponsored": False,
    }
    affiliate = {"website": "https://x.example", "affiliate_url": "https://go.example/x"}
    assert visit_link("X", affiliate)["sponsored"] is True
    assert visit_link("X", affiliate)["url"] == "https://go.example/x"
    assert visit_link("X", None) is None


# --- the built site ----------------------------------------------------------------------


def _build(project: Path, *args: str) -> Result:
    return CliRunner().invoke(
        build_site,
        [
            "--config",
            str(project / "sites.toml"),
            "--site",
            "bestvpnserver",
            "--skip-deploy",
            "--jobs",
            "1",
            *args,
        ],
        env={"DATABASE_URL": f"sqlite:///{project / 'store.db'}", "NETLIFY_AUTH_TOKEN": ""},
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """bestvpnserver built from the demo data, with an affiliate link set for Surfshark."""
    project = copy_project(tmp_path_factory.mktemp("facts") / "project")
    first = _build(project, "--demo")
    assert first.exit_code == 0, first.output
    engine = make_engine(f"sqlite:///{project / 'store.db'}")
    with engine.begin() as connection:
        connection.execute(
            update(VpnProvider)
            .where(VpnProvider.slug == "surfshark")
            .values(affiliate_url="https://surfshark.example/deal?ref=1")
        )
    engine.dispose()
    second = _build(project, "--skip-pull")
    assert second.exit_code == 0, second.output
    yield project


def _page(project: Path, url: str) -> html.HtmlElement:
    return html.fromstring(
        (project / "output/bestvpnserver" / url.strip("/") / "index.html").read_bytes()
    )


def _text(element: html.HtmlElement) -> str:
    return re.sub(r"\s+", " ", element.text_content())


def test_a_provider_page_shows_its_facts_with_sources_and_checked_days(site: Path) -> None:
    page = _page(site, "/providers/mullvad/")
    facts = page.xpath("//h2[@id='facts']/following-sibling::dl[1]")[0]
    text = _text(facts)
    assert "Jurisdiction Sweden (source, checked 5 Dec 2026)" in text
    assert "Logging policy Never stores activity logs" in text
    assert "Cheapest plan 5.00 EUR a month (1 month, no long-term discount)" in text
    assert "Refund window not stated" in text  # no evidence found: said, not invented
    assert "https://mullvad.net/en/policies" in facts.xpath(".//a/@href")
    assert facts.xpath(".//time/@datetime")[0] == "2026-12-05"
    # the link out to the provider's own website (no affiliate link: not sponsored)
    visit = page.xpath("//a[starts-with(., 'Visit Mullvad')]")[0]
    assert visit.get("href") == "https://mullvad.net" and visit.get("rel") is None


def test_a_provider_without_facts_says_so_and_an_affiliate_link_is_sponsored(site: Path) -> None:
    airvpn = _page(site, "/providers/airvpn/")
    assert not airvpn.xpath("//h2[@id='facts']/following-sibling::dl")
    assert "We have not yet checked AirVPN's price, refund window" in _text(airvpn)
    surfshark = _page(site, "/providers/surfshark/")
    visit = surfshark.xpath("//a[starts-with(., 'Visit Surfshark')]")[0]
    assert visit.get("href") == "https://surfshark.example/deal?ref=1"
    assert visit.get("rel") == "sponsored nofollow"
    assert "Refund window 30 days" in _text(surfshark)


def test_the_providers_hub_compares_every_providers_facts(site: Path) -> None:
    hub = _page(site, "/providers/")
    table = hub.xpath("//h2[@id='facts']/following::table[1]")[0]
    rows = {  # each row's header is the provider (th scope=row): screen readers name the row
        _text(tr.xpath("th[@scope='row']")[0]).strip(): [_text(td).strip() for td in tr.xpath("td")]
        for tr in table.xpath(".//tbody/tr")
    }
    assert rows["Mullvad"][2].startswith("Sweden (source, 5 Dec 2026)")
    assert rows["Proton VPN"][2].startswith("Switzerland (source, 5 Dec 2026)")
    assert rows["AirVPN"] == ["not stated"] * 4
    assert rows["Surfshark"][1].startswith("30 days")


def test_streaming_pages_show_the_share_unblocked_over_answered_checks(site: Path) -> None:
    page = _page(site, "/streaming/netflix/")
    assert "Checks that errored gave no answer and are left out of the share" in _text(page)
    table = page.xpath("//h2[.='By provider']/following::table[1]")[0]
    heads = [_text(th).strip() for th in table.xpath(".//thead//th")]
    column = {name: i for i, name in enumerate(heads)}
    checked = 0
    for tr in table.xpath(".//tbody/tr"):
        cells = [_text(td).strip() for td in tr.xpath("td")]
        unblocked, originals, blocked = (
            int(cells[column[name]]) for name in ("Unblocked", "Originals only", "Blocked")
        )
        answered = unblocked + originals + blocked  # the errors are not in it
        expected = f"{unblocked / answered * 100:.0f}%" if answered else "no answer"
        assert cells[column["% unblocked"]] == expected
        checked += 1
    assert checked
    hub = _text(_page(site, "/streaming/"))
    assert re.search(r"\d+% of [\d,]+ answered checks unblocked", hub)


def test_upload_and_latency_history_charts_appear_where_there_is_data(site: Path) -> None:
    provider = _page(site, "/providers/mullvad/")
    titles = [svg.findtext("title") for svg in provider.iter("svg")]
    assert "Median upload, Mullvad VPN servers" in titles
    assert "Median latency, Mullvad VPN servers" in titles
    server_url = provider.xpath("//a[starts-with(@href, '/servers/mullvad/')]/@href")[0]
    server = _page(site, server_url)
    titles = [svg.findtext("title") for svg in server.iter("svg")]
    assert any(t.startswith("Daily median upload of ") for t in titles)
    # the upload numbers behind it are in the daily table
    head = [
        _text(th).strip() for th in server.xpath("//h2[.='Daily medians']/following::thead[1]//th")
    ]
    assert head == ["Day", "Download", "Upload", "Latency"]


def test_a_broken_facts_file_is_reported_and_the_site_still_builds(
    site: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    shutil.copytree(site, project, symlinks=True)
    facts = project / "data/vpn/provider_facts.toml"
    refund = "[surfshark.refund]\ndays = 30\n"  # only this entry: PIA's refund is 30 days too
    assert refund in facts.read_text()
    facts.write_text(facts.read_text().replace(refund, refund.replace("30", "30.5")))
    result = _build(project, "--skip-pull")
    assert result.exit_code == 0, result.output
    assert "warning: bestvpnserver: provider facts left out:" in result.output
    assert "surfshark.refund.days" in result.output
    mullvad = _page(project, "/providers/mullvad/")
    assert "We have not yet checked Mullvad's price" in _text(mullvad)
    assert _page(project, "/streaming/netflix/") is not None  # the rest is built as before
    again = _build(project, "--skip-pull")  # nothing changed: the site is skipped...
    assert again.exit_code == 0, again.output
    assert "provider facts left out:" in again.output  # ...and the problem still reported
