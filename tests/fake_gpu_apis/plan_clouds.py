"""Fakes of the plan-catalog clouds added for issue 28: Vultr, DigitalOcean, Akamai (Linode)
and Scaleway. Real shapes (see each adapter's docstring for the evidence), invented values,
with each API's quirks: cursor or page paging, fractional GPUs, CPU plans, a free tier, an
empty region list, a zero base price, euros, keys checked like the real APIs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.fake_gpu_apis.market import LIST_PRICE, unit
from tests.fake_gpu_apis.payloads import (
    FakeRequest,
    FakeResponse,
    json_response,
    not_found,
    unauthorized,
)

# List prices of the models the first fourteen fakes never needed (USD per GPU-hour).
EXTRA_LIST_PRICE = {
    "mi325x": 2.79,
    "a40": 0.44,
    "a30": 0.59,
    "rtx-5090": 0.69,
    "rtx-4000-ada": 0.52,
    "gb200": 6.49,
}


def usd(model: str, factor: float, key: str, spread: float = 0.06, places: int = 2) -> Decimal:
    """A plausible per-GPU price: list price x provider factor, varied by a hash of `key`."""
    base = LIST_PRICE.get(model) or EXTRA_LIST_PRICE[model]
    value = base * factor * (1 + spread * (2 * unit(key) - 1))
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places))


def num(value: Decimal) -> float:
    return float(value)


# ------------------------------------------------------------------------------ vultr

VULTR_REGIONS = ["ewr", "ord", "lax", "ams", "fra", "sgp", "nrt"]
# id, gpu_type, total vram, vcpus, ram MB, model, gpus, regions
VULTR_VCG = [
    ("vcg-a100-1c-6g-4vram", "NVIDIA_A100", 4, 1, 6144, "a100-80-pcie", 0, ["ewr"]),  # fraction
    ("vcg-a100-12c-120g-80vram", "NVIDIA_A100", 80, 12, 122880, "a100-80-pcie", 1, ["ewr", "ord"]),
    ("vcg-a100-24c-240g-160vram", "NVIDIA_A100", 160, 24, 245760, "a100-80-pcie", 2, ["ewr"]),
    ("vcg-l40s-16c-180g-48vram", "NVIDIA_L40S", 48, 16, 184320, "l40s", 1, ["ord", "ams", "sgp"]),
    ("vcg-l40s-64c-720g-192vram", "NVIDIA_L40S", 192, 64, 737280, "l40s", 4, ["ord"]),
    ("vcg-h100-1c-10g-10vram", "NVIDIA_H100", 10, 1, 10240, "h100-sxm", 0, ["lax"]),  # fraction
    ("vcg-a40-6c-60g-48vram", "NVIDIA_A40", 48, 6, 61440, "a40", 1, ["fra", "nrt"]),
    ("vcg-a16-2c-16g-16vram", "NVIDIA_A16", 16, 2, 16384, "t4", 1, ["ewr"]),  # A16: not in catalog
]
VULTR_METAL = [
    ("vbm-112c-2048gb-8-h100-gpu", 224, 2097152, "h100-sxm", 8, ["sea", "ewr"]),
    ("vbm-112c-2048gb-8-a100-gpu", 224, 2097152, "a100-80-sxm", 8, ["ewr"]),
    ("vbm-64c-2048gb-8-l40-gpu", 128, 2097152, "l40s", 8, ["ord"]),
    ("vbm-256c-2048gb-8-mi300x-gpu", 256, 2321924, "mi300x", 8, ["ord", "atl"]),
    ("vbm-256c-3072gb-8-mi325x-gpu", 256, 3145728, "mi325x", 8, ["ord"]),
    ("vbm-72c-480gb-gh200-gpu", 72, 491520, "gh200", 1, ["ewr"]),
]


def vultr_api(request: FakeRequest) -> FakeResponse:
    if request.path == "/v2/plans":
        plans: list[dict[str, Any]] = [
            # a CPU plan and the free tier come back too when `type` is not honoured
            {
                "id": "vc2-1c-1gb-free",
                "vcpu_count": 1,
                "ram": 1024,
                "disk": 25,
                "hourly_cost": 0,
                "monthly_cost": 0,
                "type": "vc2",
                "locations": ["ewr"],
            },
        ]
        for pid, gpu_type, vram, vcpus, ram, model, gpus, regions in VULTR_VCG:
            hourly = usd(model, 1.05, f"vultr/{pid}") * max(gpus, 1)
            if gpus == 0:
                hourly = (hourly * Decimal(vram) / 80).quantize(Decimal("0.001"))
            plans.append(
                {
                    "id": pid,
                    "vcpu_count": vcpus,
                    "ram": ram,
                    "disk": 350,
                    "disk_count": 1,
                    "bandwidth": 10240,
                    "monthly_cost": num(hourly * 730),
                    "hourly_cost": num(hourly),
                    "type": "vcg",
                    "locations": regions,
                    "gpu_vram_gb": vram,
                    "gpu_type": gpu_type,
                }
            )
        # cursor paging: the first page holds the first half, `meta.links.next` the rest
        cursor = request.query.get("cursor", "")
        half = len(plans) // 2
        page, nxt = (
            (plans[half:], "") if cursor == "bmV4dF9fMg==" else (plans[:half], "bmV4dF9fMg==")
        )
        return json_response(
            {"plans": page, "meta": {"total": len(plans), "links": {"next": nxt, "prev": ""}}}
        )
    if request.path == "/v2/plans-metal":
        metal = [
            {
                "id": "vbm-4c-32gb",
                "cpu_count": 4,
                "cpu_threads": 8,
                "ram": 32768,
                "disk": 240,
                "hourly_cost": 0.25,
                "monthly_cost": 185,
                "type": "SSD",
                "locations": ["ewr"],
            }
        ]
        for pid, threads, ram, model, gpus, regions in VULTR_METAL:
            hourly = usd(model, 1.0, f"vultr/{pid}") * gpus
            plan = {
                "id": pid,
                "physical_cpus": 2,
                "cpu_count": threads // 2,
                "cpu_cores": threads // 2,
                "cpu_threads": threads,
                "cpu_model": "EPYC 9534",
                "ram": ram,
                "disk": 960,
                "disk_count": 2,
                "bandwidth": 15360,
                "monthly_cost": num(hourly * 730),
                "hourly_cost": num(hourly),
                "type": "NVMe",
                "locations": regions,
            }
            if model in ("h100-sxm", "mi300x"):
                pre = (hourly * Decimal("0.77")).quantize(Decimal("0.01"))
                plan |= {
                    "hourly_cost_preemptible": num(pre),
                    "monthly_cost_preemptible": num(pre * 730),
                }
            metal.append(plan)
        return json_response(
            {"plans_metal": metal, "meta": {"total": len(metal), "links": {"next": "", "prev": ""}}}
        )
    return not_found()


# ------------------------------------------------------------------------------ digitalocean

# slug, model, gpu model id, count, vram per GPU, vcpus, memory MB, regions
DO_SIZES = [
    ("gpu-h100x1-80gb", "h100-sxm", "nvidia_h100", 1, 80, 20, 245760, ["nyc2", "tor1"]),
    ("gpu-h100x8-640gb", "h100-sxm", "nvidia_h100", 8, 80, 160, 1966080, ["nyc2", "tor1", "atl1"]),
    ("gpu-h200x8-1128gb", "h200-sxm", "nvidia_h200", 8, 141, 192, 1966080, ["atl1"]),
    ("gpu-mi300x1-192gb", "mi300x", "amd_mi300x", 1, 192, 20, 245760, ["atl1"]),
    ("gpu-mi300x8-1536gb", "mi300x", "amd_mi300x", 8, 192, 160, 1966080, []),  # no capacity
    ("gpu-mi325x8-2048gb", "mi325x", "amd_mi325x", 8, 256, 160, 1966080, ["atl1"]),
    ("gpu-l40sx1-48gb", "l40s", "nvidia_l40s", 1, 48, 8, 65536, ["tor1"]),
    ("gpu-4000adax1-20gb", "rtx-4000-ada", "nvidia_rtx4000_ada", 1, 20, 8, 32768, ["tor1", "nyc2"]),
    ("gpu-6000adax1-48gb", "rtx-6000-ada", "nvidia_rtx6000_ada", 1, 48, 8, 65536, ["tor1"]),
]


def digitalocean_api(request: FakeRequest) -> FakeResponse:
    if not request.headers.get("authorization", "").startswith("Bearer "):
        return unauthorized("Unable to authenticate you")
    if request.path != "/v2/sizes":
        return not_found()
    sizes: list[dict[str, Any]] = [
        {
            "slug": "s-1vcpu-512mb-10gb",
            "memory": 512,
            "vcpus": 1,
            "disk": 10,
            "transfer": 0.5,
            "price_monthly": 4,
            "price_hourly": 0.00595,
            "regions": ["ams3", "fra1", "nyc1"],
            "available": True,
            "description": "Basic",
            "disk_info": [{"type": "local", "size": {"amount": 10, "unit": "gib"}}],
        },
    ]
    for slug, model, gpu_id, count, vram, vcpus, memory, regions in DO_SIZES:
        hourly = usd(model, 1.12, f"do/{slug}") * count
        sizes.append(
            {
                "slug": slug,
                "memory": memory,
                "vcpus": vcpus,
                "disk": 720,
                "transfer": 15.0,
                "price_monthly": num(hourly * 744),
                "price_hourly": num(hourly),
                "regions": regions,
                "available": bool(regions),
                "description": f"{gpu_id} - {count}X",
                "gpu_info": {
                    "count": count,
                    "vram": {"amount": vram * count, "unit": "gib"},
                    "model": gpu_id,
                },
                "disk_info": [
                    {"type": "local", "size": {"amount": 720, "unit": "gib"}},
                    {"type": "scratch", "size": {"amount": 5120 * count, "unit": "gib"}},
                ],
            }
        )
    page = int(request.query.get("page", "1"))
    half = len(sizes) // 2
    body: dict[str, Any] = {
        "sizes": sizes[:half] if page == 1 else sizes[half:],
        "meta": {"total": len(sizes)},
        "links": {},
    }
    if page == 1:
        body["links"] = {
            "pages": {
                "next": "https://api.digitalocean.com/v2/sizes?page=2&per_page=200",
                "last": "https://api.digitalocean.com/v2/sizes?page=2&per_page=200",
            }
        }
    return json_response(body)


# ------------------------------------------------------------------------------ linode

# id, label, gpus, vcpus, memory MB, base price, {region: price}
LINODE_GPU = [
    ("g1-gpu-rtx6000-1", "Dedicated 32GB + RTX6000 GPU x1", 1, 8, 32768, "1.50", {}),
    ("g1-gpu-rtx6000-2", "Dedicated 64GB + RTX6000 GPU x2", 2, 16, 65536, "3.00", {}),
    (
        "g2-gpu-rtx4000a1-s",
        "RTX4000 Ada x1 Small",
        1,
        4,
        16384,
        "0",
        {"us-ord": "0.52", "de-fra-2": "0.52"},
    ),
    ("g2-gpu-rtx4000a2-m", "RTX4000 Ada x2 Medium", 2, 8, 32768, "0", {"us-ord": "1.04"}),
    ("g2-gpu-rtx4000a4-m", "RTX4000 Ada x4 Medium", 4, 16, 65536, "0", {}),  # no price anywhere
]


def linode_api(request: FakeRequest) -> FakeResponse:
    if request.path != "/v4/linode/types":
        return not_found()
    types: list[dict[str, Any]] = [
        {
            "id": "g6-nanode-1",
            "label": "Nanode 1GB",
            "class": "nanode",
            "disk": 25600,
            "gpus": 0,
            "memory": 1024,
            "vcpus": 1,
            "network_out": 1000,
            "transfer": 1000,
            "price": {"hourly": 0.0075, "monthly": 5.0},
            "region_prices": [],
            "successor": None,
            "addons": {
                "backups": {"price": {"hourly": 0.003, "monthly": 2.0}, "region_prices": []}
            },
        },
    ]
    for tid, label, gpus, vcpus, memory, base, regional in LINODE_GPU:
        types.append(
            {
                "id": tid,
                "label": label,
                "class": "gpu",
                "disk": 655360,
                "gpus": gpus,
                "memory": memory,
                "vcpus": vcpus,
                "network_out": 10000,
                "transfer": 16000,
                "price": {"hourly": float(base), "monthly": float(Decimal(base) * 730)},
                "region_prices": [
                    {"id": r, "hourly": float(p), "monthly": float(Decimal(p) * 730)}
                    for r, p in regional.items()
                ],
                "successor": None,
                "addons": {
                    "backups": {"price": {"hourly": 0.03, "monthly": 20.0}, "region_prices": []}
                },
            }
        )
    page = int(request.query.get("page", "1"))
    half = 3
    data = types[:half] if page == 1 else types[half:]
    return json_response({"data": data, "page": page, "pages": 2, "results": len(types)})


# ------------------------------------------------------------------------------ scaleway

# zone: [(type name, model, gpus, ncpus, ram GiB)]
SCALEWAY_TYPES = {
    "fr-par-1": [
        ("L4-1-24G", "l4", 1, 8, 48),
        ("L4-8-24G", "l4", 8, 64, 384),
        ("RENDER-S", None, 1, 10, 42),
    ],
    "fr-par-2": [
        ("H100-1-80G", "h100-pcie", 1, 24, 240),
        ("H100-2-80G", "h100-pcie", 2, 48, 480),
        ("H100-SXM-8-80G", "h100-sxm", 8, 128, 1920),
        ("L40S-1-48G", "l40s", 1, 8, 96),
    ],
    "nl-ams-1": [("L4-1-24G", "l4", 1, 8, 48)],
    "pl-waw-2": [("H100-1-80G", "h100-pcie", 1, 24, 240), ("L40S-4-48G", "l40s", 4, 32, 384)],
}


def scaleway_api(request: FakeRequest) -> FakeResponse:
    if not request.headers.get("x-auth-token"):
        return unauthorized("authentication is denied")
    parts = request.path.strip("/").split("/")  # instance/v1/zones/<zone>/products/servers
    if (
        len(parts) != 6
        or parts[:3] != ["instance", "v1", "zones"]
        or parts[4:] != ["products", "servers"]
    ):
        return not_found()
    zone = parts[3]
    if zone not in SCALEWAY_TYPES:
        return not_found()
    servers: dict[str, Any] = {
        "DEV1-S": {
            "monthly_price": 6.42,
            "hourly_price": 0.0088,
            "alt_names": [],
            "ncpus": 2,
            "ram": 2147483648,
            "arch": "x86_64",
            "baremetal": False,
            "gpu": 0,
        },
    }
    if int(request.query.get("page", "1")) == 1:
        for name, model, gpus, ncpus, ram in SCALEWAY_TYPES[zone]:
            eur = usd(model or "rtx-6000", 0.92, f"scw/{zone}/{name}", places=4) * gpus
            servers[name] = {
                "monthly_price": num((eur * 730).quantize(Decimal("0.01"))),
                "hourly_price": num(eur),
                "alt_names": [],
                "ncpus": ncpus,
                "ram": ram * 1024**3,
                "arch": "x86_64",
                "baremetal": False,
                "gpu": gpus,
            }
    else:
        servers = {}
    return FakeResponse(
        200,
        json_response({"servers": servers}).body,
        {"Content-Type": "application/json", "X-Total-Count": str(len(servers))},
    )


HANDLERS = {
    "vultr": vultr_api,
    "digitalocean": digitalocean_api,
    "linode": linode_api,
    "scaleway": scaleway_api,
}
HOSTS = {
    "api.vultr.com": "vultr",
    "api.digitalocean.com": "digitalocean",
    "api.linode.com": "linode",
    "api.scaleway.com": "scaleway",
}
