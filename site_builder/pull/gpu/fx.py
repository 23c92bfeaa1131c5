"""ECB euro reference rates: fetched with the prices, stored by date, used to convert.

The ECB publishes one XML file a working day (around 16:00 CET):
``<gesmes:Envelope><Cube><Cube time="2026-11-20"><Cube currency="USD" rate="1.0812"/>…``
with each rate in units of the currency per euro. A price in currency C converts to USD
as ``price * USD_per_EUR / C_per_EUR``. Weekends and holidays have no file of their own,
so conversion uses the latest rates at most a week old; an offer without one is
quarantined (``fx_missing``), it does not fail the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

import lxml.etree
from sqlalchemy import Connection, func, select

from site_builder.db.models import FxRate
from site_builder.db.upsert import upsert
from site_builder.errors import DataError
from site_builder.pull.gpu.http import Http
from site_builder.pull.gpu.offer import RawResponse
from site_builder.pull.gpu.providers.base import record

ECB_URL = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"
ECB_NAMESPACE = "http://www.ecb.int/vocabulary/2002-08-01/eurofxref"
ARCHIVE_NAME = "ecb"  # the name of the rates in a price snapshot
MAX_RATE_AGE = timedelta(days=7)
fx_t = FxRate.__table__


def ecb_url(base_url: str | None = None) -> str:
    """The ECB file's URL, or the same path on `base_url` (a local fake, a mirror)."""
    if base_url is None:
        return ECB_URL
    return base_url.rstrip("/") + ECB_URL.removeprefix("https://www.ecb.europa.eu")


async def fetch_rates(http: Http, url: str = ECB_URL) -> list[RawResponse]:
    return [record("eurofxref-daily", await http.get(url))]


def parse_rates(body: str) -> tuple[date, dict[str, Decimal]]:
    """The day and {currency: units per EUR} of one ECB daily file."""
    try:
        root = lxml.etree.fromstring(
            body.encode(), parser=lxml.etree.XMLParser(resolve_entities=False)
        )
    except lxml.etree.XMLSyntaxError as exc:
        raise DataError(f"ECB rates: not valid XML: {exc}") from None
    days = root.findall(f".//{{{ECB_NAMESPACE}}}Cube[@time]")
    if len(days) != 1:
        raise DataError(f"ECB rates: expected one dated Cube, found {len(days)}")
    try:
        day = date.fromisoformat(days[0].get("time", ""))
    except ValueError:
        raise DataError(f"ECB rates: bad date {days[0].get('time')!r}") from None
    rates: dict[str, Decimal] = {}
    for cube in days[0].findall(f"{{{ECB_NAMESPACE}}}Cube"):
        currency, rate = cube.get("currency"), cube.get("rate")
        try:
            value = Decimal(rate or "")
        except InvalidOperation:
            raise DataError(f"ECB rates: {currency}: bad rate {rate!r}") from None
        if not currency or len(currency) != 3 or value <= 0:
            raise DataError(f"ECB rates: bad entry {currency!r} = {rate!r}")
        rates[currency] = value
    if "USD" not in rates:
        raise DataError("ECB rates: no USD rate in the file")
    return day, rates


def store_rates(connection: Connection, day: date, rates: Mapping[str, Decimal]) -> None:
    upsert(
        connection,
        fx_t,
        [
            {"day": day, "currency": c, "per_eur": r, "source": "ecb"}
            for c, r in sorted(rates.items())
        ],
        key=["day", "currency"],
    )


def usd_per_unit(connection: Connection, on: date) -> dict[str, Decimal]:
    """USD for one unit of each currency, from the latest rates on or before `on` (and at
    most a week old)."""
    latest = connection.execute(
        select(func.max(fx_t.c.day)).where(fx_t.c.day <= on, fx_t.c.day >= on - MAX_RATE_AGE)
    ).scalar()
    if latest is None:
        return {}
    per_eur = {
        row.currency: Decimal(row.per_eur)
        for row in connection.execute(select(fx_t).where(fx_t.c.day == latest))
    }
    usd = per_eur.get("USD")
    if usd is None:
        return {}
    return {"EUR": usd} | {c: usd / r for c, r in per_eur.items() if c != "USD"}
