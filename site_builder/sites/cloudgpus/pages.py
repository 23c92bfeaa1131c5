"""cloudgpus page kinds: home, GPU hub and pages, GPU at a provider, provider hub and pages,
provider vs provider, GPU vs GPU, region pages, and the methodology and open-data pages.

`load` reads the current offers, providers and price history once per build; each kind
turns that into pages. On-demand, spot and reserved prices are never mixed in one figure:
headlines use on-demand prices.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import combinations
from typing import Any

import pycountry
from markupsafe import Markup
from slugify import slugify
from sqlalchemy import Connection

from site_builder.build.charts import Series, line_chart
from site_builder.build.datafiles import csv_file, json_file
from site_builder.build.page import Breadcrumb, Page
from site_builder.build.render import usd
from site_builder.build.writer import Content
from site_builder.config import SiteConfig
from site_builder.sites.cloudgpus import queries

HOME = Breadcrumb("Home", "/")
GPUS = Breadcrumb("GPUs", "/gpus/")
PROVIDERS = Breadcrumb("Providers", "/providers/")
KINDS = ("on_demand", "spot", "reserved")


@dataclass(frozen=True)
class Dataset:
    offers: list[dict[str, Any]]
    models: dict[str, dict[str, Any]]  # slug -> model, only models with offers
    providers: dict[str, dict[str, Any]]  # slug -> provider with pull health
    history: dict[str, list[dict[str, Any]]]  # model slug -> daily points
    as_of: datetime


def fingerprint(connection: Connection) -> list[Any]:
    return queries.fingerprint(connection)


def load(connection: Connection, site: SiteConfig, jobs: int = 1) -> Dataset | None:
    """Everything the pages need (small enough to read on one process whatever `jobs`)."""
    offers = queries.active_offers(connection)
    if not offers:
        return None
    with_offers = {o["gpu_model_slug"] for o in offers}
    history: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in queries.price_history(connection):
        history[row["gpu_model_slug"]].append(row)
    with_offer_providers = {o["provider_slug"] for o in offers}
    return Dataset(
        offers=offers,
        models={m["slug"]: m for m in queries.gpu_models(connection) if m["slug"] in with_offers},
        providers={
            p["slug"]: p
            for p in queries.providers_with_health(connection)
            if p["slug"] in with_offer_providers
        },
        history=dict(history),
        as_of=max(o["last_seen_at"] for o in offers),
    )


def figures(offers: list[dict[str, Any]]) -> dict[str, Any]:
    """Min / median / max per pricing kind, sample sizes and freshness of a set of offers."""
    by_kind: dict[str, Any] = {}
    for kind in KINDS:
        prices = sorted(o["price_per_gpu_usd"] for o in offers if o["pricing_kind"] == kind)
        if prices:
            by_kind[kind] = {
                "min": prices[0],
                "median": Decimal(statistics.median(prices)).quantize(Decimal("0.0001")),
                "max": prices[-1],
                "count": len(prices),
            }
    return {
        "kinds": by_kind,
        "headline": (by_kind.get("on_demand") or next(iter(by_kind.values()), None)),
        "offers": len(offers),
        "providers": sorted({o["provider_name"] for o in offers}),
        "lastmod": max(o["price_changed_at"] for o in offers),
        "last_seen": max(o["last_seen_at"] for o in offers),
    }


def _group(offers: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for offer in offers:
        groups[offer[key]].append(offer)
    return dict(sorted(groups.items()))


def _from(f: dict[str, Any]) -> str:
    headline = f["headline"]
    return usd(headline["min"]) if headline else "—"


def _product(
    model: dict[str, Any], f: dict[str, Any], url: str, site: SiteConfig
) -> dict[str, Any]:
    headline = f["headline"]
    return {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": f"{model['name']} cloud GPU (per GPU-hour)",
        "category": "Cloud GPU rental",
        "brand": {"@type": "Brand", "name": model["vendor"].upper()},
        "url": site.base_url + url,
        "offers": {
            "@type": "AggregateOffer",
            "priceCurrency": "USD",
            "lowPrice": str(headline["min"]),
            "highPrice": str(headline["max"]),
            "offerCount": headline["count"],
        },
    }


def _history_chart(points: list[dict[str, Any]], title: str) -> Any:
    by_day: dict[date, list[Decimal]] = defaultdict(list)
    for p in points:
        by_day[p["day"]].append(p["price_per_gpu_usd"])
    series = [(day, float(min(prices))) for day, prices in sorted(by_day.items())]
    return line_chart(
        title,
        [Series("lowest on-demand", series)],
        unit=lambda v: f"${v:,.2f}",
        caption="Lowest on-demand price per GPU-hour on each day we pulled prices.",
    )


def home_pages(data: Dataset, site: SiteConfig) -> Iterator[Page]:
    rows = []
    for slug, offers in _group(data.offers, "gpu_model_slug").items():
        rows.append({"model": data.models[slug], "f": figures(offers)})
    rows.sort(key=lambda r: (r["f"]["headline"]["min"], r["model"]["slug"]))
    moves = sorted(
        (o for o in data.offers if o["pricing_kind"] == "on_demand"),
        key=lambda o: (o["price_changed_at"], o["id"]),
        reverse=True,
    )[:10]
    yield Page(
        kind="home",
        url="/",
        template="cloudgpus/home.html",
        title=f"{site.title}: compare GPU cloud prices across {len(data.providers)} providers",
        description=(
            f"Current hourly prices for {len(rows)} GPU models from {len(data.providers)} cloud"
            f" providers; the cheapest on demand is the {rows[0]['model']['name']} from"
            f" {_from(rows[0]['f'])} per GPU-hour."
        ),
        context={
            "rows": rows,
            "countries": [
                {"code": c.lower(), "name": country_name(c)}
                for c in sorted(_gpu_countries(data.offers, site))
            ],
            "providers": list(data.providers.values()),
            "moves": moves,
            "as_of": data.as_of,
        },
        lastmod=max(r["f"]["lastmod"] for r in rows),
    )


def gpu_pages(data: Dataset, site: SiteConfig) -> Iterator[Page]:
    hub = []
    for slug, offers in _group(data.offers, "gpu_model_slug").items():
        model = data.models[slug]
        f = figures(offers)
        url = f"/gpus/{slug}/"
        hub.append({"model": model, "f": f, "url": url})
        providers = [
            {"name": g[0]["provider_name"], "url": f"/gpus/{slug}/{p}/", "f": figures(g)}
            for p, g in _group(offers, "provider_slug").items()
        ]
        by_model = _group(data.offers, "gpu_model_slug")
        rivals = [
            {
                "name": f"{model['name']} vs {data.models[other]['name']}",
                "url": "/gpus/compare/{}-vs-{}/".format(*sorted((slug, other))),
            }
            for other in by_model
            if other != slug and _comparable(data, by_model, slug, other)
        ]
        yield Page(
            kind="gpu",
            url=url,
            template="cloudgpus/gpu.html",
            title=(
                f"{model['name']} cloud prices: from {_from(f)}/GPU-hour at"
                f" {len(f['providers'])} providers"
            ),
            description=(
                f"{len(offers)} current {model['name']} ({model['vram_gb']} GB) offers from"
                f" {len(f['providers'])} providers; on demand from {_from(f)} per GPU-hour."
            ),
            context={
                "model": model,
                "f": f,
                "offers": offers,
                "providers": providers,
                "rivals": rivals,
                "countries": [
                    {"code": c.lower(), "name": country_name(c)}
                    for c in sorted(_gpu_countries(offers, site))
                ],
                "chart": _history_chart(
                    data.history.get(slug, []), f"{model['name']} lowest price"
                ),
            },
            lastmod=f["lastmod"],
            breadcrumbs=(HOME, GPUS, Breadcrumb(model["name"], url)),
            json_ld=(_product(model, f, url, site),) if f["headline"] else (),
        )
        yield from _gpu_subpages(data, site, model, offers, url)
        for provider_slug, group in _group(offers, "provider_slug").items():
            provider = data.providers[provider_slug]
            pf = figures(group)
            page_url = f"/gpus/{slug}/{provider_slug}/"
            yield Page(
                kind="gpu_provider",
                url=page_url,
                template="cloudgpus/gpu_provider.html",
                title=(
                    f"{model['name']} on {provider['name']}: {len(group)} offers from"
                    f" {_from(pf)}/GPU-hour"
                ),
                description=(
                    f"Every {model['name']} offer at {provider['name']}: {len(group)} instance,"
                    f" region and pricing combinations, from {_from(pf)} per GPU-hour."
                ),
                context={
                    "model": model,
                    "provider": provider,
                    "f": pf,
                    "offers": group,
                    "overall": f,
                },
                lastmod=pf["lastmod"],
                breadcrumbs=(
                    HOME,
                    GPUS,
                    Breadcrumb(model["name"], url),
                    Breadcrumb(provider["name"], page_url),
                ),
                json_ld=(_product(model, pf, page_url, site),) if pf["headline"] else (),
            )
    hub.sort(key=lambda r: (r["f"]["headline"]["min"], r["model"]["slug"]))
    yield Page(
        kind="gpu",
        url="/gpus/",
        template="cloudgpus/gpu_hub.html",
        title=f"{len(hub)} cloud GPUs compared: current prices per GPU-hour",
        description=(
            "Every GPU model we track with its lowest on-demand price, median and number of"
            f" offers from {len(data.providers)} providers."
        ),
        context={"rows": hub},
        lastmod=max(r["f"]["lastmod"] for r in hub),
        breadcrumbs=(HOME, GPUS),
    )


KIND_NAMES = {"on_demand": "on-demand", "spot": "spot", "reserved": "reserved"}


def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or (country.name if country else code)


def _gpu_countries(
    offers: list[dict[str, Any]], site: SiteConfig
) -> dict[str, list[dict[str, Any]]]:
    """Country code -> offers in regions there, for the GPU x country pages that exist."""
    groups = _group([o for o in offers if o["region_country"]], "region_country")
    return {c: g for c, g in groups.items() if len(g) >= site.quality.min_offers_per_region}


def _gpu_subpages(
    data: Dataset, site: SiteConfig, model: dict[str, Any], offers: list[dict[str, Any]], url: str
) -> Iterator[Page]:
    """A GPU's offers in one country, and its spot and reserved prices on their own."""
    for code, group in _gpu_countries(offers, site).items():
        name = country_name(code)
        f = figures(group)
        page_url = f"{url}countries/{code.lower()}/"
        yield Page(
            kind="gpu_country",
            url=page_url,
            template="cloudgpus/gpu_subset.html",
            title=f"{model['name']} in {name}: {len(group)} cloud offers from {_from(f)}/GPU-hour",
            description=(
                f"{model['name']} offers in data centres in {name}: {len(group)} offers from"
                f" {len(f['providers'])} providers."
            ),
            context={
                "model": model,
                "f": f,
                "offers": group,
                "heading": f"{model['name']} in {name}",
                "lede": f"Offers in regions located in {name}.",
            },
            lastmod=f["lastmod"],
            breadcrumbs=(HOME, GPUS, Breadcrumb(model["name"], url), Breadcrumb(name, page_url)),
        )
    for kind in ("spot", "reserved"):
        group = [o for o in offers if o["pricing_kind"] == kind]
        if not group:
            continue
        f = figures(group)
        page_url = f"{url}{kind}/"
        low = f["kinds"][kind]["min"]
        yield Page(
            kind="gpu_country",
            url=page_url,
            template="cloudgpus/gpu_subset.html",
            title=f"{model['name']} {KIND_NAMES[kind]} prices: from {usd(low)}/GPU-hour",
            description=(
                f"{len(group)} {KIND_NAMES[kind]} {model['name']} offers from"
                f" {len(f['providers'])} providers, from {usd(low)} per GPU-hour."
            ),
            context={
                "model": model,
                "f": f,
                "offers": group,
                "heading": f"{model['name']} {KIND_NAMES[kind]} prices",
                "lede": (
                    "Interruptible capacity: cheaper, but the provider may reclaim it."
                    if kind == "spot"
                    else "Committed terms: cheaper per hour, paid for the whole term."
                ),
            },
            lastmod=f["lastmod"],
            breadcrumbs=(
                HOME,
                GPUS,
                Breadcrumb(model["name"], url),
                Breadcrumb(KIND_NAMES[kind], page_url),
            ),
        )


