"""Price adapters, one module per provider."""

from pathlib import Path

from site_builder.pull.gpu.providers.aws import AwsAdapter
from site_builder.pull.gpu.providers.azure import AzureAdapter
from site_builder.pull.gpu.providers.base import Adapter, MissingCredentials, ProviderSkipped
from site_builder.pull.gpu.providers.coreweave import CoreWeaveAdapter
from site_builder.pull.gpu.providers.cudo import CudoAdapter
from site_builder.pull.gpu.providers.gcp import GcpAdapter
from site_builder.pull.gpu.providers.hyperstack import HyperstackAdapter
from site_builder.pull.gpu.providers.lambdalabs import LambdaAdapter
from site_builder.pull.gpu.providers.nebius import NebiusAdapter
from site_builder.pull.gpu.providers.oci import OciAdapter
from site_builder.pull.gpu.providers.runpod import RunPodAdapter
from site_builder.pull.gpu.providers.tensordock import TensorDockAdapter
from site_builder.pull.gpu.providers.vast import VastAdapter
from site_builder.pull.gpu.providers.verda import VerdaAdapter
from site_builder.pull.gpu.providers.voltagepark import VoltageParkAdapter


def all_adapters(nebius_table: Path, base_urls: dict[str, str] | None = None) -> list[Adapter]:
    """A fresh instance of every adapter, in a stable order.

    `base_urls` (provider -> URL) sends a provider's requests to a local fake of its API.
    """
    urls = base_urls or {}
    adapters: list[Adapter] = [
        cls(base_url=urls.get(cls.slug))
        for cls in (
            AwsAdapter,
            AzureAdapter,
            CoreWeaveAdapter,
            CudoAdapter,
            GcpAdapter,
            HyperstackAdapter,
            LambdaAdapter,
        )
    ]
    adapters.append(NebiusAdapter(nebius_table, base_url=urls.get("nebius")))
    adapters += [
        cls(base_url=urls.get(cls.slug))
        for cls in (
            OciAdapter,
            RunPodAdapter,
            TensorDockAdapter,
            VastAdapter,
            VerdaAdapter,
            VoltageParkAdapter,
        )
    ]
    return adapters


__all__ = [
    "Adapter",
    "AwsAdapter",
    "AzureAdapter",
    "CoreWeaveAdapter",
    "CudoAdapter",
    "GcpAdapter",
    "HyperstackAdapter",
    "LambdaAdapter",
    "MissingCredentials",
    "NebiusAdapter",
    "OciAdapter",
    "ProviderSkipped",
    "RunPodAdapter",
    "TensorDockAdapter",
    "VastAdapter",
    "VerdaAdapter",
    "VoltageParkAdapter",
    "all_adapters",
]
