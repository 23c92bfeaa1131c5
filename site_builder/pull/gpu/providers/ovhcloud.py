"""OVHcloud Public Cloud GPU instances, from a dated, checked-in table
(``data/gpu_prices/ovhcloud.toml``).

Evidence (checked 2026-12-04): OVHcloud publishes hourly ("consumption") prices per GPU
flavor on https://www.ovhcloud.com/fr/public-cloud/prices/ in **euros**; its public order
catalog (``https://api.ovh.com/1.0/order/catalog/public/cloud?ovhSubsidiary=FR``) carries
the same plan codes (``h100-380.consumption``) but we found no public description of its
price fields we could check, so we do not parse it. The table is the flavor list
(flavor, GPU and count, vCPU, RAM, EUR per hour) as transcribed from OVHcloud's pages in
feoche/public-cost-indicator ``docs/donnees-produits-cloud-complet.md`` (generated
2025-01-27); ``as_of`` is that date, so the pages show how old these prices are.

Thin evidence: a third-party transcription, nearly two years old; regions are not listed
(one list price for every region). Prices are converted from EUR with the ECB rates.
"""

from __future__ import annotations

from site_builder.pull.gpu.providers.table import DatedTableAdapter


class OvhCloudAdapter(DatedTableAdapter):
    slug = "ovhcloud"
    name = "OVHcloud"
    website = "https://www.ovhcloud.com"
    table_name = "ovhcloud.toml"
