"""Fakes of the spot and marketplace-style clouds added for issue 28: Mithril (auction
prices joined by fid, "$" strings), Novita (1e-5 USD units, spot by billing method) and
Hyperbolic (SkyPilot-shaped catalog rows). Real shapes, invented values."""

from __future__ import annotations

from decimal import Decimal

from tests.fake_gpu_apis.payloads import (
    FakeRequest,
    FakeResponse,
    json_response,
    not_found,
    unauthorized,
)
from tests.fake_gpu_apis.plan_clouds import num, usd

# ------------------------------------------------------------------------------ mithril

# fid, name, gpu_type, gpus, memory GB, model, regions
MITHRIL = [
    (
        "it_XqgKWbhZ5gznAYsG",
        "h100-80gb.sxm.8x",
        "H100",
        8,
        80,
        "h100-sxm",
        ["us-central1-a", "us-central2-a"],
    ),
    ("it_MsIRhxj3ccyVWGfP", "a100-80gb.sxm.8x", "A100", 8, 80, "a100-80-sxm", ["us-central1-a"]),
    ("it_5ECSoHQjLBzrp5YM", "a100-80gb.sxm.4x", "A100", 4, 80, "a100-80-sxm", []),
]


def mithril_api(request: FakeRequest) -> FakeResponse:
    if not request.headers.get("authorization", "").startswith("Bearer "):
        return unauthorized("invalid API key")
    if request.path == "/v2/instance-types":
        return json_response(
            {
                "data": [
                    {
                        "fid": fid,
                        "name": name,
                        "gpu_type": gpu,
                        "num_gpus": gpus,
                        "gpu_memory_gb": memory,
                        "num_cpus": 26 * gpus,
                        "ram_gb": 225 * gpus,
                    }
                    for fid, name, gpu, gpus, memory, _, _ in MITHRIL
                ]
            }
        )
    if request.path == "/v2/spot/availability":
        return json_response(
            [
                {
                    "instance_type": fid,
                    "region": region,
                    "last_instance_price": "${:.2f}".format(
                        usd(model, 0.55, f"mithril/{fid}/{region}") * gpus
                    ),
                    "capacity": 4,
                }
                for fid, _, _, gpus, _, model, regions in MITHRIL
                for region in regions
            ]
        )
    return not_found()


# ------------------------------------------------------------------------------ novita

# id, name, model, regions, available, inventory, spot
NOVITA = [
    (
        "4090.16c62g",
        "RTX 4090 24GB",
        "rtx-4090",
        ["US-CA-06 (California)", "EU-GB-01 (United Kingdom)"],
        True,
        "normal",
        True,
    ),
    ("5090.16c92g", "RTX 5090 32GB", "rtx-5090", ["US-CA-06 (California)"], True, "high", True),
    (
        "H100.16c200g",
        "H100 SXM 80GB",
        "h100-sxm",
        ["US-CA-06 (California)", "AS-SGP-02 (Singapore)"],
        True,
        "normal",
        True,
    ),
    (
        "A100-80GB.14c240g",
        "A100 SXM 80GB",
        "a100-80-sxm",
        ["US-CA-06 (California)"],
        True,
        "high",
        False,
    ),
    ("H200.16c240g", "H200 SXM 141GB", "h200-sxm", ["US-01 (Dallas)"], False, "none", False),
    ("L40S.16c80g", "L40S 48GB", "l40s", ["EU-DE-01 (Germany)"], True, "normal", True),
    (
        "6000ada.16c62g",
        "RTX 6000 Ada 48GB",
        "rtx-6000-ada",
        ["US-CA-06 (California)"],
        True,
        "normal",
        False,
    ),
    ("3090.8c31g", "RTX 3090 24GB", "rtx-4090", ["US-CA-06 (California)"], True, "normal", False),
]


def novita_api(request: FakeRequest) -> FakeResponse:
    if not request.headers.get("authorization", "").startswith("Bearer "):
        return unauthorized("invalid api key")
    if request.path != "/gpu-instance/openapi/v1/products":
        return not_found()
    data = []
    for pid, name, model, regions, available, inventory, spot in NOVITA:
        units = int(usd(model, 0.7, f"novita/{pid}") * 100000)
        data.append(
            {
                "id": pid,
                "name": name,
                "cpuPerGpu": 16,
                "memoryPerGpu": 62,
                "diskPerGpu": 6144,
                "availableDeploy": available,
                "price": str(units),
                "spotPrice": str(units // 2) if spot else "0",
                "regions": regions,
                "billingMethods": ["onDemand", "spot", "monthly"]
                if spot
                else ["onDemand", "monthly"],
                "inventoryState": inventory,
                "canBuy": available,
            }
        )
    data.append(
        {
            "id": "retired.8c",
            "name": "RTX 3080 10GB",
            "cpuPerGpu": 8,
            "memoryPerGpu": 31,
            "availableDeploy": False,
            "price": "0",
            "spotPrice": "0",
            "regions": [],
            "billingMethods": [],
            "inventoryState": "none",
            "canBuy": False,
        }
    )
    return json_response({"data": data})


# ------------------------------------------------------------------------------ hyperbolic

# instance type, accelerator, count, memory GiB per GPU, model, region, spot?
HYPERBOLIC = [
    ("1x-H100-SXM", "H100", 1, 80, "h100-sxm", "us-central-1", True),
    ("8x-H100-SXM", "H100", 8, 80, "h100-sxm", "us-central-1", False),
    ("8x-H200-SXM", "H200", 8, 141, "h200-sxm", "us-east-1", False),
    ("1x-RTX4090", "RTX4090", 1, 24, "rtx-4090", "eu-west-1", True),
    ("0x-CPU-32", "", 0, 0, "t4", "us-central-1", False),
]


def hyperbolic_api(request: FakeRequest) -> FakeResponse:
    if not request.headers.get("authorization", "").startswith("Bearer "):
        return unauthorized("Unauthorized")
    if request.path != "/v2/skypilot/catalog":
        return not_found()
    vms = []
    for name, gpu, count, memory, model, region, spot in HYPERBOLIC:
        price = usd(model, 0.75, f"hyperbolic/{name}") * count if count else Decimal("0.40")
        vms.append(
            {
                "InstanceType": name,
                "AcceleratorName": gpu,
                "AcceleratorCount": count,
                "vCPUs": 16 * max(count, 2),
                "MemoryGiB": 128 * max(count, 1),
                "StorageGiB": 500,
                "Price": num(price),
                "Region": region,
                "SpotPrice": num((price * Decimal("0.5")).quantize(Decimal("0.01"))) if spot else 0,
                "GpuInfo": {
                    "Gpus": [
                        {
                            "Name": gpu,
                            "Manufacturer": "NVIDIA",
                            "Count": count,
                            "MemoryInfo": {"SizeInMiB": memory * 1024},
                        }
                    ],
                    "TotalGpuMemoryInMiB": memory * 1024 * count,
                }
                if count
                else None,
            }
        )
    return json_response({"vms": vms})


HANDLERS = {"mithril": mithril_api, "novita": novita_api, "hyperbolic": hyperbolic_api}
HOSTS = {"api.mithril.ai": "mithril", "api.novita.ai": "novita", "api.hyperbolic.xyz": "hyperbolic"}
