"""Voltage Park H100 (and newer) clusters, read from the public pricing page (no price API).

Sources (checked 2026-12-04):
- The page, https://www.voltagepark.com/pricing, as reported in issue 28 (checked against
  the live page by the issue's author): **offer cards**, no table; per-GPU-hour H100
  prices that differ by network fabric (Ethernet vs InfiniBand); "Contact for pricing"
  for reserved capacity and, lately, often for on-demand too; no reserved price and no
  B200 price on the page.
- Billing is per GPU-hour: "8 GPUs at $3.00 per GPU/hr" in
  https://docs.voltagepark.com/voltage-park-on-demand/getting-started/how-billing-works

Page quirks:
- A card is an element whose class names a card (``card``) and that holds a heading
  (h2-h4: the offer's title, e.g. "On-demand H100" or "Reserved clusters"). Inside, each
  list item (``li``) is one option: a fabric name and its price ("$2.25/GPU/hr"). A card
  without list items is one option.
- The GPU is the text of the card's element whose class names ``gpu``, or else the first
  GPU model named in the card ("H100 SXM5 80GB", "B200"); the count per node is read from
  "8 GPUs per node" / "8x" when stated, else 1 (prices are per GPU either way).
- "Contact for pricing" / "Contact us" / "Contact sales" is a **price on request**: stored
  as such, never as a number. A card whose title says "Reserved" is the reserved kind
  (term read from "1 year", "3-month" … when stated, else "" = unstated); others are on
  demand.
- Data centres are in the US only and share one price: the pseudo-region ``us``. No
  availability data beyond the page's own words, which we do not read.
- If no card with a GPU is found the pull fails for this provider; its last prices stay.
- Unverified: the exact class names of today's cards and the fabric labels (no saved copy
  of the current page is public); the parser keys on "card", headings, ``li`` and text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import lxml.html

from site_builder.errors import DataError
from site_builder.pull.gpu.http import Http
from site_builder.pull.gpu.offer import ParsedOffer, PricingKind, RawResponse
from site_builder.pull.gpu.providers.base import Adapter, record, response_named
from site_builder.pull.gpu.providers.html import cell_text, dollars, parse_document

PAGE_URL = "https://www.voltagepark.com/pricing"
CARDS = (
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' card ')"
    " or contains(@class, 'pricing-card') or contains(@class, 'offer-card')]"
    "[.//h2 or .//h3 or .//h4]"
)
GPU_WORDS = re.compile(r"\b((?:GB|B|H)[0-9]{3}[A-Z]*(?: (?:SXM|NVL|PCIe)[0-9]*)?(?: [0-9]+GB)?)")
PER_NODE = re.compile(r"([0-9]+)\s*(?:x\b|GPUs? per node|-GPU)", re.I)
TERM = re.compile(r"([0-9]+)[\s-]*(month|year)", re.I)
CONTACT = ("contact", "request", "talk to")
SEPARATORS = " :-\u2013\u2014"  # and the en and em dashes


def _term(text: str) -> str:
    match = TERM.search(text)
    if not match:
        return ""
    return f"{match.group(1)}{'y' if match.group(2).lower() == 'year' else 'mo'}"


class VoltageParkAdapter(Adapter):
    slug = "voltagepark"
    name = "Voltage Park"
    website = "https://www.voltagepark.com"
    pricing_source = "html"

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        response = await http.get(self.url(PAGE_URL), headers={"Accept": "text/html"})
        return [record("pricing-page", response)]

    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        page = response_named(responses, self.slug, "pricing-page")
        document = parse_document(page.body, provider=self.slug, page="the pricing page")
        offers: list[ParsedOffer] = []
        cards = 0
        for card in document.xpath(CARDS):
            if card.xpath(
                "ancestor::*[self::div or self::article or self::section][contains(@class, 'card')]"
            ):
                continue  # a card inside a card: read with its parent
            card_offers = self._card(card, page)
            if card_offers is not None:
                cards += 1
                offers.extend(card_offers)
        if not cards:
            raise DataError(
                f"{self.slug}: the pricing page has no offer card naming a GPU;"
                " the page layout changed"
            )
        return offers

    def _card(self, card: lxml.html.HtmlElement, page: RawResponse) -> list[ParsedOffer] | None:
        """The card's offers ([] when it states no price), None when it names no GPU."""
        title = cell_text(card.xpath(".//h2 | .//h3 | .//h4")[0])
        text = cell_text(card)
        named = card.xpath(".//*[contains(@class, 'gpu')]")
        gpu_match = GPU_WORDS.search(text)
        gpu = cell_text(named[0]) if named else (gpu_match.group(1) if gpu_match else "")
        if not gpu:
            return None  # a card about something else (storage, support)
        per_node = PER_NODE.search(text)
        count = int(per_node.group(1)) if per_node else 1
        reserved = "reserv" in title.casefold()
        kind: PricingKind = "reserved" if reserved else "on_demand"
        term = _term(text) if reserved else ""
        options = card.xpath(".//li") or [card]
        offers = []
        for option in options:
            option_text = cell_text(option)
            price = dollars(option_text, provider=self.slug, where=f"card {title!r}")
            on_request = price is None and any(w in option_text.casefold() for w in CONTACT)
            if price is None and not on_request:
                continue  # a feature bullet, not a price
            fabric = option_text.split("$")[0].strip(SEPARATORS) if option is not card else ""
            if on_request and option is not card:
                fabric = re.split(r"(?i)contact|request", option_text)[0].strip(SEPARATORS)
            name = f"{title} ({fabric})" if fabric else title
            offers.append(
                ParsedOffer(
                    provider=self.slug,
                    instance_type=name[:120],
                    raw_gpu_name=gpu,
                    gpu_count=count,
                    region_code="us",
                    region_name="United States",
                    region_country="US",
                    pricing_kind=kind,
                    reserved_term=term,
                    price=price,
                    price_on_request=on_request,
                    price_basis="gpu",
                    currency="USD",
                    raw_price=option_text[:40],
                    raw_unit="USD / GPU-hour (pricing page)",
                    observed_at=page.fetched_at,
                    details={"fabric": fabric or None},
                )
            )
        return offers
