"""The price half of the pull stage.

``pull_prices`` runs every adapter: live (fetch concurrently, archive the raw responses,
then parse) or from an archive (parse only). Each provider's result is validated,
normalized and stored in its own transaction, so one broken provider never takes the
others down, and never overwrites its own last good prices.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import Connection, Engine, select

from site_builder.db.models import GpuProviderHealth
from site_builder.db.upsert import upsert
from site_builder.errors import DataError
from site_builder.pull.gpu import snapshot
from site_builder.pull.gpu.catalog import GpuCatalog
from site_builder.pull.gpu.http import CredentialsRejected, Http, RetryPolicy
from site_builder.pull.gpu.offer import RawResponse
from site_builder.pull.gpu.pipeline import PriceRules, normalize
from site_builder.pull.gpu.providers import Adapter, MissingCredentials, ProviderSkipped
from site_builder.pull.gpu.store import (
    ProviderInfo,
    StoredCounts,
    ensure_provider,
    finish_run,
    quarantine,
    start_run,
    store_offers,
    sync_catalog,
)


@dataclass(frozen=True)
class PullSettings:
    rules: PriceRules = field(default_factory=PriceRules)
    inactive_after: timedelta = timedelta(days=2)
    request_timeout_s: float = 30.0
    max_concurrent_providers: int = 8
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    failures_to_open_circuit: int = 3  # consecutive failed runs before a provider is skipped
    circuit_cooldown: timedelta = timedelta(hours=6)  # then one trial run decides


@dataclass
class ProviderResult:
    provider: str
    status: str  # ok | failed | skipped
    seen: int = 0
    stored: int = 0
    quarantined: int = 0
    changed: int = 0
    duration_ms: int = 0
    message: str = ""
    unknown_gpu_names: list[str] = field(default_factory=list)


@dataclass
class PriceReport:
    run_id: str
    source: str
    results: list[ProviderResult]

    @property
    def failed(self) -> list[ProviderResult]:
        return [r for r in self.results if r.status == "failed"]


Fetched = list[RawResponse] | Exception


def _info(adapter: Adapter) -> ProviderInfo:
    return ProviderInfo(adapter.slug, adapter.name, adapter.website, adapter.pricing_source)


def _process(
    engine: Engine,
    adapter: Adapter,
    fetched: Fetched,
    *,
    catalog: GpuCatalog,
    settings: PullSettings,
    run_id: str,
    source: str,
    now: datetime,
    started: float,
) -> ProviderResult:
    """Parse, validate and store one provider's responses in one transaction."""
    with engine.begin() as connection:
        ensure_provider(connection, _info(adapter))
        pull_run_id = start_run(
            connection, run_id=run_id, provider=adapter.slug, source=source, started_at=now
        )
    elapsed = lambda: int((time.monotonic() - started) * 1000)  # noqa: E731
    if isinstance(fetched, ProviderSkipped):
        with engine.begin() as connection:
            finish_run(connection, pull_run_id, status="skipped", duration_ms=0, error=str(fetched))
        return ProviderResult(adapter.slug, "skipped", message=str(fetched))
    try:
        if isinstance(fetched, Exception):
            raise fetched
        parsed = adapter.parse(fetched)
        if not parsed:  # an empty answer must not expire the last good prices
            raise DataError(f"{adapter.slug}: the response holds no offers; last prices kept")
        offers, rejections = normalize(parsed, catalog, settings.rules)
    except Exception as exc:  # any adapter failure is this provider's, never the pull's
        message = _describe(exc)
        with engine.begin() as connection:
            finish_run(
                connection, pull_run_id, status="failed", duration_ms=elapsed(), error=message
            )
        return ProviderResult(adapter.slug, "failed", duration_ms=elapsed(), message=message)
    with engine.begin() as connection:
        changed, deactivated = store_offers(
            connection, adapter.slug, offers, now=now, inactive_after=settings.inactive_after
        )
        quarantine(connection, rejections, pull_run_id=pull_run_id, now=now)
        counts = StoredCounts(len(parsed), len(offers), len(rejections), changed, deactivated)
        finish_run(connection, pull_run_id, status="ok", duration_ms=elapsed(), counts=counts)
    unknown = sorted({r.parsed.raw_gpu_name for r in rejections if r.reason_code == "unknown_gpu"})
    return ProviderResult(
        adapter.slug,
        "ok",
        seen=counts.seen,
        stored=counts.stored,
        quarantined=counts.quarantined,
        changed=changed,
        duration_ms=elapsed(),
        unknown_gpu_names=unknown,
    )


