"""The measurement half of the pull stage: signed probe batches into the store.

Each batch is checked in this order, and stops at the first failure without writing:
already taken (content hash) -> size -> signature -> every line valid -> one insert
transaction. A batch the store refuses anyway (whatever the reason) is rolled back and set
aside like an invalid one, so one bad batch never blocks the ones after it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from site_builder.db.models import VpnIngestedBatch
from site_builder.errors import ConfigError
from site_builder.exchange.settings import ExchangeSettings, is_s3
from site_builder.gcpause import no_cyclic_gc
from site_builder.pull.measurements.batch import AGENT_PREFIX, DEFAULT_MAX_AGE, BatchRejected
from site_builder.pull.measurements.flags import apply_flags, load_flags
from site_builder.pull.measurements.ingest import (
    BatchResult,
    ingested_hashes,
    store_rows,
)
from site_builder.pull.measurements.prepare import (
    DEFAULT_MAX_BATCH_MB,
    DEFAULT_STREAM_ABOVE_MB,
    Prepared,
    Preparer,
    PrepareSettings,
    Rejection,
    ToStream,
    WorkerDied,
)
from site_builder.pull.measurements.reference import (
    known_agents,
    load_reference,
    sync_reference,
)
from site_builder.pull.measurements.remote import (
    DEFAULT_FILE_DEADLINE_S,
    DEFAULT_LISTING_DEADLINE_S,
    download_new,
    is_url,
)
from site_builder.pull.measurements.rollups import refresh_dirty
from site_builder.pull.measurements.status import refresh_status
from site_builder.pull.measurements.stream import stream_batch

PROBE_KEYS_ENV = "SITE_BUILDER_PROBE_KEYS"
AGENT_KEYS_ENV = "SITE_BUILDER_AGENT_KEYS"


@dataclass
class MeasurementReport:
    results: list[BatchResult]
    status_changes: dict[str, int] = field(default_factory=dict)
    unmatched_flags: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def records(self) -> int:
        return sum(r.records for r in self.results if r.status == "ingested")

    @property
    def new_records(self) -> int:
        return sum(r.new_records for r in self.results if r.status == "ingested")


def parse_probe_keys(text: str, origin: str) -> dict[str, bytes]:
    """Probe keys as a JSON object {"probe-id": "secret", ...}."""
    try:
        keys = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{origin}: probe keys are not valid JSON: {exc.msg}") from None
    if not isinstance(keys, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in keys.items()
    ):
        raise ConfigError(f'{origin}: expected a JSON object {{"probe-id": "secret", ...}}')
    return {k: v.encode() for k, v in keys.items()}


def probe_keys_from_env(env: Mapping[str, str | None]) -> dict[str, bytes]:
    """Probes' keys, and server agents' keys under ``agent:<id>`` (batch.AGENT_PREFIX)."""
    text = env.get(PROBE_KEYS_ENV)
    keys = parse_probe_keys(text, PROBE_KEYS_ENV) if text else {}
    agents = env.get(AGENT_KEYS_ENV)
    if agents:
        keys |= {AGENT_PREFIX + k: v for k, v in parse_probe_keys(agents, AGENT_KEYS_ENV).items()}
    return keys


def _reject(path: Path, rejects_dir: Path | None, error: BatchRejected) -> None:
    """Move a refused batch (and its signature) aside with a report of every problem.
    Without a rejects folder (the demo) the batch stays where it is and is only reported."""
    if rejects_dir is None:
        return
    rejects_dir.mkdir(parents=True, exist_ok=True)
    report = "\n".join(
        f"line {line}: {reason}" if line else reason for line, reason in error.problems
    )
    (rejects_dir / f"{path.name}.report.txt").write_text(report + "\n", encoding="utf-8")
    for file in (path, path.with_name(path.name + ".sig")):
        if file.exists():
            shutil.move(file, rejects_dir / file.name)


def pull_measurements(
    engine: Engine,
    source: Path | str,
    *,
    keys: Mapping[str, bytes],
    reference_file: Path,
    rejects_dir: Path | None = None,
    flags_file: Path | None = None,
    now: datetime | None = None,
    status_as_of_data: bool = False,
    on_result: Callable[[BatchResult], None] | None = None,
    jobs: int | None = None,
    max_batch_mb: float | None = DEFAULT_MAX_BATCH_MB,
    stream_above_mb: float | None = DEFAULT_STREAM_ABOVE_MB,
    max_age: timedelta | None = DEFAULT_MAX_AGE,
    deadline_s: float = DEFAULT_LISTING_DEADLINE_S,
    file_deadline_s: float = DEFAULT_FILE_DEADLINE_S,
    exchange_settings: ExchangeSettings | None = None,
    demo: bool = False,
) -> MeasurementReport:
    """Ingest every ``*.ndjson`` batch in `source` (a folder, the URL of a batch listing, or
    an ``s3://bucket/prefix`` exchange read with `exchange_settings`),
    oldest name first, then apply the editors' flags and recompute server status as of now.

    Batches are read, verified and validated in `jobs` worker processes (all cores by
    default) while this process stores the previous ones, in name order.
    With `status_as_of_data` (the demo), status is judged as of the newest record instead,
    so month-old demo data is not all retired. With `demo`, the batches taken are marked as
    demo data, and every page built from them says so.

    A batch file over `max_batch_mb` is refused unread; one over `stream_above_mb` is taken
    a part at a time in this process (see stream.py), so memory stays bounded. Timestamps
    older than `max_age` (or than 2000) or more than 5 minutes ahead of `now` reject their
    batch. From a listing URL,
    downloading stops after `deadline_s` seconds in all (`file_deadline_s` a file); the
    batches downloaded by then are ingested, the rest wait for the next pull.
    """
    if isinstance(source, str) and (is_url(source) or is_s3(source)):
        stored = ingested_hashes(engine)  # one query, not one per listed batch
        with tempfile.TemporaryDirectory(prefix="probe-batches-") as folder:
            max_bytes = None if max_batch_mb is None else int(max_batch_mb * 1_000_000)
            if is_s3(source):
                from site_builder.exchange.fetch import fetch_new  # boto3: only when needed

                problems = fetch_new(
                    source,
                    Path(folder),
                    stored.__contains__,
                    settings=exchange_settings or ExchangeSettings(),
                    deadline_s=deadline_s,
                    max_bytes=max_bytes,
                )
            else:
                problems = download_new(
                    source,
                    Path(folder),
                    stored.__contains__,
                    deadline_s=deadline_s,
                    file_deadline_s=file_deadline_s,
                    max_bytes=max_bytes,
                )
            report = pull_measurements(
                engine,
                Path(folder),
                keys=keys,
                reference_file=reference_file,
                rejects_dir=rejects_dir,
                flags_file=flags_file,
                now=now,
                status_as_of_data=status_as_of_data,
                on_result=on_result,
                jobs=jobs,
                max_batch_mb=max_batch_mb,
                stream_above_mb=stream_above_mb,
                max_age=max_age,
                demo=demo,
            )
        report.results += [BatchResult(n, status, message=m) for n, status, m in problems]
        return report
    source = Path(source)
    if not source.is_dir():
        raise ConfigError(f"{source}: measurement source folder not found")
    now = now or datetime.now(UTC)
    flags = load_flags(flags_file) if flags_file else []
    reference = load_reference(reference_file)
    with engine.begin() as connection:
        sync_reference(connection, reference)
    taken = ingested_hashes(engine)
    work = PrepareSettings(
        keys=dict(keys),
        known_probes=frozenset(p["id"] for p in reference["probe"]),
        known_protocols=frozenset(p["slug"] for p in reference["protocol"]),
        known_agents=known_agents(reference),
        now=now,
        as_copy=engine.dialect.name == "postgresql",
        taken=frozenset(taken),
        max_batch_bytes=None if max_batch_mb is None else int(max_batch_mb * 1_000_000),
        stream_above_bytes=None if stream_above_mb is None else int(stream_above_mb * 1_000_000),
        max_age=max_age,
    )
    results = []
    paths = sorted(source.glob("*.ndjson"))
    with no_cyclic_gc(), Preparer(work, jobs or os.cpu_count() or 1, len(paths)) as preparer:
        for path, prepared in preparer.run(paths):
            result = _store(engine, path, prepared, taken, rejects_dir, now, work)
            results.append(result)
            if on_result:
                on_result(result)
    report = MeasurementReport(results)
    if demo:  # pages built from these say so on every page
        _mark_demo(engine, taken - set(work.taken))
    refresh_dirty(engine)
    with engine.begin() as connection:
        report.unmatched_flags = apply_flags(connection, flags)
        as_of = (latest_record_time(connection) or now) if status_as_of_data else now
        report.status_changes = refresh_status(connection, as_of)
    return report


def _store(
    engine: Engine,
    path: Path,
    prepared: Prepared,
    taken: set[str],
    rejects_dir: Path | None,
    now: datetime,
    settings: PrepareSettings,
) -> BatchResult:
    if isinstance(prepared, WorkerDied):
        return BatchResult(path.name, "failed", message=f"{path.name}: {prepared.message}")
    if isinstance(prepared, Rejection):
        return _rejected(path, BatchRejected(prepared.name, prepared.problems), rejects_dir)
    if isinstance(prepared, ToStream):
        return _store_streamed(engine, path, taken, rejects_dir, now, settings)
    if prepared is None or prepared.sha256 in taken:  # seen before, or twice in this pull
        return BatchResult(path.name, "duplicate")
    try:
        new = store_rows(engine, prepared, source=str(path), now=now)
    except Exception as exc:
        return _refused(path, exc, rejects_dir)
    taken.add(prepared.sha256)
    return BatchResult(path.name, "ingested", records=prepared.record_count, new_records=new)


def _store_streamed(
    engine: Engine,
    path: Path,
    taken: set[str],
    rejects_dir: Path | None,
    now: datetime,
    settings: PrepareSettings,
) -> BatchResult:
    try:
        streamed = stream_batch(engine, path, settings, taken=taken, now=now)
    except BatchRejected as error:
        return _rejected(path, error, rejects_dir)
    except Exception as exc:
        return _refused(path, exc, rejects_dir)
    if streamed is None:
        return BatchResult(path.name, "duplicate")
    taken.add(streamed.sha256)
    return BatchResult(
        path.name, "ingested", records=streamed.records, new_records=streamed.new_records
    )


def _refused(path: Path, exc: Exception, rejects_dir: Path | None) -> BatchResult:
    """A batch the store refused although it passed validation."""
    if _store_unavailable(exc):
        raise exc  # the database, not the batch: setting every batch aside would be wrong
    # Validation should have caught it; whatever the store refused, the transaction rolled
    # back, and the batch goes aside so that the ones after it are still read.
    reason = f"the store refused the batch: {_first_line(exc)}"
    return _rejected(path, BatchRejected(path.name, [(0, reason)]), rejects_dir)


def _rejected(path: Path, error: BatchRejected, rejects_dir: Path | None) -> BatchResult:
    _reject(path, rejects_dir, error)
    return BatchResult(path.name, "rejected", message=str(error))


def _store_unavailable(exc: Exception) -> bool:
    """A lost connection, a locked or unreachable database: no batch's fault."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError | InterfaceError)


def _first_line(exc: BaseException) -> str:
    """An exception's first line, without SQLAlchemy's statement and parameters dump."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip().splitlines()
    return f"{type(original).__name__}: {text[0] if text else ''}"[:300]


def _mark_demo(engine: Engine, hashes: set[str]) -> None:
    table = VpnIngestedBatch.__table__
    with engine.begin() as connection:
        for sha256 in sorted(hashes):
            connection.execute(table.update().where(table.c.sha256 == sha256).values(demo=True))


def latest_record_time(connection: Connection) -> datetime | None:
    table = VpnIngestedBatch.__table__
    return connection.execute(select(func.max(table.c.last_record_at))).scalar_one_or_none()