def country_pages(data: Dataset, site: SiteConfig) -> Iterator[Page]:
    """All GPU offers in data centres of one country."""
    for code, offers in _gpu_countries(data.offers, site).items():
        name = country_name(code)
        f = figures(offers)
        url = f"/countries/{code.lower()}/"
        yield Page(
            kind="country",
            url=url,
            template="cloudgpus/country.html",
            title=(
                f"GPU cloud prices in {name}: {len(offers)} offers, {len(f['providers'])} providers"
            ),
            description=(
                f"Every GPU you can rent in data centres in {name}: {len(offers)} offers for"
                f" {len({o['gpu_model_slug'] for o in offers})} GPU models, from {_from(f)} per"
                " GPU-hour on demand."
            ),
            context={"name": name, "f": f, "offers": offers, "models": data.models},
            lastmod=f["lastmod"],
            breadcrumbs=(HOME, Breadcrumb(f"GPUs in {name}", url)),
        )


def provider_pages(data: Dataset, site: SiteConfig) -> Iterator[Page]:
    hub = []
    by_provider = _group(data.offers, "provider_slug")
    for slug, offers in by_provider.items():
        provider = data.providers[slug]
        f = figures(offers)
        url = f"/providers/{slug}/"
        hub.append({"provider": provider, "f": f, "url": url})
        models = [
            {"model": data.models[m], "f": figures(g), "url": f"/gpus/{m}/{slug}/"}
            for m, g in _group(offers, "gpu_model_slug").items()
        ]
        regions = [
            {
                "code": code,
                "name": group[0]["region_name"] or code,
                "offers": len(group),
                "url": f"/providers/{slug}/regions/{slugify(code)}/"
                if len(group) >= site.quality.min_offers_per_region
                else None,
            }
            for code, group in _group(offers, "region_code").items()
        ]
        mine = {o["gpu_model_slug"] for o in offers}
        rivals = [
            {"name": other["name"], "url": "/compare/{}-vs-{}/".format(*sorted((slug, other_slug)))}
            for other_slug, other in data.providers.items()
            if other_slug != slug and mine & {o["gpu_model_slug"] for o in by_provider[other_slug]}
        ]
        as_of = next(
            (
                o["details"].get("as_of")
                for o in offers
                if isinstance(o["details"], dict) and o["details"].get("as_of")
            ),
            None,
        )
        yield Page(
            kind="provider",
            url=url,
            template="cloudgpus/provider.html",
            title=(
                f"{provider['name']} GPU prices: {len(models)} GPU models in {len(regions)} regions"
            ),
            description=(
                f"{provider['name']}'s current GPU cloud prices: {len(offers)} offers for"
                f" {len(models)} GPU models, from {_from(f)} per GPU-hour on demand."
            ),
            context={
                "provider": provider,
                "f": f,
                "models": models,
                "regions": regions,
                "rivals": rivals,
                "as_of": as_of,
            },
            lastmod=f["lastmod"],
            breadcrumbs=(HOME, PROVIDERS, Breadcrumb(provider["name"], url)),
        )
    yield Page(
        kind="provider",
        url="/providers/",
        template="cloudgpus/provider_hub.html",
        title=f"{len(hub)} GPU cloud providers compared",
        description=(
            "Every GPU cloud provider we track: GPU models, offers, lowest price and how fresh"
            " its prices are."
        ),
        context={"rows": hub},
        lastmod=max(r["f"]["lastmod"] for r in hub),
        breadcrumbs=(HOME, PROVIDERS),
    )


