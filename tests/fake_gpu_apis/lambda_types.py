"""Lambda instance types for the fake API: the API's real shape, invented but plausible values."""

from __future__ import annotations

REGIONS = {
    "us-east-1": "Virginia, USA",
    "us-west-1": "California, USA",
    "us-south-1": "Texas, USA",
    "us-midwest-1": "Illinois, USA",
    "europe-central-1": "Frankfurt, Germany",
    "asia-northeast-1": "Tokyo, Japan",
    "me-west-1": "Tel Aviv, Israel",
}

# name: (description, gpu_description, cents/h, vcpus, memory GiB, storage GiB, gpus, regions)
TYPES = {
    "gpu_1x_a10": (
        "1x A10 (24 GB PCIe)",
        "A10 (24 GB PCIe)",
        75,
        30,
        200,
        1400,
        1,
        ["us-east-1", "us-west-1", "asia-northeast-1"],
    ),
    "gpu_1x_rtx6000": ("1x RTX 6000 (24 GB)", "RTX 6000 (24 GB)", 50, 14, 46, 512, 1, []),
    "gpu_1x_a6000": (
        "1x A6000 (48 GB)",
        "RTX A6000 (48 GB)",
        80,
        14,
        100,
        512,
        1,
        ["us-west-1", "us-south-1"],
    ),
    "gpu_2x_a6000": ("2x A6000 (48 GB)", "RTX A6000 (48 GB)", 160, 28, 200, 1024, 2, ["us-west-1"]),
    "gpu_4x_a6000": ("4x A6000 (48 GB)", "RTX A6000 (48 GB)", 320, 56, 400, 1024, 4, []),
    "gpu_1x_a100": (
        "1x A100 (40 GB PCIe)",
        "A100 (40 GB PCIe)",
        129,
        30,
        200,
        512,
        1,
        ["us-east-1"],
    ),
    "gpu_1x_a100_sxm4": (
        "1x A100 (40 GB SXM4)",
        "A100 (40 GB SXM4)",
        129,
        30,
        200,
        512,
        1,
        ["us-east-1", "us-west-1", "europe-central-1"],
    ),
    "gpu_8x_a100": (
        "8x A100 (40 GB SXM4)",
        "A100 (40 GB SXM4)",
        1032,
        124,
        1800,
        6000,
        8,
        ["us-midwest-1"],
    ),
    "gpu_8x_a100_80gb_sxm4": (
        "8x A100 (80 GB SXM4)",
        "A100 (80 GB SXM4)",
        1432,
        240,
        1800,
        19500,
        8,
        ["us-east-1", "us-midwest-1"],
    ),
    "gpu_1x_h100_pcie": (
        "1x H100 (80 GB PCIe)",
        "H100 (80 GB PCIe)",
        249,
        26,
        200,
        1000,
        1,
        ["us-west-1", "us-south-1"],
    ),
    "gpu_1x_h100_sxm5": (
        "1x H100 (80 GB SXM5)",
        "H100 (80 GB SXM5)",
        329,
        26,
        225,
        2750,
        1,
        ["us-east-1", "us-south-1", "europe-central-1"],
    ),
    "gpu_2x_h100_sxm5": (
        "2x H100 (80 GB SXM5)",
        "H100 (80 GB SXM5)",
        638,
        52,
        450,
        5500,
        2,
        ["us-south-1"],
    ),
    "gpu_8x_h100_sxm5": (
        "8x H100 (80 GB SXM5)",
        "H100 (80 GB SXM5)",
        2392,
        208,
        1800,
        22000,
        8,
        ["us-east-1", "us-south-1", "me-west-1"],
    ),
    "gpu_1x_gh200": ("1x GH200 (96 GB)", "GH200 (96 GB)", 149, 64, 432, 4000, 1, ["us-east-1"]),
    "gpu_8x_b200_sxm6": (
        "8x B200 (180 GB SXM6)",
        "B200 (180 GB SXM6)",
        3992,
        208,
        2900,
        22000,
        8,
        ["us-south-1"],
    ),
    "gpu_8x_v100": ("8x Tesla V100 (16 GB)", "Tesla V100 (16 GB)", 440, 88, 448, 5800, 8, []),
}


def instance_types(price_factor: dict[str, float] | None = None) -> dict[str, object]:
    """The response body; `price_factor` scales chosen types (to make a later snapshot)."""
    factors = price_factor or {}
    data = {}
    for name, (description, gpu_desc, cents, vcpus, mem, disk, gpus, regions) in TYPES.items():
        data[name] = {
            "instance_type": {
                "name": name,
                "description": description,
                "gpu_description": gpu_desc,
                "price_cents_per_hour": round(cents * factors.get(name, 1.0)),
                "specs": {"vcpus": vcpus, "memory_gib": mem, "storage_gib": disk, "gpus": gpus},
            },
            "regions_with_capacity_available": [
                {"name": r, "description": REGIONS[r]} for r in regions
            ],
        }
    return {"data": data}
