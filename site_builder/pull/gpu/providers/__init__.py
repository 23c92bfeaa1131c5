"""Price adapters, one module per provider."""

from site_builder.pull.gpu.providers.base import Adapter, MissingCredentials, ProviderSkipped
from site_builder.pull.gpu.providers.lambdalabs import LambdaAdapter


def all_adapters() -> list[Adapter]:
    """A fresh instance of every adapter, in a stable order."""
    return [LambdaAdapter()]


__all__ = ["Adapter", "LambdaAdapter", "MissingCredentials", "ProviderSkipped", "all_adapters"]
