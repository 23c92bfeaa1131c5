"""The price half of the pull stage.

``pull_prices`` runs every adapter: live (fetch concurrently under deadlines, archive the
raw responses, parse, store each provider as its answer arrives; see ``live.py``) or from
an archive (parse only). Each provider's result is validated, normalized and stored in its
own transaction, so one broken or slow provider never takes the others down, and never
overwrites its own last good prices.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import SQLAlchemyError

from site_builder.db.models import GpuProviderHealth
from site_builder.db.upsert import upsert
from site_builder.errors import DataError
from site_builder.pull.gpu import fx, snapshot
from site_builder.pull.gpu.catalog import GpuCatalog
from site_builder.pull.gpu.http import CredentialsRejected, ResponseTooSlow
from site_builder.pull.gpu.live import (
    DeadlineExceeded,
    Fetched,
    FetchEvent,
    NotStarted,
    fetch_and_store,
)
from site_builder.pull.gpu.on_request import split_on_request, store_on_request
from site_builder.pull.gpu.pipeline import normalize
from site_builder.pull.gpu.providers import Adapter, ProviderSkipped
from site_builder.pull.gpu.settings import PROVIDER_DEADLINE_S, STAGE_DEADLINE_S, PullSettings
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

__all__ = [
    "PROVIDER_DEADLINE_S",
    "STAGE_DEADLINE_S",
    "DeadlineExceeded",
    "PriceReport",
    "ProviderResult",
    "PullSettings",
    "ecb_url",
    "pull_prices",
]

ecb_url = fx.ecb_url


@dataclass
class ProviderResult:
    provider: str
    status: str  # ok | failed | skipped
    seen: int = 0
    stored: int = 0
    quarantined: int = 0
    held: int = 0
    confirmed: int = 0
    cleared: int = 0  # held price moves dropped because the price came back
    changed: int = 0
    duration_ms: int = 0
    message: str = ""
    unknown_gpu_names: list[str] = field(default_factory=list)
    deadline: bool = False  # given up at the provider or stage deadline
    on_request: int = 0  # offers listed without a price, kept as "price on request"


@dataclass
class PriceReport:
    run_id: str
    source: str
    results: list[ProviderResult]
    fx_note: str = ""

    @property
    def failed(self) -> list[ProviderResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def timed_out(self) -> list[ProviderResult]:
        """Providers given up at a deadline (failed or, never started, skipped)."""
        return [r for r in self.results if r.deadline]


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
    started: float,
) -> ProviderResult:
    """Parse, validate and store one provider's responses in one transaction."""
    now = (
        max(r.fetched_at for r in fetched)
        if isinstance(fetched, list) and fetched
        else datetime.now(UTC)
    )
    with engine.begin() as connection:
        ensure_provider(connection, _info(adapter))
        pull_run_id = start_run(
            connection, run_id=run_id, provider=adapter.slug, source=source, started_at=now
        )
    elapsed = lambda: int((time.monotonic() - started) * 1000)  # noqa: E731
    if isinstance(fetched, ProviderSkipped):
        with engine.begin() as connection:
            finish_run(connection, pull_run_id, status="skipped", duration_ms=0, error=str(fetched))
        return ProviderResult(
            adapter.slug, "skipped", message=str(fetched), deadline=isinstance(fetched, NotStarted)
        )
    try:
        if isinstance(fetched, Exception):
            raise fetched
        parsed = adapter.parse(fetched)
        if not parsed:  # an empty answer must not expire the last good prices
            raise DataError(f"{adapter.slug}: the response holds no offers; last prices kept")
        with engine.connect() as connection:
            usd_rates = fx.usd_per_unit(connection, now.date())
        priced, requested, request_rejections = split_on_request(parsed, catalog)
        offers, rejections = normalize(priced, catalog, settings.rules, usd_rates)
        rejections = request_rejections + rejections
    except Exception as exc:  # any adapter failure is this provider's, never the pull's
        message = _describe(exc)
        with engine.begin() as connection:
            finish_run(
                connection, pull_run_id, status="failed", duration_ms=elapsed(), error=message
            )
        return ProviderResult(
            adapter.slug,
            "failed",
            duration_ms=elapsed(),
            message=message,
            deadline=isinstance(exc, DeadlineExceeded),
        )
    try:
        with engine.begin() as connection:
            stored = store_offers(
                connection,
                adapter.slug,
                offers,
                now=now,
                inactive_after=settings.inactive_after,
                anomaly=settings.anomaly,
            )
            on_request = store_on_request(
                connection,
                adapter.slug,
                requested,
                offers,
                now=now,
                inactive_after=settings.inactive_after,
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
    except SQLAlchemyError as exc:  # rolled back: this provider's problem, not the pull's
        detail = " ".join(str(getattr(exc, "orig", None) or exc).split())[:300]
        message = f"{adapter.slug}: its prices could not be stored ({detail}); last prices kept"
        with engine.begin() as connection:
            finish_run(
                connection, pull_run_id, status="failed", duration_ms=elapsed(), error=message
            )
        return ProviderResult(adapter.slug, "failed", duration_ms=elapsed(), message=message)
    unknown = sorted({r.parsed.raw_gpu_name for r in rejections if r.reason_code == "unknown_gpu"})
    return ProviderResult(
        adapter.slug,
        "ok",
        seen=counts.seen,
        stored=counts.stored,
        quarantined=counts.quarantined,
        held=counts.held,
        confirmed=counts.confirmed,
        cleared=stored.cleared,
        changed=stored.changed,
        duration_ms=elapsed(),
        unknown_gpu_names=unknown,
        on_request=on_request,
    )


def _describe(exc: Exception) -> str:
    if isinstance(exc, CredentialsRejected):
        return str(exc)
    if isinstance(exc, ResponseTooSlow):  # before TimeoutException: it names its URL itself
        return f"timed out: {exc}"
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


class _Archive:
    """The raw responses of a live run, written provider by provider as each arrives; the
    manifest is rewritten after each, so a run killed half-way leaves a replayable archive."""

    def __init__(self, folder: Path, run_id: str) -> None:
        self.folder, self.run_id, self.names = folder, run_id, list[str]()

    def add(self, name: str, fetched: Fetched | None) -> None:
        if not isinstance(fetched, list):
            return
        snapshot.write_provider(self.folder, name, fetched)
        self.names.append(name)
        snapshot.write_manifest(self.folder, self.run_id, self.names)


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
    """Pull prices live (archiving raw responses under `archive_root`) or from a snapshot.

    Every provider ends as a result (ok, failed or skipped); nothing raises for a provider's
    fault or a deadline: providers given up at `settings.provider_deadline_s` or
    `settings.stage_deadline_s` are failed (`ProviderResult.deadline`, `PriceReport.timed_out`).
    `on_result` is called, on the calling thread, as each provider is stored.
    """
    settings = settings or PullSettings()
    report_result = on_result or (lambda _r: None)
    with engine.begin() as connection:
        sync_catalog(connection, catalog)
    if snapshot_dir is not None:
        return _replay(engine, adapters, catalog, snapshot_dir, settings, report_result)
    now = datetime.now(UTC)
    run_id = now.strftime("%Y%m%dT%H%M%SZ")
    with engine.connect() as connection:
        skip = circuit_skips(connection, [a.slug for a in adapters], now, settings)
    archive = _Archive(archive_root / run_id, run_id) if archive_root is not None else None

    def store_rates(fetched: Fetched | None) -> str:
        if archive is not None:
            archive.add(fx.ARCHIVE_NAME, fetched)
        return _store_rates(engine, fetched)

    def store(adapter: Adapter, fetched: Fetched, started: float) -> ProviderResult:
        if archive is not None:
            archive.add(adapter.slug, fetched)
        result = _process(
            engine,
            adapter,
            fetched,
            catalog=catalog,
            settings=settings,
            run_id=run_id,
            source="live",
            started=started,
        )
        with engine.begin() as connection:
            record_health(connection, result, settings, datetime.now(UTC))
        return result

    results, fx_note = asyncio.run(
        fetch_and_store(
            adapters,
            env=env or {},
            settings=settings,
            skip=skip,
            on_fetch=on_fetch or (lambda _s, _e: None),
            store_rates=store_rates,
            store=store,
            on_stored=report_result,
        )
    )
    return PriceReport(run_id=run_id, source="live", results=results, fx_note=fx_note)


def _replay(
    engine: Engine,
    adapters: list[Adapter],
    catalog: GpuCatalog,
    snapshot_dir: Path,
    settings: PullSettings,
    on_result: Callable[[ProviderResult], None],
) -> PriceReport:
    """Parse and store an archive's responses, provider by provider (no network, no
    deadlines, no circuit breaker)."""
    manifest = snapshot.read_manifest(snapshot_dir)
    run_id = str(manifest["run_id"])
    available = manifest["providers"]
    assert isinstance(available, dict)

    def read(name: str) -> Fetched:
        try:
            return snapshot.read_provider(snapshot_dir, name)
        except DataError as exc:
            return exc

    fx_note = _store_rates(engine, read(fx.ARCHIVE_NAME) if fx.ARCHIVE_NAME in available else None)
    results = []
    for adapter in (a for a in adapters if a.slug in available):
        started = time.monotonic()
        result = _process(
            engine,
            adapter,
            read(adapter.slug),
            catalog=catalog,
            settings=settings,
            run_id=run_id,
            source="snapshot",
            started=started,
        )
        results.append(result)
        on_result(result)
    return PriceReport(run_id=run_id, source="snapshot", results=results, fx_note=fx_note)


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
