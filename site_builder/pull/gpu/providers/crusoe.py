"""Crusoe Cloud, from a dated, checked-in price table (``data/gpu_prices/crusoe.toml``).

Why a table: Crusoe's API (``https://api.crusoecloud.com/v1alpha5``, HMAC-signed with an
access key, secret key and project id) lists instance types (``/projects/{id}/compute/vms/
types``: ``product_name``, ``gpu_type``, ``num_gpu``) and capacity (``/capacities``) but no
prices; gpuhunt (dstackai/gpuhunt ``src/gpuhunt/providers/crusoe.py`` at 3584151;
checked 2026-12-04) therefore hard-codes per-GPU-hour on-demand and spot prices copied from
https://crusoe.ai/cloud/pricing. The table holds those published prices with the date
they were recorded; the B200 figure gpuhunt marks as *estimated* is left out (not a price
Crusoe published). GPU names are Crusoe's ``gpu_type`` ids ("H100-SXM-80GB").

Unverified: whether the page's prices include the vCPUs and RAM of each instance type
(gpuhunt assumes so for GPU types); no availability or regions.
"""

from __future__ import annotations

from site_builder.pull.gpu.providers.table import DatedTableAdapter


class CrusoeAdapter(DatedTableAdapter):
    slug = "crusoe"
    name = "Crusoe"
    website = "https://crusoe.ai"
    table_name = "crusoe.toml"