def compare_pages(data: Dataset, site: SiteConfig) -> Iterator[Page]:
    by_provider = _group(data.offers, "provider_slug")
    for (a, a_offers), (b, b_offers) in combinations(by_provider.items(), 2):
        a_models, b_models = _group(a_offers, "gpu_model_slug"), _group(b_offers, "gpu_model_slug")
        common = sorted(set(a_models) & set(b_models))
        if not common:
            continue
        pa, pb = data.providers[a], data.providers[b]
        rows = [
            {
                "model": data.models[m],
                "a": figures(a_models[m]),
                "b": figures(b_models[m]),
                "url": f"/gpus/{m}/",
            }
            for m in common
        ]
        cheaper_a = sum(
            1
            for r in rows
            if r["a"]["headline"]
            and r["b"]["headline"]
            and r["a"]["headline"]["min"] < r["b"]["headline"]["min"]
        )
        url = f"/compare/{a}-vs-{b}/"
        yield Page(
            kind="compare",
            url=url,
            template="cloudgpus/compare.html",
            title=f"{pa['name']} vs {pb['name']}: GPU prices compared on {len(common)} GPU models",
            description=(
                f"{pa['name']} and {pb['name']} both rent {len(common)} GPU models; {pa['name']} is"
                f" cheaper on {cheaper_a} of them, {pb['name']} on {len(common) - cheaper_a}."
            ),
            context={"a": pa, "b": pb, "rows": rows},
            lastmod=max(figures(a_offers)["lastmod"], figures(b_offers)["lastmod"]),
            breadcrumbs=(HOME, PROVIDERS, Breadcrumb(f"{pa['name']} vs {pb['name']}", url)),
        )


