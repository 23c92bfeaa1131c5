"""The methodology and open-data pages."""

from __future__ import annotations

from collections.abc import Iterator

from site_builder.config import SiteConfig
from site_builder.render.page import Breadcrumb, Page
from site_builder.sites.bestvpnserver.common import HOME, Dataset, day_lastmod
from site_builder.sites.bestvpnserver.datafiles import DATA_FILES
from site_builder.sites.bestvpnserver.model import (
    summary,
)


def about_pages(data: Dataset, site: SiteConfig) -> Iterator[Page]:
    figures = summary(data.stats, data.newest, data.gate)
    yield Page(
        kind="about",
        url="/methodology/",
        template="bestvpnserver/methodology.html",
        title="How we measure VPN servers: probes, protocols and statistics",
        description=(
            f"{len(data.probes)} probe locations, {len(data.protocols)} protocols and"
            f" {figures['runs']:,} runs: how latency, speed, uptime and streaming are"
            " measured and ranked."
        ),
        context={
            "figures": figures,
            "probes": data.probes,
            "protocols": data.protocols,
            "platforms": data.platforms,
            "gate": data.gate,
        },
        lastmod=day_lastmod(figures["last_day"]),
        breadcrumbs=(HOME, Breadcrumb("Methodology", "/methodology/")),
    )
    yield Page(
        kind="about",
        url="/open-data/",
        template="bestvpnserver/open_data.html",
        title="Open data: VPN server measurements as JSON and CSV",
        description=(
            f"Download our measurements of {figures['servers']:,} VPN servers as JSON and CSV,"
            " updated nightly."
        ),
        context={"figures": figures, "files": DATA_FILES},
        lastmod=day_lastmod(figures["last_day"]),
        breadcrumbs=(HOME, Breadcrumb("Open data", "/open-data/")),
        json_ld=(
            {
                "@context": "https://schema.org",
                "@type": "Dataset",
                "name": f"{site.title} VPN server measurements",
                "description": (
                    f"Median download, upload and latency of {figures['servers']:,} VPN"
                    " servers from"
                    f" {figures['providers']} providers, measured from {len(data.probes)}"
                    " probe locations."
                ),
                "url": site.base_url + "/open-data/",
                "temporalCoverage": f"{figures['first_day']}/{figures['last_day']}",
                "license": "https://creativecommons.org/licenses/by/4.0/",
                "creator": {"@type": "Organization", "name": site.title},
                "distribution": [
                    {
                        "@type": "DataDownload",
                        "encodingFormat": f["format"],
                        "contentUrl": site.base_url + f["url"],
                    }
                    for f in DATA_FILES
                ],
            },
        ),
    )
