"""The contract every server-list adapter meets, the same as the price adapters': async
`fetch` does the I/O (httpx, through the price pull's `Http` and its retry rules) and
returns raw responses, archived before anything reads them; pure `parse` turns them into
`ListedServer`s and raises `DataError` on anything it cannot understand."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from site_builder.errors import DataError
from site_builder.pull.gpu.http import Http
from site_builder.pull.gpu.offer import RawResponse
from site_builder.pull.gpu.providers.base import MissingCredentials, record
from site_builder.pull.servers.listing import ListedServer


class ServerListAdapter(ABC):
    slug: ClassVar[str]
    name: ClassVar[str]
    website: ClassVar[str]
    # (response name, URL) in the order fetched; every list is one or a few GETs, no paging
    requests: ClassVar[tuple[tuple[str, str], ...]]
    credential_env: ClassVar[tuple[str, ...]] = ()

    def __init__(self, base_url: str | None = None) -> None:
        # Tests point every request at a local server that speaks the real protocol.
        self.base_url = base_url.rstrip("/") if base_url else None

    def url(self, real_url: str) -> str:
        if self.base_url is None:
            return real_url
        parts = urlsplit(real_url)
        return f"{self.base_url}{parts.path}" + (f"?{parts.query}" if parts.query else "")

    def credentials(self, env: Mapping[str, str | None]) -> dict[str, str]:
        missing = tuple(name for name in self.credential_env if not env.get(name))
        if missing:
            raise MissingCredentials(self.slug, missing)
        return {name: str(env[name]) for name in self.credential_env}

    def headers(self, credentials: Mapping[str, str]) -> dict[str, str]:
        return {"Accept": "application/json"}

    async def fetch(self, http: Http, credentials: Mapping[str, str]) -> list[RawResponse]:
        responses = []
        for name, url in self.requests:
            response = await http.get(self.url(url), headers=self.headers(credentials))
            responses.append(record(name, response))
        return responses

    @abstractmethod
    def parse(self, responses: list[RawResponse]) -> list[ListedServer]:
        """Raw responses -> servers. Pure: no I/O, no clock."""


def body(responses: list[RawResponse], provider: str, name: str) -> Any:
    """The named response's JSON; HTML (a login wall, a CDN error page) or anything else
    that is not JSON is a DataError naming the provider and the response."""
    response = next((r for r in responses if r.name == name), None)
    if response is None:
        raise DataError(f"{provider}: no {name!r} response in the fetched data")
    text = response.body.lstrip()
    if "html" in response.content_type.lower() or text[:1] == "<":
        raise DataError(
            f"{provider}: {name} returned HTML, not JSON (a login or error page?): {text[:60]!r}"
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{provider}: {name} is not valid JSON ({exc.msg} at line {exc.lineno})"
        ) from None


def expect(value: Any, kind: type | tuple[type, ...], provider: str, where: str) -> Any:
    """`value` when it has the expected JSON type, else a DataError: the shape changed."""
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _types(kind)):
        wanted = " or ".join(t.__name__ for t in _types(kind))
        raise DataError(
            f"{provider}: {where} should be {wanted}, got {type(value).__name__}"
            " (the list changed shape)"
        )
    return value


def _types(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def text(entry: Mapping[str, Any], key: str, provider: str, where: str) -> str:
    """A required non-empty string field."""
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise DataError(f"{provider}: {where} lacks {key!r} (the list changed shape)")
    return value.strip()


def optional_text(entry: Mapping[str, Any], key: str) -> str | None:
    value = entry.get(key)
    return value.strip() or None if isinstance(value, str) else None