def _comparable(data: Dataset, by_model: dict[str, list[dict[str, Any]]], a: str, b: str) -> bool:
    """A meaningful GPU pair: same vendor, VRAM within a factor of two, both on demand."""
    ma, mb = data.models[a], data.models[b]
    return (
        ma["vendor"] == mb["vendor"]
        and max(ma["vram_gb"], mb["vram_gb"]) <= 2 * min(ma["vram_gb"], mb["vram_gb"])
        and any(o["pricing_kind"] == "on_demand" for o in by_model[a])
        and any(o["pricing_kind"] == "on_demand" for o in by_model[b])
    )


def gpu_compare_pages(data: Dataset, site: SiteConfig) -> Iterator[Page]:
    """GPU vs GPU for meaningful pairs (see `_comparable`)."""
    by_model = _group(data.offers, "gpu_model_slug")
    for a, b in combinations(sorted(by_model), 2):
        if not _comparable(data, by_model, a, b):
            continue
        ma, mb = data.models[a], data.models[b]
        fa, fb = figures(by_model[a]), figures(by_model[b])
        per_gb = {
            side: (f["kinds"]["on_demand"]["min"] / m["vram_gb"]).quantize(Decimal("0.0001"))
            for side, f, m in (("a", fa, ma), ("b", fb, mb))
        }
        url = f"/gpus/compare/{a}-vs-{b}/"
        yield Page(
            kind="gpu_compare",
            url=url,
            template="cloudgpus/gpu_compare.html",
            title=f"{ma['name']} vs {mb['name']}: specs and cloud prices side by side",
            description=(
                f"{ma['name']} ({ma['vram_gb']} GB) from {_from(fa)} against {mb['name']}"
                f" ({mb['vram_gb']} GB) from {_from(fb)} per GPU-hour on demand; price per GB of"
                f" VRAM {usd(per_gb['a'])} vs {usd(per_gb['b'])}."
            ),
            context={
                "a": {"model": ma, "f": fa, "per_gb": per_gb["a"]},
                "b": {"model": mb, "f": fb, "per_gb": per_gb["b"]},
            },
            lastmod=max(fa["lastmod"], fb["lastmod"]),
            breadcrumbs=(HOME, GPUS, Breadcrumb(f"{ma['name']} vs {mb['name']}", url)),
        )


