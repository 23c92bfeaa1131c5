"""The methodology and open-data pages."""

from __future__ import annotations

from collections.abc import Iterator

from site_builder.config import SiteConfig
from site_builder.render.page import Breadcrumb, Page
from site_builder.sites.cloudgpus.common import HOME, Dataset, figures
from site_builder.sites.cloudgpus.datafiles import DATA_FILES


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
