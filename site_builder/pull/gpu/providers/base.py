"""The contract every price adapter meets: async `fetch` does the I/O, pure `parse` the rest."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from site_builder.errors import DataError
from site_builder.pull.gpu.http import Http
from site_builder.pull.gpu.offer import ParsedOffer, RawResponse

# Marketplaces price a GPU and the rest of the VM separately; we publish one comparable
# configuration per GPU, the same for every such provider.
STANDARD_VCPUS_PER_GPU = 8
STANDARD_RAM_GB_PER_GPU = 32
STANDARD_STORAGE_GB_PER_GPU = 100
STANDARD_VM = (
    f"1 GPU + {STANDARD_VCPUS_PER_GPU} vCPU + {STANDARD_RAM_GB_PER_GPU} GB RAM"
    f" + {STANDARD_STORAGE_GB_PER_GPU} GB storage"
)


def standard_vm_price(gpu: Decimal, vcpu: Decimal, ram_gb: Decimal, storage_gb: Decimal) -> Decimal:
    """The hourly price of `STANDARD_VM` from per-GPU, per-vCPU, per-GB RAM and per-GB
    storage hourly rates."""
    return (
        gpu
        + vcpu * STANDARD_VCPUS_PER_GPU
        + ram_gb * STANDARD_RAM_GB_PER_GPU
        + storage_gb * STANDARD_STORAGE_GB_PER_GPU
    )


class ProviderSkipped(Exception):
    """This provider is not pulled this time: a skip with a reason, not a failure."""


class MissingCredentials(ProviderSkipped):
    """The adapter needs credentials that the environment does not hold: skip, don't fail."""

    def __init__(self, provider: str, names: tuple[str, ...]) -> None:
        super().__init__(f"{provider}: skipped, set {' and '.join(names)} to pull its prices")
        self.provider = provider
        self.names = names


class Adapter(ABC):
    slug: ClassVar[str]
    name: ClassVar[str]
    website: ClassVar[str]
    pricing_source: ClassVar[str] = "api"  # "api", "html" or "static"
    credential_env: ClassVar[tuple[str, ...]] = ()
    optional_env: ClassVar[tuple[str, ...]] = ()  # used when set, never required

    def __init__(self, base_url: str | None = None) -> None:
        # Tests, the bench and the demo point every request at a local fake of the API.
        self.base_url = base_url.rstrip("/") if base_url else None

    def url(self, real_url: str) -> str:
        """`real_url`, or the same path and query on `base_url` when one is set."""
        if self.base_url is None:
            return real_url
        parts = urlsplit(real_url)
        return f"{self.base_url}{parts.path}" + (f"?{parts.query}" if parts.query else "")

    def credentials(self, env: Mapping[str, str | None]) -> dict[str, str]:
        missing = tuple(name for name in self.credential_env if not env.get(name))
        if missing:
            raise MissingCredentials(self.slug, missing)
        names = self.credential_env + tuple(n for n in self.optional_env if env.get(n))
        return {name: str(env[name]) for name in names}

    @abstractmethod
    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        """Fetch the raw responses the prices are parsed from (`http` retries for you)."""

    @abstractmethod
    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        """Turn raw responses into offers. Pure: no I/O, no clock, no randomness."""


def bearer(credentials: Mapping[str, str], name: str) -> dict[str, str]:
    """An Authorization header from the credential `name`, or none when it is not set."""
    token = credentials.get(name)
    return {"Authorization": f"Bearer {token}"} if token else {}


def record(name: str, response: httpx.Response) -> RawResponse:
    """Keep an httpx response as a RawResponse for the archive."""
    return RawResponse(
        name=name,
        url=str(response.request.url),
        status=response.status_code,
        content_type=response.headers.get("content-type", ""),
        fetched_at=datetime.now(UTC),
        body=response.text,
        request_body=response.request.content.decode("utf-8", "replace"),
    )


def response_named(responses: list[RawResponse], provider: str, name: str) -> RawResponse:
    for response in responses:
        if response.name == name:
            return response
    raise DataError(f"{provider}: no {name!r} response in the fetched data")


def load_json(response: RawResponse, provider: str) -> Any:
    try:
        return json.loads(response.body)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{provider}: {response.name} is not valid JSON ({exc.msg} at line {exc.lineno})"
        ) from None


def field(value: Any, *path: str | int, provider: str, where: str) -> Any:
    """`value[path[0]][path[1]]…`, or a DataError naming the missing field (schema drift)."""
    for key in path:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            dotted = ".".join(str(k) for k in path)
            raise DataError(f"{provider}: {where} lacks field {dotted!r}") from None
    return value


def money(value: Any, *, provider: str, where: str) -> Decimal:
    """A price as the provider sent it (string, int or float) as an exact Decimal."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise DataError(f"{provider}: {where}: price {value!r} is not a number")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise DataError(f"{provider}: {where}: price {value!r} is not a number") from None
    if not amount.is_finite():
        raise DataError(f"{provider}: {where}: price {value!r} is not finite")
    return amount


def host_of(url: str) -> str:
    return urlsplit(url).netloc