def _describe(exc: Exception) -> str:
    if isinstance(exc, CredentialsRejected):
        return str(exc)
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        hint = " (credentials rejected)" if status in (401, 403) else ""
        return f"HTTP {status} from {exc.request.url}{hint}"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out: {exc.request.url}"
    if isinstance(exc, httpx.HTTPError):
        return f"network error: {exc}"
    if isinstance(exc, DataError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


async def _fetch_all(
    adapters: list[Adapter],
    env: Mapping[str, str | None],
    settings: PullSettings,
    skip: Mapping[str, ProviderSkipped],
) -> dict[str, Fetched]:
    limit = asyncio.Semaphore(settings.max_concurrent_providers)

    async def one(http: Http, adapter: Adapter) -> Fetched:
        if adapter.slug in skip:
            return skip[adapter.slug]
        try:
            credentials = adapter.credentials(env)
        except MissingCredentials as exc:
            return exc
        async with limit:
            try:
                return await adapter.fetch(http, credentials)
            except Exception as exc:
                return exc

    timeout = httpx.Timeout(settings.request_timeout_s)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=True) as client:
        http = Http(client, settings.retry)
        results = await asyncio.gather(*(one(http, a) for a in adapters))
    return {a.slug: r for a, r in zip(adapters, results, strict=True)}


def pull_prices(
    engine: Engine,
    adapters: list[Adapter],
    catalog: GpuCatalog,
    *,
    snapshot_dir: Path | None = None,
    archive_root: Path | None = None,
    env: Mapping[str, str | None] | None = None,
    settings: PullSettings | None = None,
    on_result: Callable[[ProviderResult], None] | None = None,
) -> PriceReport:
    """Pull prices live (archiving raw responses under `archive_root`) or from a snapshot."""
    settings = settings or PullSettings()
    with engine.begin() as connection:
        sync_catalog(connection, catalog)
    if snapshot_dir is not None:
        manifest = snapshot.read_manifest(snapshot_dir)
        run_id, source = str(manifest["run_id"]), "snapshot"
        available = manifest["providers"]
        assert isinstance(available, dict)
        adapters = [a for a in adapters if a.slug in available]
        fetched: dict[str, Fetched] = {}
        for adapter in adapters:
            try:
                fetched[adapter.slug] = snapshot.read_provider(snapshot_dir, adapter.slug)
            except DataError as exc:
                fetched[adapter.slug] = exc
    else:
        now = datetime.now(UTC)
        run_id, source = now.strftime("%Y%m%dT%H%M%SZ"), "live"
        with engine.connect() as connection:
            skip = circuit_skips(connection, [a.slug for a in adapters], now, settings)
        fetched = asyncio.run(_fetch_all(adapters, env or {}, settings, skip))
        if archive_root is not None:
            run_dir = archive_root / run_id
            archived = [s for s, r in fetched.items() if isinstance(r, list)]
            for slug in archived:
                snapshot.write_provider(run_dir, slug, fetched[slug])  # type: ignore[arg-type]
            if archived:
                snapshot.write_manifest(run_dir, run_id, archived)
    results = []
    for adapter in adapters:
        started = time.monotonic()
        responses = fetched[adapter.slug]
        now = (
            max(r.fetched_at for r in responses)
            if isinstance(responses, list) and responses
            else datetime.now(UTC)
        )
        result = _process(
            engine,
            adapter,
            responses,
            catalog=catalog,
            settings=settings,
            run_id=run_id,
            source=source,
            now=now,
            started=started,
        )
        if source == "live":
            with engine.begin() as connection:
                record_health(connection, result, settings, datetime.now(UTC))
        results.append(result)
        if on_result:
            on_result(result)
    return PriceReport(run_id=run_id, source=source, results=results)


def circuit_skips(
    connection: Connection, slugs: list[str], now: datetime, settings: PullSettings
) -> dict[str, ProviderSkipped]:
    """Providers whose circuit is open and still cooling down: skipped without a request."""
    table = GpuProviderHealth.__table__
    skips = {}
    for row in connection.execute(select(table).where(table.c.provider_slug.in_(slugs))):
        if (
            row.state == "open"
            and row.opened_at
            and now - row.opened_at < settings.circuit_cooldown
        ):
            retry_at = row.opened_at + settings.circuit_cooldown
            skips[row.provider_slug] = ProviderSkipped(
                f"{row.provider_slug}: skipped, circuit open after {row.consecutive_failures}"
                f" failed runs (last: {row.last_error});"
                f" next trial after {retry_at:%Y-%m-%d %H:%M} UTC"
            )
    return skips


def record_health(
    connection: Connection, result: ProviderResult, settings: PullSettings, now: datetime
) -> None:
    """Close the circuit on success; count failures and open it at the threshold (or when a
    half-open trial fails). Skips change nothing."""
    if result.status == "skipped":
        return
    table = GpuProviderHealth.__table__
    row = connection.execute(select(table).where(table.c.provider_slug == result.provider)).first()
    if result.status == "ok":
        values: dict[str, object] = {
            "state": "closed",
            "consecutive_failures": 0,
            "opened_at": None,
            "last_success_at": now,
        }
    else:
        failures = (row.consecutive_failures if row else 0) + 1
        trial = row is not None and row.state == "open"  # cooled down: this run was the trial
        opens = trial or failures >= settings.failures_to_open_circuit
        values = {
            "consecutive_failures": failures,
            "last_failure_at": now,
            "last_error": result.message[:500],
            "state": "open" if opens else "closed",
            "opened_at": now if opens else None,
        }
    upsert(connection, table, [{"provider_slug": result.provider, **values}], key=["provider_slug"])
