"""The bundled demo snapshot: every provider, evidence-shaped, replayed into the same
offers the fakes give live, and 90 days of invented, deterministic history for charts."""

from __future__ import annotations

import asyncio
import gzip
import json
from pathlib import Path

import httpx
from sqlalchemy import Engine, func, select

from site_builder.db.models import GpuOffer, GpuPriceHistory
from site_builder.pull.gpu import demo_history, pull_prices, snapshot
from site_builder.pull.gpu.catalog import load_catalog
from site_builder.pull.gpu.http import Http
from site_builder.pull.gpu.providers import all_adapters
from tests.fake_gpu_apis import mock_transport

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "data/demo/gpu-snapshot"
NEBIUS_TABLE = ROOT / "data/gpu_prices/nebius.toml"
CATALOG = load_catalog(ROOT / "data/gpu_catalog.toml")
offers_t = GpuOffer.__table__
history_t = GpuPriceHistory.__table__


def test_the_snapshot_holds_every_provider_with_real_hosts_and_no_keys() -> None:
    manifest = snapshot.read_manifest(SNAPSHOT)
    slugs = {a.slug for a in all_adapters(NEBIUS_TABLE)}
    assert len(slugs) >= 30
    assert set(manifest["providers"]) == slugs | {"ecb"}  # type: ignore[arg-type]
    for path in SNAPSHOT.glob("*.json.gz"):
        document = json.loads(gzip.decompress(path.read_bytes()))
        for response in document["responses"]:
            assert "127.0.0.1" not in response["url"] and response["url"] != "demo"
            assert "Bearer demo" not in json.dumps(response)


def test_the_snapshot_parses_into_offers_of_every_provider_and_24_models() -> None:
    models: set[str] = set()
    for adapter in all_adapters(NEBIUS_TABLE):
        offers = adapter.parse(snapshot.read_provider(SNAPSHOT, adapter.slug))
        assert offers, adapter.slug
        models |= {CATALOG.resolve(adapter.slug, o.raw_gpu_name) for o in offers} - {None}
    assert len(models) >= 24


def test_the_snapshot_is_what_the_fakes_answer_today() -> None:
    """Replaying the archive gives the same offers as fetching from the fakes now."""

    async def live(slug: str) -> list:  # type: ignore[type-arg]
        adapter = next(a for a in all_adapters(NEBIUS_TABLE) if a.slug == slug)
        async with httpx.AsyncClient(transport=mock_transport()) as client:
            env = {n: "demo" for n in adapter.credential_env}
            return adapter.parse(await adapter.fetch(Http(client), adapter.credentials(env)))

    for slug in ("vultr", "linode", "shadeform", "primeintellect", "novita", "crusoe"):
        adapter = next(a for a in all_adapters(NEBIUS_TABLE) if a.slug == slug)
        replayed = adapter.parse(snapshot.read_provider(SNAPSHOT, slug))
        fresh = asyncio.run(live(slug))
        strip = lambda offers: sorted(  # noqa: E731
            (o.key, o.price, o.gpu_count, o.raw_gpu_name) for o in offers
        )
        assert strip(replayed) == strip(fresh), slug


def test_demo_history_gives_90_days_before_the_snapshot_deterministically(
    engine: Engine,
) -> None:
    report = pull_prices(engine, all_adapters(NEBIUS_TABLE), CATALOG, snapshot_dir=SNAPSHOT)
    assert len(report.results) >= 30 and {r.status for r in report.results} == {"ok"}
    added = demo_history.backfill(engine)
    with engine.connect() as connection:
        first, last = connection.execute(
            select(func.min(history_t.c.day), func.max(history_t.c.day))
        ).one()
        rows = connection.execute(
            select(history_t.c.offer_id, history_t.c.day, history_t.c.price_per_gpu_usd).order_by(
                history_t.c.offer_id, history_t.c.day
            )
        ).all()
        current = dict(
            connection.execute(select(offers_t.c.id, offers_t.c.price_per_gpu_usd)).all()
        )
    assert (last - first).days == 90
    assert added > 0 and demo_history.backfill(engine) == added  # same rows, none overwritten
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(history_t)).scalar() == len(rows)
    for offer_id, _day, price in rows:
        assert 0.6 * float(current[offer_id]) <= float(price) <= 1.4 * float(current[offer_id])
    with engine.connect() as connection:
        unstated = connection.execute(
            select(func.count()).select_from(history_t).where(history_t.c.stated_price.is_(None))
        ).scalar()
        eur_days = connection.execute(
            select(func.count(func.distinct(history_t.c.day))).where(
                history_t.c.stated_currency == "EUR"
            )
        ).scalar()
    # invented days state a price too (EUR offers' in euros), so a demo build's changes are
    # the provider's moves, never the exchange rate's
    assert unstated == 0 and eur_days == 91
    # a provider re-prices a GPU model everywhere at once: same day, same share, every region
    # and term; spot prices and marketplace medians drift on their own
    with engine.connect() as connection:
        series: dict[int, list[float]] = {}
        for offer_id, _day, price in rows:
            series.setdefault(offer_id, []).append(float(price) / float(current[offer_id]))
        offers = connection.execute(
            select(
                offers_t.c.id,
                offers_t.c.provider_slug,
                offers_t.c.gpu_model_slug,
                offers_t.c.pricing_kind,
                offers_t.c.instance_type,
            )
        ).all()
    by_model: dict[tuple[str, str], set[tuple[float, ...]]] = {}
    for offer in offers:
        if not demo_history.drifts(offer.pricing_kind, offer.instance_type):
            shape = tuple(round(f, 4) for f in series[offer.id])
            by_model.setdefault((offer.provider_slug, offer.gpu_model_slug), set()).add(shape)
    assert by_model and all(len(shapes) == 1 for shapes in by_model.values())
    still = sum(1 for [shape] in by_model.values() if len(set(shape)) == 1)
    assert 0.3 < still / len(by_model) < 0.7  # about half the models kept their list price
    assert demo_history.drifts("spot", "p5.48xlarge")
    assert demo_history.drifts("on_demand", "H100 SXM (marketplace)")
    assert demo_history.repricings("lambda/h100-sxm", 90) == demo_history.repricings(
        "lambda/h100-sxm", 90
    )
