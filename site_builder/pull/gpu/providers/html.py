"""Reading prices out of public HTML pricing pages with lxml.

Pages change layout without notice, so columns are found by their header text, never by
position, and a page where the expected table (or grid of ``div`` rows) is gone fails
loudly (the provider's last good prices stay) instead of yielding wrong numbers.

Evidence: this module reads no provider's layout by itself; the shapes it serves are cited
in the adapters that call it (checked 2026-12-04): ``coreweave.py`` (the div grid with
on-demand and spot columns and footnoted GPU counts, per becloudready/gpu-price
``sources/coreweave.py`` and CoreWeave's pricing page https://www.coreweave.com/pricing)
and ``voltagepark.py`` (offer cards with "Contact for pricing", per
https://www.voltagepark.com/pricing and Voltage Park's billing docs). Where those pages'
markup is thinly evidenced, docs/prices.md says so.
Footnote marks (``<sup>1</sup>``, "*", "†") are dropped before a cell is read, so "8<sup>1
</sup>" is 8 GPUs, not 81.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal

import lxml.html

from site_builder.errors import DataError

_DOLLARS = re.compile(r"\$\s*([0-9][0-9,]*(?:\.[0-9]+)?)")
_SPACES = re.compile(r"\s+")


_FOOTNOTE_MARKS = "*†‡§¹²³"


def text_of(element: lxml.html.HtmlElement) -> str:
    return _SPACES.sub(" ", element.text_content()).strip()


def parse_document(body: str, *, provider: str, page: str) -> lxml.html.HtmlElement:
    try:
        return lxml.html.fromstring(body)
    except (ValueError, lxml.etree.ParserError) as exc:
        raise DataError(f"{provider}: {page} is not readable HTML: {exc}") from None


def cell_text(element: lxml.html.HtmlElement) -> str:
    """The text of a cell without its footnote marks (``<sup>`` and trailing *, †, ‡), a
    space between child elements ("<span>InfiniBand</span><a>Contact…</a>" reads as two
    words, as a browser lays the card out)."""
    parts = [element.text or ""]
    for child in element:
        if child.tag != "sup":
            parts.append(" " + cell_text(child) + " ")
        parts.append(child.tail or "")
    return _SPACES.sub(" ", "".join(parts)).strip().rstrip(_FOOTNOTE_MARKS).strip()


def count_of(text: str) -> int | None:
    """ "8" / "8*" / "8 GPUs" -> 8; None when the text holds no whole number."""
    match = re.match(r"\s*([0-9]+)", text.rstrip(_FOOTNOTE_MARKS))
    return int(match.group(1)) if match else None


def table_rows(
    body: str, columns: Mapping[str, tuple[str, ...]], *, provider: str, page: str
) -> list[dict[str, str]]:
    """Rows of every table having all `columns`, as {column: cell text}.

    `columns` maps our name for a column to header texts that mean it (compared
    case-insensitively, as prefixes of the header text).
    """
    document = parse_document(body, provider=provider, page=page)
    rows: list[dict[str, str]] = []
    found = False
    for table in document.iter("table"):
        header_cells = table.xpath("./thead/tr[1]/th | ./thead/tr[1]/td")
        body_rows = table.xpath("./tbody/tr") or table.xpath("./tr")[1:]
        if not header_cells:
            first = table.xpath("./tr[1]")
            header_cells = first[0].xpath("./th | ./td") if first else []
        headers = [text_of(cell).casefold() for cell in header_cells]
        positions: dict[str, int] = {}
        for name, prefixes in columns.items():
            for index, header in enumerate(headers):
                if any(header.startswith(prefix.casefold()) for prefix in prefixes):
                    positions[name] = index
                    break
        if len(positions) != len(columns):
            continue
        found = True
        for row in body_rows:
            cells = [text_of(cell) for cell in row.xpath("./th | ./td")]
            if len(cells) < len(headers):
                continue  # a section heading row spanning the table
            rows.append({name: cells[index] for name, index in positions.items()})
    if not found:
        wanted = ", ".join(f"'{p[0]}'" for p in columns.values())
        raise DataError(
            f"{provider}: {page} has no table with columns {wanted}; the page layout changed"
        )
    return rows


def dollars(text: str, *, provider: str, where: str) -> Decimal | None:
    """ "$49.24/hr" -> Decimal("49.24"); None when the cell holds no price ("Contact us")."""
    match = _DOLLARS.search(text)
    if match is None:
        return None
    return Decimal(match.group(1).replace(",", ""))
