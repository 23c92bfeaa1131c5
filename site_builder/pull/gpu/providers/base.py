"""The contract every price adapter meets: async `fetch` does the I/O, pure `parse` the rest."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from site_builder.errors import DataError
from site_builder.pull.gpu.http import Http
from site_builder.pull.gpu.offer import ParsedOffer, RawResponse


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

    def credentials(self, env: Mapping[str, str | None]) -> dict[str, str]:
        missing = tuple(name for name in self.credential_env if not env.get(name))
        if missing:
            raise MissingCredentials(self.slug, missing)
        return {name: str(env[name]) for name in self.credential_env}

    @abstractmethod
    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        """Fetch the raw responses the prices are parsed from (`http` retries for you)."""

    @abstractmethod
    def parse(self, responses: list[RawResponse]) -> list[ParsedOffer]:
        """Turn raw responses into offers. Pure: no I/O, no clock, no randomness."""


def record(name: str, response: httpx.Response) -> RawResponse:
    """Keep an httpx response as a RawResponse for the archive."""
    return RawResponse(
        name=name,
        url=str(response.request.url),
        status=response.status_code,
        content_type=response.headers.get("content-type", ""),
        fetched_at=datetime.now(UTC),
        body=response.text,
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
