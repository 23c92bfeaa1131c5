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
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import Connection, Engine, select

from site_builder.db.models import GpuProviderHealth
from site_builder.db.upsert import upsert
from site_builder.errors import DataError
from site_builder.pull.gpu import fx, snapshot
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
    hold,
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
    anomaly_threshold: Decimal = Decimal("0.5")  # a move over 50% is held for confirmation
    ecb_url: str | None = fx.ECB_URL  # None: convert with the stored rates only


@dataclass
class ProviderResult:
    provider: str
    status: str  # ok | failed | skipped
    seen: int = 0
    stored: int = 0
    quarantined: int = 0
    held: int = 0
    confirmed: int = 0
    changed: int = 0
    duration_ms: int = 0
    message: str = ""
    unknown_gpu_names: list[str] = field(default_factory=list)


@dataclass
class PriceReport:
    run_id: str
    source: str
    results: list[ProviderResult]
    fx_note: str = ""

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
    usd_rates: Mapping[str, Decimal],
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
        offers, rejections = normalize(parsed, catalog, settings.rules, usd_rates)
    except Exception as exc:  # any adapter failure is this provider's, never the pull's
        message = _describe(exc)
        with engine.begin() as connection:
            finish_run(
                connection, pull_run_id, status="failed", duration_ms=elapsed(), error=message
            )
        return ProviderResult(adapter.slug, "failed", duration_ms=elapsed(), message=message)
    with engine.begin() as connection:
        stored = store_offers(
            connection,
            adapter.slug,
            offers,
            now=now,
            inactive_after=settings.inactive_after,
            anomaly_threshold=settings.anomaly_threshold,
        )
        hold(connection, rejections + stored.held, pull_run_id=pull_run_id, now=now)
        counts = StoredCounts(
            len(parsed),
            len(offers) - len(stored.held),
            len(rejections) + len(stored.held),
            stored.changed,
            stored.deactivated,
            held=len(stored.held),
            confirmed=stored.confirmed,
        )
        finish_run(connection, pull_run_id, status="ok", duration_ms=elapsed(), counts=counts)
    unknown = sorted({r.parsed.raw_gpu_name for r in rejections if r.reason_code == "unknown_gpu"})
    return ProviderResult(
        adapter.slug,
        "ok",
        seen=counts.seen,
        stored=counts.stored,
        quarantined=counts.quarantined,
        held=counts.held,
        confirmed=counts.confirmed,
        changed=stored.changed,
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


FetchEvent = Callable[[str, str], None]  # (provider, "fetching" | "fetched" | "failed" | ...)


async def _fetch_all(
    adapters: list[Adapter],
    env: Mapping[str, str | None],
    settings: PullSettings,
    skip: Mapping[str, ProviderSkipped],
    on_fetch: FetchEvent,
) -> tuple[dict[str, Fetched], Fetched | None]:
    """Fetch every provider (and the ECB rates) concurrently under a global limit; a slow
    provider holds up no other."""
    limit = asyncio.Semaphore(settings.max_concurrent_providers)

    async def one(http: Http, adapter: Adapter) -> Fetched:
        if adapter.slug in skip:
            on_fetch(adapter.slug, "skipped")
            return skip[adapter.slug]
        try:
            credentials = adapter.credentials(env)
        except MissingCredentials as exc:
            on_fetch(adapter.slug, "skipped")
            return exc
        async with limit:
            on_fetch(adapter.slug, "fetching")
            try:
                responses = await adapter.fetch(http, credentials)
            except Exception as exc:
                on_fetch(adapter.slug, "failed")
                return exc
            on_fetch(adapter.slug, "fetched")
            return responses

    async def rates(http: Http) -> Fetched | None:
        if settings.ecb_url is None:
            return None
        try:
            return await fx.fetch_rates(http, settings.ecb_url)
        except Exception as exc:
            return exc

    timeout = httpx.Timeout(settings.request_timeout_s)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=True) as client:
        http = Http(client, settings.retry)
        *results, fx_fetched = await asyncio.gather(*(one(http, a) for a in adapters), rates(http))
    return {a.slug: r for a, r in zip(adapters, results, strict=True)}, fx_fetched


def _store_rates(engine: Engine, fetched: Fetched | None) -> str:
    """Store the day's ECB rates; a failure is reported, never fatal (USD offers need none)."""
    if fetched is None:
        return "no new ECB rates; the latest stored rates are used"
    try:
        if isinstance(fetched, Exception):
            raise fetched
        day, rates = fx.parse_rates(fetched[0].body)
    except Exception as exc:
        return f"ECB rates not updated ({_describe(exc)}); the latest stored rates are used"
    with engine.begin() as connection:
        fx.store_rates(connection, day, rates)
    return f"ECB rates of {day.isoformat()} ({len(rates)} currencies)"


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
    on_fetch: FetchEvent | None = None,
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
        fx_fetched: Fetched | None = None
        if fx.ARCHIVE_NAME in available:
            try:
                fx_fetched = snapshot.read_provider(snapshot_dir, fx.ARCHIVE_NAME)
            except DataError as exc:
                fx_fetched = exc
    else:
        now = datetime.now(UTC)
        run_id, source = now.strftime("%Y%m%dT%H%M%SZ"), "live"
        with engine.connect() as connection:
            skip = circuit_skips(connection, [a.slug for a in adapters], now, settings)
        fetched, fx_fetched = asyncio.run(
            _fetch_all(adapters, env or {}, settings, skip, on_fetch or (lambda _s, _e: None))
        )
        if archive_root is not None:
            run_dir = archive_root / run_id
            to_archive = {s: r for s, r in fetched.items() if isinstance(r, list)}
            if isinstance(fx_fetched, list):
                to_archive[fx.ARCHIVE_NAME] = fx_fetched
            for slug, responses in to_archive.items():
                snapshot.write_provider(run_dir, slug, responses)
            if to_archive:
                snapshot.write_manifest(run_dir, run_id, list(to_archive))
    fx_note = _store_rates(engine, fx_fetched)
    rates_day = max(
        (r.fetched_at for rs in fetched.values() if isinstance(rs, list) for r in rs),
        default=datetime.now(UTC),
    ).date()
    with engine.connect() as connection:
        usd_rates = fx.usd_per_unit(connection, rates_day)
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
            usd_rates=usd_rates,
        )
        if source == "live":
            with engine.begin() as connection:
                record_health(connection, result, settings, datetime.now(UTC))
        results.append(result)
        if on_result:
            on_result(result)
    return PriceReport(run_id=run_id, source=source, results=results, fx_note=fx_note)


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
