"""Fakes of GPU clouds added for issue 28: CloudRift, Hot Aisle, JarvisLabs, Seeweb and
Latitude.sh. Real shapes (evidence in each adapter's docstring), invented values, and each
API's quirks: cents, strings for numbers, duplicate rows per workload type, BRL-only
regions, CPU plans and retired plans."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from tests.fake_gpu_apis.payloads import (
    FakeRequest,
    FakeResponse,
    json_response,
    not_found,
    unauthorized,
)
from tests.fake_gpu_apis.plan_clouds import num, usd

GIB = 1024**3

# ------------------------------------------------------------------------------ cloudrift

# brand_short, model, [(variant name, gpus, cpus, dram GiB, {dc: free nodes})]
CLOUDRIFT = [
    (
        "RTX 4090",
        "rtx-4090",
        [
            ("rtx49-10c-kn.1", 1, 10, 64, {"us-east-nc-nr-1": 3, "eu-north-se-1": 1}),
            ("rtx49-10c-kn.8", 8, 80, 512, {"us-east-nc-nr-1": 0}),
        ],
    ),
    (
        "RTX 5090",
        "rtx-5090",
        [("rtx59-16c-nr.1", 1, 16, 64, {"us-east-nc-nr-1": 5}), ("rtx59-16c-nr.4", 4, 64, 256, {})],
    ),
    ("RTX PRO 6000", "rtx-pro-6000", [("rtxpro6k-24c.1", 1, 24, 128, {"us-central-tx-1": 2})]),
]


def cloudrift_api(request: FakeRequest) -> FakeResponse:
    if request.method != "POST" or request.path != "/api/v1/instance-types/list":
        return not_found()
    body = json.loads(request.body or b"{}")
    if body.get("version") != "2025-03-21":
        return FakeResponse(400, b'"unsupported API version"', {"Content-Type": "application/json"})
    types = []
    for brand, model, variants in CLOUDRIFT:
        types.append(
            {
                "brand_short": brand,
                "variants": [
                    {
                        "name": name,
                        "cost_per_hour": int(usd(model, 0.9, f"cloudrift/{name}") * gpus * 100),
                        "gpu_count": gpus,
                        "cpu_count": cpus,
                        "dram": dram * GIB,
                        "disk": 500 * GIB,
                        "vram": 32 * GIB,
                        "nodes_per_dc": dcs,
                    }
                    for name, gpus, cpus, dram, dcs in variants
                ],
            }
        )
    return json_response({"data": {"instance_types": types}})


# ------------------------------------------------------------------------------ hotaisle

HOTAISLE = [(1, 13, 224), (2, 26, 448), (4, 52, 896), (8, 104, 1792)]


def hotaisle_api(request: FakeRequest) -> FakeResponse:
    if not request.headers.get("authorization", "").startswith("Token "):
        return unauthorized("Invalid token.")
    parts = request.path.strip("/").split("/")  # api/teams/<team>/virtual_machines/available
    if parts[:2] != ["api", "teams"] or parts[3:] != ["virtual_machines", "available"]:
        return not_found()
    items = []
    for gpus, cores, ram in HOTAISLE:
        cents = int(usd("mi300x", 0.8, f"hotaisle/{gpus}") * gpus * 100)
        items.append(
            {
                "OnDemandPrice": cents,
                "Specs": {
                    "cpu_cores": cores,
                    "cpus": {"count": 1, "model": "Xeon Platinum 8470"},
                    "ram_capacity": ram * GIB,
                    "disk_capacity": 13 * 1024 * GIB,
                    "gpus": [{"count": gpus, "manufacturer": "AMD", "model": "MI300X"}],
                },
            }
        )
    return json_response(items)


# ------------------------------------------------------------------------------ jarvislabs

# gpu_type, model, region, free, max per instance, spot?
JARVIS = [
    ("L4", "l4", "india-noida-01", 3, "8", True),
    ("A100-80GB", "a100-80-pcie", "india-noida-01", 1, "4", True),
    ("RTX-PRO6000", "rtx-pro-6000", "india-chennai-01", 2, "8", True),
    ("H100", "h100-sxm", "europe-01", 25, "8", False),
    ("H200", "h200-sxm", "europe-01", 0, "8", False),
    ("RTX6000Ada", "rtx-6000-ada", "india-01", 4, "8", True),
]


def jarvislabs_api(request: FakeRequest) -> FakeResponse:
    if not request.headers.get("authorization", "").startswith("Bearer "):
        return unauthorized("Not authenticated")
    if request.path != "/misc/server_meta":
        return not_found()
    rows = []
    for gpu, model, region, free, most, spot in JARVIS:
        price = usd(model, 0.8, f"jarvis/{gpu}/{region}")
        row = {
            "gpu_type": gpu,
            "region": region,
            "num_free_devices": free,
            "effective_num_free_devices": free,
            "spot_num_free_devices": free // 2,
            "price_per_hour": num(price),
            "spot_price": num((price * Decimal("0.6")).quantize(Decimal("0.01"))) if spot else None,
            "vram": str(
                {"l4": 24, "h200-sxm": 141}.get(
                    model, 80 if "a100" in model or "h100" in model else 48
                )
            ),
            "cpus_per_gpu": 16,
            "ram_per_gpu": 124,
            "num_gpus": most,
        }
        # the same GPU and region once per workload type; older rows say null
        rows.append(row | {"workload_type": "container"})
        rows.append(row | {"workload_type": None if region == "europe-01" else "vm"})
    return json_response({"server_meta": rows, "cpu_meta": {"combinations": []}})


# ------------------------------------------------------------------------------ seeweb

# name, label, gpus, cpu, ram MB, model, regions, available
SEEWEB = [
    ("ECS1GPU7", "L40s 48GB", "1", "8", "32768", "l40s", ["it-fr2", "it-mi2"], True),
    ("ECS2GPU7", "L40s 48GB", "2", "16", "65536", "l40s", ["it-fr2"], True),
    ("ECS2GPU3", "A100 80GB", "2", "32", "245760", "a100-80-pcie", ["it-fr2", "it-fr2"], True),
    ("ECS1GPU11", "H100 80GB", "1", "32", "245760", "h100-pcie", ["it-mi2"], True),
    ("ECS1GPU12", "H200 141GB", "1", "32", "262144", "h200-sxm", ["it-fr2"], True),
    ("ECS1GPU5", "RTX A6000 48GB", "1", "12", "65536", "rtx-a6000", ["it-fr2"], True),
    ("ECS1GPU2", "RTX 6000 24GB", "1", "8", "32768", "rtx-6000", ["ch-lug1"], True),
    ("ECS1GPU1", "A30", "1", "8", "32768", "a30", ["it-mi2"], False),  # retired plan
    ("ECS1GPU4", "L4 24GB", "1", "8", "32768", "l4", ["it-fr2", "it-mi2"], True),
]


def seeweb_api(request: FakeRequest) -> FakeResponse:
    if not request.headers.get("x-apitoken"):
        return unauthorized("token missing")
    if request.path != "/ecs/v2/plans":
        return not_found()
    plans: list[dict[str, Any]] = [
        {
            "id": 1,
            "name": "eCS4",
            "cpu": "4",
            "ram": "8192",
            "disk": "160",
            "gpu": "0",
            "gpu_label": None,
            "hourly_price": 0.063,
            "montly_price": 45.0,
            "windows": False,
            "host_type": "ECS",
            "available": True,
            "available_regions": [{"location": "it-fr2"}],
        },
    ]
    for index, (name, label, gpus, cpu, ram, model, regions, available) in enumerate(SEEWEB):
        eur = usd(model, 0.85, f"seeweb/{name}", places=3) * int(gpus)
        plans.append(
            {
                "id": 100 + index,
                "name": name,
                "cpu": cpu,
                "ram": ram,
                "disk": "500",
                "gpu": gpus,
                "gpu_label": label,
                "hourly_price": num(eur),
                "montly_price": num(eur * 730),
                "windows": False,
                "host_type": "ECS",
                "available": available,
                "available_regions": [{"location": r} for r in regions],
            }
        )
    return json_response({"status": "ok", "plans": plans})


# ------------------------------------------------------------------------------ latitude

# slug, gpu type, count, model, {region: (in stock?, usd?)}
LATITUDE = [
    (
        "g3-h100-small",
        "NVIDIA H100 80GB",
        1,
        "h100-sxm",
        {"ASH": (True, True), "FRA": (False, True)},
    ),
    (
        "g3-h100-large",
        "NVIDIA H100 80GB",
        8,
        "h100-sxm",
        {"DAL": (True, True), "SAO": (True, False)},
    ),
    ("g3-l40s-medium", "NVIDIA L40S", 4, "l40s", {"CHI": (True, True), "LON": (False, True)}),
]


def latitude_api(request: FakeRequest) -> FakeResponse:
    if not request.headers.get("authorization", "").startswith("Bearer "):
        return unauthorized("Unauthorized")
    if request.path != "/plans":
        return not_found()
    gpu_only = request.query.get("filter[gpu]") == "true"
    data: list[dict[str, Any]] = (
        []
        if gpu_only
        else [
            {
                "id": "plan_cpu",
                "type": "plans",
                "attributes": {
                    "slug": "c2-small-x86",
                    "name": "c2.small.x86",
                    "specs": {"cpu": {"cores": 4}},
                    "regions": [],
                },
            }
        ]
    )
    for index, (slug, gpu, count, model, regions) in enumerate(LATITUDE):
        hourly = usd(model, 0.95, f"latitude/{slug}") * count
        data.append(
            {
                "id": f"plan_{index:04d}Gpu",
                "type": "plans",
                "attributes": {
                    "slug": slug,
                    "name": slug.replace("-", "."),
                    "features": ["ssh", "raid"],
                    "specs": {
                        "cpu": {
                            "type": "AMD 9354P",
                            "clock": 3.25,
                            "cores": 32 * count // 4 or 16,
                            "count": 1,
                        },
                        "memory": {"total": 256 * count},
                        "gpu": {"type": gpu, "count": count},
                        "drives": [{"count": 2, "size": "3.8TB", "type": "NVME"}],
                    },
                    "regions": [
                        {
                            "name": name,
                            "deploys_instantly": [name] if stock else [],
                            "locations": {"available": [name], "in_stock": [name] if stock else []},
                            "stock_level": "high" if stock else "unavailable",
                            "pricing": (
                                {"USD": {"hour": num(hourly), "month": num(hourly * 730)}}
                                if usd_ok
                                else {}
                            )
                            | {
                                "BRL": {
                                    "hour": num(hourly * Decimal("5.4")),
                                    "month": num(hourly * Decimal("3942")),
                                }
                            },
                        }
                        for name, (stock, usd_ok) in regions.items()
                    ],
                },
            }
        )
    return json_response({"data": data, "meta": {}})


HANDLERS = {
    "cloudrift": cloudrift_api,
    "hotaisle": hotaisle_api,
    "jarvislabs": jarvislabs_api,
    "seeweb": seeweb_api,
    "latitude": latitude_api,
}
HOSTS = {
    "api.cloudrift.ai": "cloudrift",
    "admin.hotaisle.app": "hotaisle",
    "backendn.jarvislabs.net": "jarvislabs",
    "api.seeweb.it": "seeweb",
    "api.latitude.sh": "latitude",
}
