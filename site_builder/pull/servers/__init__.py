"""`pull servers`: the VPN providers' own server lists into the store.

Live: every adapter fetches concurrently (httpx, the price pull's retry rules, a deadline
per provider); each provider's raw responses are archived under
``<archive_root>/servers/<run>/`` (the price archive's format) before anything parses
them. Then, provider by provider in one transaction each: pure ``parse`` -> country and
city normalisation -> the shrink guard -> upsert -> editor flags -> the retire rule ->
a run row. Replaying an archive (``--from-snapshot``) runs the very same code, with the
time each list was fetched as its "now", so a replay gives the same store.

A provider whose answer is unusable (HTML, a changed shape, an unknown country, a list
under half its last size) is **quarantined**: a run row with the reason, the archive kept,
and its inventory untouched. One with no answer fails the same way, without retiring.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine

from site_builder.errors import DataError
from site_builder.pull.gpu import snapshot
from site_builder.pull.gpu.http import Http, RetryPolicy
from site_builder.pull.gpu.offer import RawResponse
from site_builder.pull.gpu.providers.base import ProviderSkipped
from site_builder.pull.measurements.flags import ServerFlags, apply_flags
from site_builder.pull.measurements.reference import sync_reference
from site_builder.pull.servers.listing import ListedServer
from site_builder.pull.servers.places import Places
from site_builder.pull.servers.providers import ServerListAdapter
from site_builder.pull.servers.store import (
    ListResult,
    ProviderInfo,
    check_size,
    log_run,
    normalise,
    retire,
    store_list,
)

Fetched = list[RawResponse] | Exception


@dataclass(frozen=True)
class ServerPullSettings:
    request_timeout_s: float = 30.0
    response_deadline_s: float = 60.0
    provider_deadline_s: float = 120.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass
class ServerListReport:
    run_id: str
    source: str  # live | snapshot
    results: list[ListResult] = field(default_factory=list)
    unmatched_flags: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def quarantined(self) -> list[ListResult]:
        return [r for r in self.results if r.status == "quarantined"]


def pull_servers(
    engine: Engine,
    adapters: list[ServerListAdapter],
    reference: Mapping[str, Any],
    flags: list[ServerFlags],
    *,
    snapshot_dir: Path | None = None,
    archive_root: Path | None = None,
    env: Mapping[str, str | None] | None = None,
    settings: ServerPullSettings | None = None,
    on_result: Callable[[ListResult], None] | None = None,
    accept_shrink: frozenset[str] = frozenset(),
) -> ServerListReport:
    """Pull every adapter's list live (archiving it) or replay `snapshot_dir`. The
    providers in `accept_shrink` skip the shrink guard once (an editor checked that the
    provider really dropped that many servers)."""
    settings = settings or ServerPullSettings()
    places = Places.from_reference(reference)
    with engine.begin() as connection:
        sync_reference(connection, dict(reference))
    if snapshot_dir is not None:
        manifest = snapshot.read_manifest(snapshot_dir)
        report = ServerListReport(run_id=str(manifest["run_id"]), source="snapshot")
        available = manifest["providers"]
        assert isinstance(available, dict)
        fetched: dict[str, Fetched] = {}
        for adapter in adapters:
            if adapter.slug in available:
                try:
                    fetched[adapter.slug] = snapshot.read_provider(snapshot_dir, adapter.slug)
                except DataError as exc:
                    fetched[adapter.slug] = exc
        chosen = [a for a in adapters if a.slug in fetched]
    else:
        now = datetime.now(UTC)
        report = ServerListReport(run_id=now.strftime("%Y%m%dT%H%M%SZ"), source="live")
        fetched = asyncio.run(_fetch_all(adapters, env or {}, settings))
        chosen = adapters
        if archive_root is not None:
            folder = archive_root / "servers" / report.run_id
            names = [slug for slug, got in fetched.items() if isinstance(got, list)]
            for slug in names:
                snapshot.write_provider(folder, slug, fetched[slug])  # type: ignore[arg-type]
            if names:
                snapshot.write_manifest(folder, report.run_id, names)
    for adapter in chosen:
        guard = adapter.slug not in accept_shrink
        result = _process(engine, adapter, fetched[adapter.slug], places, flags, report, guard)
        report.results.append(result)
        if on_result:
            on_result(result)
    with engine.begin() as connection:
        report.unmatched_flags = apply_flags(connection, flags)
    return report


def _process(
    engine: Engine,
    adapter: ServerListAdapter,
    fetched: Fetched,
    places: Places,
    flags: list[ServerFlags],
    report: ServerListReport,
    guard: bool = True,
) -> ListResult:
    slug = adapter.slug
    if isinstance(fetched, ProviderSkipped):
        return ListResult(slug, "skipped", reason=str(fetched))
    if isinstance(fetched, Exception) and not isinstance(fetched, DataError):
        result = ListResult(slug, "failed", reason=_describe(slug, fetched))
        listed_at = datetime.now(UTC)
    else:
        listed_at = _listed_at(fetched) if isinstance(fetched, list) else datetime.now(UTC)
        try:
            if isinstance(fetched, Exception):
                raise fetched
            rows = normalise(_parse(adapter, fetched), places)
            with engine.begin() as connection:
                check_size(connection, slug, len(rows), guard=guard)
                info = ProviderInfo(slug, adapter.name, adapter.website)
                result = store_list(connection, info, rows, listed_at)
                apply_flags(connection, flags)  # `static` must be current before retiring
                result.retired = retire(connection, slug, listed_at)
                log_run(connection, result, report.run_id, report.source, listed_at)
            return result
        except DataError as exc:
            result = ListResult(slug, "quarantined", reason=str(exc))
    with engine.begin() as connection:
        log_run(connection, result, report.run_id, report.source, listed_at)
    return result


def _parse(adapter: ServerListAdapter, responses: list[RawResponse]) -> list[ListedServer]:
    """The adapter's parse; an error it did not foresee means the list changed shape."""
    try:
        return adapter.parse(responses)
    except DataError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise DataError(
            f"{adapter.slug}: the list changed shape ({type(exc).__name__}: {exc})"
        ) from None


def _listed_at(responses: list[RawResponse]) -> datetime:
    return max(r.fetched_at for r in responses)


def _describe(slug: str, exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"{slug}: no complete answer in time; the inventory is kept"
    message = str(exc).removeprefix(f"{slug}: ") or type(exc).__name__
    return f"{slug}: {message}; the inventory is kept"


async def _fetch_all(
    adapters: list[ServerListAdapter],
    env: Mapping[str, str | None],
    settings: ServerPullSettings,
) -> dict[str, Fetched]:
    async def one(http: Http, adapter: ServerListAdapter) -> Fetched:
        try:
            credentials = adapter.credentials(env)
        except ProviderSkipped as exc:
            return exc
        try:
            async with asyncio.timeout(settings.provider_deadline_s):
                return await adapter.fetch(http, credentials)
        except Exception as exc:
            return exc

    timeout = httpx.Timeout(settings.request_timeout_s)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=True) as client:
        http = Http(client, settings.retry, response_deadline_s=settings.response_deadline_s)
        results = await asyncio.gather(*(one(http, a) for a in adapters))
    return {a.slug: r for a, r in zip(adapters, results, strict=True)}


__all__ = ["ServerListReport", "ServerPullSettings", "pull_servers"]