def region_pages(data: Dataset, site: SiteConfig) -> Iterator[Page]:
    for provider_slug, offers in _group(data.offers, "provider_slug").items():
        provider = data.providers[provider_slug]
        for region, group in _group(offers, "region_code").items():
            if len(group) < site.quality.min_offers_per_region:
                continue
            f = figures(group)
            name = group[0]["region_name"] or region
            url = f"/providers/{provider_slug}/regions/{slugify(region)}/"
            yield Page(
                kind="region",
                url=url,
                template="cloudgpus/region.html",
                title=(
                    f"{provider['name']} GPUs in {name}: {len(group)} offers from"
                    f" {_from(f)}/GPU-hour"
                ),
                description=(
                    f"GPU prices at {provider['name']} in {name} ({region}): {len(group)}"
                    " offers for"
                    f" {len({o['gpu_model_slug'] for o in group})} GPU models."
                ),
                context={
                    "provider": provider,
                    "region": region,
                    "name": name,
                    "f": f,
                    "offers": group,
                    "models": data.models,
                },
                lastmod=f["lastmod"],
                breadcrumbs=(
                    HOME,
                    PROVIDERS,
                    Breadcrumb(provider["name"], f"/providers/{provider_slug}/"),
                    Breadcrumb(name, url),
                ),
            )


