"""Fakes of the two aggregators added for issue 28, Shadeform and Prime Intellect: other
clouds' offers, each naming its underlying cloud. Real shapes (evidence in the adapters'
docstrings), invented values; quirks: cents per instance, page/totalCount paging,
communityPrice before onDemand, spot rows, an unavailable stock status."""

from __future__ import annotations

from typing import Any

from tests.fake_gpu_apis.payloads import (
    FakeRequest,
    FakeResponse,
    json_response,
    not_found,
    unauthorized,
)
from tests.fake_gpu_apis.plan_clouds import num, usd

# cloud, cloud instance type, gpu_type, interconnect, gpus, model, {region: available}
SHADEFORM = [
    (
        "lambdalabs",
        "gpu_8x_h100_sxm5",
        "H100",
        "sxm5",
        8,
        "h100-sxm",
        {"us-east-1": True, "us-west-1": False},
    ),
    ("hyperstack", "n3-H100x1", "H100", "pcie", 1, "h100-pcie", {"canada-1": True}),
    ("datacrunch", "1H200.141S.44V", "H200", "sxm5", 1, "h200-sxm", {"FIN-01": True}),
    ("massedcompute", "gpu_1x_a6000", "A6000", "pcie", 1, "rtx-a6000", {"us-central-2": True}),
    ("denvr", "A100_80G_SXM_x8", "A100_80G", "sxm4", 8, "a100-80-sxm", {"houston-usa-1": True}),
    ("voltagepark", "h100-sxm5-80gb-8x", "H100", "sxm5", 8, "h100-sxm", {"us-central-1": True}),
    ("nebius", "gpu-l40s-a.1gpu", "L40S", "pcie", 1, "l40s", {"eu-north1": True}),
    ("lambdalabs", "gpu_8x_b200_sxm6", "B200", "sxm6", 8, "b200", {"us-south-1": False}),
]


def shadeform_api(request: FakeRequest) -> FakeResponse:
    if not request.headers.get("x-api-key"):
        return unauthorized("X-API-KEY header required")
    if request.path != "/v1/instances/types":
        return not_found()
    types: list[dict[str, Any]] = []
    for cloud, name, gpu, link, gpus, model, regions in SHADEFORM:
        cents = int(usd(model, 1.08, f"shadeform/{cloud}/{name}") * gpus * 100)
        types.append(
            {
                "cloud": cloud,
                "shade_instance_type": f"{gpu}x{gpus}",
                "cloud_instance_type": name,
                "hourly_price": cents,
                "deployment_type": "vm",
                "configuration": {
                    "memory_in_gb": 180 * gpus,
                    "storage_in_gb": 512 * gpus,
                    "vcpus": 24 * gpus,
                    "num_gpus": gpus,
                    "gpu_type": gpu,
                    "interconnect": link,
                    "nvlink": link.startswith("sxm"),
                    "vram_per_gpu_in_gb": {
                        "h200-sxm": 141,
                        "rtx-a6000": 48,
                        "l40s": 48,
                        "b200": 180,
                    }.get(model, 80),
                    "os_options": ["ubuntu22.04_cuda12.2_shade_os"],
                },
                "availability": [
                    {"region": r, "available": ok, "display_name": r} for r, ok in regions.items()
                ],
                "boot_time": {"min_boot_in_sec": 300, "max_boot_in_sec": 600},
            }
        )
    return json_response({"instance_types": types})


