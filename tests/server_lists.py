"""The evidence-shaped server-list fixtures (tests/fixtures/server_lists/<provider>/<name>.json)
as raw responses, and a local HTTP server answering for the providers with them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from site_builder.pull.gpu.offer import RawResponse
from site_builder.pull.servers.providers import ServerListAdapter
from tests.local_http import Handler, LocalServer, Request, serve

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "server_lists"
Answer = tuple[int, str, str]  # status, content type, body
FETCHED_AT = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)


def fixture_body(slug: str, name: str) -> str:
    return (FIXTURES / slug / f"{name}.json").read_text(encoding="utf-8")


def fixture_responses(
    adapter: ServerListAdapter, fetched_at: datetime = FETCHED_AT, **bodies: str
) -> list[RawResponse]:
    """The adapter's responses from the fixtures (`bodies` replaces some by name)."""
    return [
        RawResponse(
            name=name,
            url=url,
            status=200,
            content_type="application/json",
            fetched_at=fetched_at,
            body=bodies.get(name, fixture_body(adapter.slug, name))
            if name not in bodies
            else bodies[name],
        )
        for name, url in adapter.requests
    ]


class _Routes(dict[str, Handler]):
    """Routes by path, where a route ending in "/" also answers every path below it
    (Windscribe's list URL ends in a cache breaker)."""

    def get(self, path: str, default: Handler | None = None) -> Handler | None:  # type: ignore[override]
        if path in self:
            return self[path]
        for prefix, handler in self.items():
            if prefix.endswith("/") and path.startswith(prefix):
                return handler
        return default


@contextmanager
def serve_lists(
    adapters: list[ServerListAdapter],
    bodies: dict[tuple[str, str], tuple[int, str, str]] | None = None,
) -> Iterator[LocalServer]:
    """One local server answering every adapter's paths with its fixtures; `bodies` maps
    (slug, name) to (status, content type, body) to answer otherwise."""
    routes = _Routes()
    for adapter in adapters:
        for name, url in adapter.requests:
            status, kind, body = (bodies or {}).get(
                (adapter.slug, name), (200, "application/json", fixture_body(adapter.slug, name))
            )

            def handler(
                _request: Request, status: int = status, kind: str = kind, body: str = body
            ) -> tuple[int, dict[str, str], bytes]:
                return status, {"Content-Type": kind}, body.encode()

            routes[urlsplit(url).path] = handler
    with serve(routes) as server:
        yield server
