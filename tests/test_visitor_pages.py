"""What visitors see, as pure functions: place names, one page per place, unique titles,
the web manifest and editors' tables (the browser checks are in test_visitor_pages_browser)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from site_builder.check.scan import HtmlFacts
from site_builder.check.titles import check_unique_titles
from site_builder.render import web_manifest
from site_builder.render.content import render_body
from site_builder.sites.bestvpnserver.load import whole_country_cities
from site_builder.sites.bestvpnserver.pages.provider import provider_city_page
from site_builder.sites.cloudgpus.regions import region_label, with_region_labels


def test_raw_region_codes_become_places() -> None:
    assert region_label("vast", "br", "BR", "BR") == "Brazil"
    assert region_label("hyperstack", "canada-1", "CANADA-1", "CA") == "Canada"
    assert region_label("hyperstack", "canada-2", "CANADA-2", "CA") == "Canada 2"
    assert region_label("cudo", "us-santaclara-1", "us-santaclara-1", "US") == (
        "Santa Clara, United States"
    )
    assert region_label("gcp", "europe-west4", "europe-west4", None) == "Netherlands"
    # a provider's own readable name stays; a code with no country stays as it is
    assert region_label("lambda", "us-east-1", "Virginia, USA", None) == "Virginia, USA"
    assert region_label("oci", "weird-9", "weird-9", None) == "weird-9"
    offers = [
        {"provider_slug": "vast", "region_code": "de", "region_name": "DE", "region_country": "DE"}
    ]
    assert with_region_labels(offers)[0]["region_name"] == "Germany"


def _server(country: str, city: str | None) -> dict[str, str | None]:
    return {"country_slug": country, "city_slug": city}


def test_a_city_that_is_its_whole_country_gets_no_page_of_its_own() -> None:
    stats = [
        _server("singapore", "singapore"),
        _server("singapore", "singapore"),
        _server("germany", "berlin"),
        _server("germany", "frankfurt"),
        _server("luxembourg", "luxembourg"),
        _server("iceland", None),
    ]
    assert whole_country_cities(stats) == {
        ("singapore", "singapore"),
        ("luxembourg", "luxembourg"),
    }
    gate = SimpleNamespace(min_servers=2)
    three, two = [{}] * 3, [{}] * 2
    assert provider_city_page(two, three, gate)  # a real part of the country
    assert not provider_city_page(three, three, gate)  # every server there: the same page
    assert not provider_city_page([{}], three, gate)  # too few


def _page(url: str, title: str, description: str, noindex: bool = False) -> HtmlFacts:
    return HtmlFacts(url.lstrip("/") + "index.html", (), None, noindex, title, description)


def test_titles_and_descriptions_must_be_unique_among_indexable_pages() -> None:
    pages = [
        _page("/a/", "NordVPN in Singapore", "One."),
        _page("/b/", "NordVPN in Singapore", "Two."),
        _page("/c/", "Search", "Two.", noindex=True),  # noindex pages are not results
        _page("/d/", "Other", "Three."),
    ]
    [problem] = check_unique_titles(pages)
    assert problem == "2 pages share the title 'NordVPN in Singapore': /a/, /b/"
    assert check_unique_titles(pages[2:]) == []


def test_the_manifest_names_the_site_and_its_icon() -> None:
    manifest = json.loads(web_manifest("CloudGPUs", "GPU prices.", {"favicon.svg": "/a/f.svg"}))
    assert manifest["name"] == "CloudGPUs" and manifest["start_url"] == "/"
    assert manifest["icons"] == [{"src": "/a/f.svg", "sizes": "any", "type": "image/svg+xml"}]


def test_editors_tables_scroll_in_a_wrapper_and_sort(tmp_path: Path) -> None:
    markdown = "| GPU | Price |\n| --- | --- |\n| A | 1 |"
    html = str(render_body(tmp_path / "x.md", markdown, 1, {}, None).html)
    assert '<div class="table-wrap"><table class="sortable">' in html
    assert html.count("</table></div>") == 1