# provider, cloudId, gpuType, socket, count, data centre, country, model, kind, stock
PRIME = [
    (
        "runpod",
        "NVIDIA A100 80GB PCIe",
        "A100_80GB",
        "PCIe",
        1,
        "US-KS-2",
        "US",
        "a100-80-pcie",
        "secure",
        "Low",
    ),
    (
        "runpod",
        "NVIDIA H100 80GB HBM3",
        "H100_80GB",
        "SXM5",
        8,
        "US-TX-3",
        "US",
        "h100-sxm",
        "secure",
        "High",
    ),
    (
        "runpod",
        "NVIDIA H100 80GB HBM3",
        "H100_80GB",
        "SXM5",
        1,
        "CZ",
        "CZ",
        "h100-sxm",
        "community",
        "Medium",
    ),
    (
        "datacrunch",
        "1H100.80S.30V",
        "H100_80GB",
        "SXM5",
        1,
        "FIN-01",
        "FI",
        "h100-sxm",
        "spot",
        "High",
    ),
    (
        "datacrunch",
        "8H200.141S.176V",
        "H200_141GB",
        "SXM5",
        8,
        "FIN-02",
        "FI",
        "h200-sxm",
        "secure",
        "Medium",
    ),
    (
        "lambdalabs",
        "gpu_1x_h100_pcie",
        "H100_80GB",
        "PCIe",
        1,
        "us-west-1",
        "US",
        "h100-pcie",
        "secure",
        "Unavailable",
    ),
    (
        "hyperstack",
        "n3-RTX-A6000x1",
        "RTX_A6000_48GB",
        "PCIe",
        1,
        "CANADA-1",
        "CA",
        "rtx-a6000",
        "secure",
        "High",
    ),
    (
        "massedcompute",
        "4090x1",
        "RTX4090_24GB",
        "PCIe",
        1,
        "us-central",
        "US",
        "rtx-4090",
        "secure",
        "High",
    ),
    ("oblivus", "l40s_1x", "L40S_48GB", "PCIe", 1, "MTL-1", "CA", "l40s", "secure", "Low"),
]
PRIME_PAGE_SIZE = 4  # the fake pages by 4 whatever page_size asks, like a server with a cap


def primeintellect_api(request: FakeRequest) -> FakeResponse:
    if not request.headers.get("authorization", "").startswith("Bearer "):
        return unauthorized("Authorization failed")
    if request.path != "/api/v1/availability/gpus":
        return not_found()
    items = []
    for provider, cloud_id, gpu, socket, count, dc, country, model, kind, stock in PRIME:
        value = num(usd(model, 1.03, f"prime/{provider}/{cloud_id}/{dc}/{count}", places=4) * count)
        items.append(
            {
                "cloudId": cloud_id,
                "gpuType": gpu,
                "socket": socket,
                "provider": provider,
                "region": "united_states" if country == "US" else "europe_east",
                "dataCenter": dc,
                "country": country,
                "gpuCount": count,
                "gpuMemory": 80,
                "disk": {
                    "minCount": 120,
                    "defaultCount": 120,
                    "maxCount": 3000,
                    "pricePerUnit": 0.00014,
                    "step": 1,
                    "defaultIncludedInPrice": False,
                    "additionalInfo": None,
                },
                "vcpu": {
                    "minCount": None,
                    "defaultCount": 14 * count,
                    "maxCount": None,
                    "pricePerUnit": None,
                    "step": None,
                    "defaultIncludedInPrice": None,
                    "additionalInfo": None,
                },
                "memory": {
                    "minCount": None,
                    "defaultCount": 125 * count,
                    "maxCount": None,
                    "pricePerUnit": None,
                    "step": None,
                    "defaultIncludedInPrice": None,
                    "additionalInfo": None,
                },
                "internetSpeed": None,
                "interconnect": None,
                "interconnectType": None,
                "provisioningTime": None,
                "stockStatus": stock,
                "security": "community_cloud" if kind == "community" else "secure_cloud",
                "prices": {
                    "onDemand": None if kind == "community" else value,
                    "communityPrice": value if kind == "community" else None,
                    "isVariable": kind == "spot",
                    "currency": "USD",
                },
                "images": ["ubuntu_22_cuda_12"],
                "isSpot": kind == "spot",
                "prepaidTime": None,
            }
        )
    page = int(request.query.get("page", "1"))
    start = (page - 1) * PRIME_PAGE_SIZE
    return json_response(
        {"items": items[start : start + PRIME_PAGE_SIZE], "totalCount": len(items)}
    )


HANDLERS = {"shadeform": shadeform_api, "primeintellect": primeintellect_api}
HOSTS = {"api.shadeform.ai": "shadeform", "api.primeintellect.ai": "primeintellect"}