def about_pages(data: Dataset, site: SiteConfig) -> Iterator[Page]:
    f = figures(data.offers)
    yield Page(
        kind="about",
        url="/methodology/",
        template="cloudgpus/methodology.html",
        title="How we collect and compare GPU cloud prices",
        description=(
            f"Where our {f['offers']:,} prices from {len(data.providers)} providers come from,"
            " how they are normalized to USD per GPU-hour, and what we reject."
        ),
        context={"f": f, "providers": list(data.providers.values())},
        lastmod=f["lastmod"],
        breadcrumbs=(HOME, Breadcrumb("Methodology", "/methodology/")),
    )
    yield Page(
        kind="about",
        url="/open-data/",
        template="cloudgpus/open_data.html",
        title="Open data: GPU cloud prices as JSON and CSV",
        description=(
            f"Download all {f['offers']:,} current GPU cloud offers as JSON and CSV, updated"
            " nightly."
        ),
        context={"f": f, "files": DATA_FILES},
        lastmod=f["lastmod"],
        breadcrumbs=(HOME, Breadcrumb("Open data", "/open-data/")),
        json_ld=(
            {
                "@context": "https://schema.org",
                "@type": "Dataset",
                "name": f"{site.title} GPU cloud prices",
                "description": (
                    f"Current hourly prices of {len(data.models)} GPU models from"
                    f" {len(data.providers)} cloud providers, per GPU and per instance."
                ),
                "url": site.base_url + "/open-data/",
                "license": "https://creativecommons.org/licenses/by/4.0/",
                "creator": {"@type": "Organization", "name": site.title},
                "distribution": [
                    {
                        "@type": "DataDownload",
                        "encodingFormat": d["format"],
                        "contentUrl": site.base_url + d["url"],
                    }
                    for d in DATA_FILES
                ],
            },
        ),
    )


def calculator_pages(data: Dataset, site: SiteConfig) -> Iterator[Page]:
    rows = []
    for slug, offers in _group(data.offers, "gpu_model_slug").items():
        f = figures(offers)
        if f["kinds"].get("on_demand"):
            rows.append({"model": data.models[slug], "f": f})
    yield Page(
        kind="calculator",
        url="/calculator/",
        template="cloudgpus/calculator.html",
        title="GPU cloud cost calculator: hours, GPUs and the cheapest current price",
        description=(
            f"Estimate the cost of a training or inference job on {len(rows)} GPU models at"
            " today's lowest on-demand prices."
        ),
        context={"rows": rows},
        lastmod=max(r["f"]["lastmod"] for r in rows),
        breadcrumbs=(HOME, Breadcrumb("Cost calculator", "/calculator/")),
    )


DATA_FILES = (
    {
        "url": "/api/gpu-models.json",
        "format": "application/json",
        "what": "GPU models with their lowest prices",
    },
    {
        "url": "/api/providers.json",
        "format": "application/json",
        "what": "Providers with offer counts and pull health",
    },
    {"url": "/api/instances.json", "format": "application/json", "what": "Every current offer"},
    {"url": "/data/offers.csv", "format": "text/csv", "what": "Every current offer"},
    {"url": "/data/gpu-models.csv", "format": "text/csv", "what": "The GPU model table"},
)


