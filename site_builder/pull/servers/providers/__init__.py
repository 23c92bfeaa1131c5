"""Server-list adapters, one module per VPN provider (docs/servers.md lists their
evidence, and the providers that publish no list)."""

from site_builder.pull.servers.providers.airvpn import AirVpnAdapter
from site_builder.pull.servers.providers.base import ServerListAdapter
from site_builder.pull.servers.providers.ivpn import IvpnAdapter
from site_builder.pull.servers.providers.mullvad import MullvadAdapter
from site_builder.pull.servers.providers.nordvpn import NordVpnAdapter
from site_builder.pull.servers.providers.pia import PiaAdapter
from site_builder.pull.servers.providers.privado import PrivadoAdapter
from site_builder.pull.servers.providers.protonvpn import ProtonVpnAdapter
from site_builder.pull.servers.providers.surfshark import SurfsharkAdapter
from site_builder.pull.servers.providers.windscribe import WindscribeAdapter

ADAPTERS: tuple[type[ServerListAdapter], ...] = (
    AirVpnAdapter,
    IvpnAdapter,
    MullvadAdapter,
    NordVpnAdapter,
    PiaAdapter,
    PrivadoAdapter,
    ProtonVpnAdapter,
    SurfsharkAdapter,
    WindscribeAdapter,
)


def all_adapters(base_urls: dict[str, str] | None = None) -> list[ServerListAdapter]:
    """A fresh instance of every adapter, in a stable order; `base_urls` (slug -> URL)
    sends a provider's requests to a local server with the same paths."""
    urls = base_urls or {}
    return [cls(base_url=urls.get(cls.slug)) for cls in ADAPTERS]


__all__ = ["ADAPTERS", "ServerListAdapter", "all_adapters"]
