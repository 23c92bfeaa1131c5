"""Price adapters, one module per provider."""

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from site_builder.errors import ConfigError
from site_builder.pull.gpu.providers.aws import AwsAdapter
from site_builder.pull.gpu.providers.azure import AzureAdapter
from site_builder.pull.gpu.providers.base import Adapter, MissingCredentials, ProviderSkipped
from site_builder.pull.gpu.providers.cloudrift import CloudRiftAdapter
from site_builder.pull.gpu.providers.coreweave import CoreWeaveAdapter
from site_builder.pull.gpu.providers.crusoe import CrusoeAdapter
from site_builder.pull.gpu.providers.cudo import CudoAdapter
from site_builder.pull.gpu.providers.digitalocean import DigitalOceanAdapter
from site_builder.pull.gpu.providers.gcp import GcpAdapter
from site_builder.pull.gpu.providers.hotaisle import HotAisleAdapter
from site_builder.pull.gpu.providers.hyperbolic import HyperbolicAdapter
from site_builder.pull.gpu.providers.hyperstack import HyperstackAdapter
from site_builder.pull.gpu.providers.jarvislabs import JarvisLabsAdapter
from site_builder.pull.gpu.providers.lambdalabs import LambdaAdapter
from site_builder.pull.gpu.providers.latitude import LatitudeAdapter
from site_builder.pull.gpu.providers.linode import LinodeAdapter
from site_builder.pull.gpu.providers.mithril import MithrilAdapter
from site_builder.pull.gpu.providers.nebius import NebiusAdapter
from site_builder.pull.gpu.providers.novita import NovitaAdapter
from site_builder.pull.gpu.providers.oci import OciAdapter
from site_builder.pull.gpu.providers.ovhcloud import OvhCloudAdapter
from site_builder.pull.gpu.providers.primeintellect import PrimeIntellectAdapter
from site_builder.pull.gpu.providers.runpod import RunPodAdapter
from site_builder.pull.gpu.providers.scaleway import ScalewayAdapter
from site_builder.pull.gpu.providers.seeweb import SeewebAdapter
from site_builder.pull.gpu.providers.shadeform import ShadeformAdapter
from site_builder.pull.gpu.providers.table import DatedTableAdapter
from site_builder.pull.gpu.providers.tensordock import TensorDockAdapter
from site_builder.pull.gpu.providers.vast import VastAdapter
from site_builder.pull.gpu.providers.verda import VerdaAdapter
from site_builder.pull.gpu.providers.voltagepark import VoltageParkAdapter
from site_builder.pull.gpu.providers.vultr import VultrAdapter

# Providers with an API (or page) of their own, after the first fourteen.
API_ADAPTERS: tuple[type[Adapter], ...] = (
    CloudRiftAdapter,
    DigitalOceanAdapter,
    HotAisleAdapter,
    HyperbolicAdapter,
    JarvisLabsAdapter,
    LatitudeAdapter,
    LinodeAdapter,
    MithrilAdapter,
    NovitaAdapter,
    ScalewayAdapter,
    SeewebAdapter,
    VultrAdapter,
)
# Aggregators: they list other clouds' capacity (offers carry details["via"]).
AGGREGATORS: tuple[type[Adapter], ...] = (PrimeIntellectAdapter, ShadeformAdapter)
# Dated tables an editor keeps in data/gpu_prices/ (beside nebius.toml).
TABLE_ADAPTERS: tuple[type[DatedTableAdapter], ...] = (CrusoeAdapter, OvhCloudAdapter)


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
    adapters += [cls(base_url=urls.get(cls.slug)) for cls in API_ADAPTERS + AGGREGATORS]
    adapters += [
        cls(nebius_table.parent / cls.table_name, base_url=urls.get(cls.slug))
        for cls in TABLE_ADAPTERS
    ]
    return sorted(adapters, key=lambda a: a.slug)


BASE_URLS_ENV = "SITE_BUILDER_PRICE_BASE_URLS"


def base_urls_from_env(env: Mapping[str, str | None], known: set[str]) -> dict[str, str]:
    """`$SITE_BUILDER_PRICE_BASE_URLS` ("slug=URL slug=URL", the ECB as `ecb`): send those
    providers' requests to another server with the same paths (a local fake in the
    tests, a mirror or a recording proxy). Unset: the real APIs."""
    text = (env.get(BASE_URLS_ENV) or "").replace(",", " ")
    urls: dict[str, str] = {}
    for item in text.split():
        slug, _, url = item.partition("=")
        if slug not in known:
            raise ConfigError(
                f"{BASE_URLS_ENV}: unknown provider {slug!r}; known: {', '.join(sorted(known))}"
            )
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise ConfigError(f"{BASE_URLS_ENV}: {slug}: {url!r} is not an http(s) URL")
        urls[slug] = url
    return urls


__all__ = [
    "BASE_URLS_ENV",
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
    "base_urls_from_env",
]