def _offer_record(o: dict[str, Any]) -> dict[str, Any]:
    return {
        "provider": o["provider_slug"],
        "gpu": o["gpu_model_slug"],
        "instance_type": o["instance_type"],
        "region": o["region_code"],
        "pricing": o["pricing_kind"],
        "reserved_term": o["reserved_term"],
        "gpu_count": o["gpu_count"],
        "price_per_gpu_usd": str(o["price_per_gpu_usd"].normalize()),
        "instance_price_usd": str(o["instance_price_usd"].normalize()),
        "available": o["available"],
        "last_seen_at": o["last_seen_at"].strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _model_record(model: dict[str, Any], f: dict[str, Any]) -> dict[str, Any]:
    od = f["kinds"].get("on_demand") or {}
    spot = f["kinds"].get("spot") or {}
    return {
        "gpu": model["slug"],
        "name": model["name"],
        "vendor": model["vendor"],
        "vram_gb": model["vram_gb"],
        "form_factor": model["form_factor"],
        "offers": f["offers"],
        "providers": len(f["providers"]),
        "on_demand_min_usd": str(od["min"].normalize()) if od else None,
        "on_demand_median_usd": str(od["median"].normalize()) if od else None,
        "spot_min_usd": str(spot["min"].normalize()) if spot else None,
    }


def data_files(data: Dataset | None, site: SiteConfig) -> Iterator[tuple[str, Content]]:
    """The seeds' list endpoints as static JSON under /api/ (models, providers, instances,
    compare-prices per GPU), and every table as CSV under /data/."""
    if data is None:
        return
    offers = [_offer_record(o) for o in data.offers]
    by_model = _group(data.offers, "gpu_model_slug")
    models = [_model_record(data.models[m], figures(g)) for m, g in by_model.items()]
    providers = [
        {
            "provider": slug,
            "name": p["name"],
            "pricing_source": p["pricing_source"],
            "offers": sum(1 for o in data.offers if o["provider_slug"] == slug),
            "last_status": p["last_status"],
            "last_success_at": p["last_success_at"].strftime("%Y-%m-%dT%H:%M:%SZ")
            if p["last_success_at"]
            else None,
        }
        for slug, p in data.providers.items()
    ]
    yield "api/gpu-models.json", json_file({"count": len(models), "gpu_models": models})
    yield "api/providers.json", json_file({"count": len(providers), "providers": providers})
    yield "api/instances.json", json_file({"count": len(offers), "instances": offers})
    for model, group in by_model.items():
        yield (
            f"api/compare-prices/{model}.json",
            json_file(
                {
                    "gpu": model,
                    "offers": [
                        _offer_record(o)
                        for o in sorted(
                            group,
                            key=lambda o: (
                                o["price_per_gpu_usd"],
                                o["provider_slug"],
                                o["instance_type"],
                                o["region_code"],
                                o["pricing_kind"],
                            ),
                        )
                    ],
                }
            ),
        )
    yield "data/offers.csv", csv_file(offers)
    yield "data/gpu-models.csv", csv_file(models)


def not_found_page(site: SiteConfig) -> Page:
    return Page(
        kind="404",
        url="/404.html",
        template="cloudgpus/404.html",
        title=f"Page not found · {site.title}",
        description="This page does not exist. Browse current GPU cloud prices instead.",
        context={},
        indexable=False,
    )


def static_files(site: SiteConfig) -> Iterator[tuple[str, bytes]]:
    return iter(())


PAGE_KINDS = {
    "home": home_pages,
    "gpu": gpu_pages,
    "provider": provider_pages,
    "compare": compare_pages,
    "gpu_compare": gpu_compare_pages,
    "region": region_pages,
    "country": country_pages,
    "calculator": calculator_pages,
    "about": about_pages,
}
NEEDS_DATA = frozenset(PAGE_KINDS)
# Made in the render workers rather than here: each worker makes every page of a kind once
# (they are cheap) and keys and renders its share, so the pages are never pickled over to
# it (which cost this process more than making them).
SPLIT_KINDS = frozenset({"gpu", "provider", "compare", "gpu_compare", "region", "country"})


def blocks(environment: Any) -> dict[str, Any]:
    """The blocks editors can use in content/cloudgpus/*.md (see docs/content.md)."""

    def gpu_prices(data: Dataset, args: list[str]) -> tuple[Any, datetime | None]:
        if not args or len(args) > 2:
            raise ValueError("usage: ::: gpu-prices <gpu-slug> [on_demand|spot|reserved]")
        slug, kind = args[0], (args[1] if len(args) == 2 else None)
        if slug not in data.models:
            raise ValueError(f"no current offers for GPU {slug!r}")
        if kind is not None and kind not in KINDS:
            raise ValueError(f"pricing kind must be one of {', '.join(KINDS)}, not {kind!r}")
        offers = [
            o
            for o in data.offers
            if o["gpu_model_slug"] == slug and (kind is None or o["pricing_kind"] == kind)
        ]
        if not offers:
            raise ValueError(f"no current {kind} offers for GPU {slug!r}")
        f = figures(offers)
        html = environment.get_template("cloudgpus/block_gpu_prices.html").render(
            model=data.models[slug], offers=offers[:25], more=len(offers) - 25, f=f
        )
        return Markup(html), f["lastmod"]

    def cheapest_gpus(data: Dataset, args: list[str]) -> tuple[Any, datetime | None]:
        try:
            limit = int(args[0]) if args else 10
        except ValueError:
            raise ValueError(
                f"the number of GPUs must be a whole number, not {args[0]!r}"
            ) from None
        rows = []
        for slug, offers in _group(data.offers, "gpu_model_slug").items():
            f = figures(offers)
            if f["kinds"].get("on_demand"):
                rows.append({"model": data.models[slug], "f": f})
        rows.sort(key=lambda r: (r["f"]["kinds"]["on_demand"]["min"], r["model"]["slug"]))
        html = environment.get_template("cloudgpus/block_cheapest_gpus.html").render(
            rows=rows[:limit]
        )
        return Markup(html), max(r["f"]["lastmod"] for r in rows)

    return {"gpu-prices": gpu_prices, "cheapest-gpus": cheapest_gpus}
