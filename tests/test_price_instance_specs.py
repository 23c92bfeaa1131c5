"""Each adapter reads the vCPU, RAM and local storage its provider's answer carries (as the
fake of that answer shapes it), converting every disk unit to decimal GB: bytes, MiB, GiB
and TB are not the same number of GB. Providers that send no size leave it unstated."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from site_builder.pull.gpu.offer import ParsedOffer
from site_builder.pull.gpu.sizes import storage_gb, storage_text_gb
from tests.fake_gpu_apis.payloads import FakeRequest
from tests.test_price_adapter_evidence import parsed as parsed_existing
from tests.test_price_providers_new import parsed as parsed_new

GIB = Decimal(2**30) / Decimal(10**9)  # GB in a GiB


def gb(gib: int) -> float:
    return float(round(gib * GIB, 1))


def sizes(offers: list[ParsedOffer], instance: str) -> set[tuple[object, object, object]]:
    return {(o.vcpus, o.memory_gb, o.storage_gb) for o in offers if o.instance_type == instance}


def test_units_convert_to_decimal_gb() -> None:
    assert storage_gb(1, "TB") == 1000.0  # as disks are sold
    assert storage_gb(1, "TiB") == 1099.5
    assert storage_gb(375, "GiB") == 402.7
    assert storage_gb(25600, "MiB") == 26.8
    assert storage_gb(500 * 2**30, "B") == 536.9
    assert storage_text_gb("3.8TB") == 3800.0 and storage_text_gb("960 GB") == 960.0
    # what cannot be read is handed on as it came, for the store to drop and name
    assert storage_text_gb("lots") == "lots" and storage_gb("n/a", "GB") == "n/a"


@pytest.mark.parametrize(
    ("slug", "instance", "expected"),
    [
        # bytes (the disk as gpuhunt reads it)
        ("cloudrift", "rtx49-10c-kn.8", (80, 512.0, gb(500))),
        ("hotaisle", "8x MI300X 104 cores", (104, 1792.0, gb(13 * 1024))),
        # GB, sent as a string
        ("seeweb", "ECS1GPU7", (8, 32.0, 500.0)),
        # drives written out: two 3.8 TB NVMe drives
        ("latitude", "g3-h100-large", (64, 2048, 7600.0)),
        # GB per disk x disk_count
        ("vultr", "vcg-a100-12c-120g-80vram", (12, 120.0, 350.0)),
        ("vultr", "vbm-112c-2048gb-8-h100-gpu", (224, 2048.0, 1920.0)),
        # a boot and a scratch disk, each in GiB
        ("digitalocean", "gpu-h100x8-640gb", (160, 1920.0, gb(720 + 5120 * 8))),
        # Linode's "MB" are MiB: its 640 GB plan
        ("linode", "g1-gpu-rtx6000-1", (8, 32.0, 687.2)),
        ("hyperbolic", "8x-H100-SXM", (128, 1024, gb(500))),
        ("novita", "4090.16c62g", (16, 62, 6144.0)),
        ("shadeform", "lambdalabs/gpu_8x_h100_sxm5", (192, 1440, 4096.0)),
    ],
)
def test_new_adapters_read_the_sizes_their_answer_carries(
    slug: str, instance: str, expected: tuple[object, object, object]
) -> None:
    assert sizes(parsed_new(slug), instance) == {expected}


@pytest.mark.parametrize(
    ("slug", "instance", "expected"),
    [
        # the "Local Storage (TB)" column: 61.44 TB
        ("coreweave", "8x NVIDIA HGX H100", (128, 2048.0, 61440.0)),
        # root disk and ephemeral disk (GB)
        ("hyperstack", "n3-H100x8", (252, 1440.0, 100.0 + 750 * 8)),
        # 16 bundled 375 GiB local SSDs, priced into the machine
        ("gcp", "a3-highgpu-8g", (208, 1872.0, gb(16 * 375))),
        ("gcp", "a2-highgpu-8g", (96, 680.0, None)),  # no bundled disk: not stated
        # the standard VM the price is composed for
        ("cudo", None, (8, 32.0, 100.0)),
        ("tensordock", None, (8, 32.0, 100.0)),
        # RAM and disk in GiB
        ("lambda", "gpu_1x_a10", (30, 200, gb(1400))),
    ],
)
def test_existing_adapters_read_the_sizes_their_answer_carries(
    slug: str, instance: str | None, expected: tuple[object, object, object]
) -> None:
    offers = parsed_existing(slug)
    if instance is None:
        assert {(o.vcpus, o.memory_gb, o.storage_gb) for o in offers} == {expected}
    else:
        assert sizes(offers, instance) == {expected}


@pytest.mark.parametrize("slug", ["runpod", "vast", "verda", "azure", "oci"])
def test_providers_that_send_no_disk_size_leave_it_unstated(slug: str) -> None:
    assert {o.storage_gb for o in parsed_existing(slug)} == {None}


def _aws_with_storage(request: FakeRequest, body: bytes) -> bytes:
    """The real price list's Storage column, which the fake's CSV leaves out."""
    if not request.path.endswith(".csv"):
        return body
    text = body.decode()
    text = text.replace('"Memory",', '"Memory","Storage",', 1)

    def storage(match: re.Match[str]) -> str:
        line = match.group(0)
        disk = "EBS only" if '"g4dn.' in line else "8 x 3840 NVMe SSD"
        return re.sub(r'("\d+ GiB",)', rf'\1"{disk}",', line, count=1)

    return re.sub(r"^.*\d+ GiB.*$", storage, text, flags=re.MULTILINE).encode()


def test_aws_reads_the_instance_store_and_ebs_only_is_no_local_disk() -> None:
    offers = parsed_existing("aws", _aws_with_storage)
    assert sizes(offers, "p5.48xlarge") == {(192, 2048.0, 30720.0)}
    assert sizes(offers, "g4dn.xlarge") == {(4, 16.0, None)}
    # without the column (the fake as it is) the disk is simply not stated
    assert {o.storage_gb for o in parsed_existing("aws")} == {None}
