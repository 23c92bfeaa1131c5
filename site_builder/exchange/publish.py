"""Publish a spool's pending batches to the exchange, and prune old ones.

Layout in the bucket, under the destination's prefix, one folder per producer (probe or
agent id), which only that producer writes (so two producers never race on one object):

    <prefix>/<producer>/<name>.ndjson        the batch
    <prefix>/<producer>/<name>.ndjson.sig    its signature
    <prefix>/<producer>/index.json           the listing (exchange/listing.py)

Order of writes: every batch and its signature first, the listing that names them last, so
a reader never finds a listed batch missing. A batch leaves the spool's pending/ only after
the listing naming it is written; anything that fails leaves it pending for the next run
(re-uploading the same bytes under the same key is harmless). The spool's lock is held
throughout, so two publishers of one spool take turns.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from site_builder.errors import ConfigError
from site_builder.exchange.listing import PRODUCER, ListedBatch, Listing, merged, without_older
from site_builder.exchange.s3 import (
    FAILURES,
    ExchangeError,
    delete,
    describe,
    get,
    make_client,
    put,
)
from site_builder.exchange.settings import Destination, ExchangeSettings, parse_destination
from site_builder.probe.spool import mark_sent, pending, sent, spool_lock

MAX_LISTING_BYTES = 16_000_000


@dataclass
class PublishReport:
    destination: str
    published: list[str] = field(default_factory=list)  # batch file names
    left_pending: list[str] = field(default_factory=list)
    error: str | None = None  # why the rest stayed pending

    @property
    def ok(self) -> bool:
        return self.error is None


def _listing(client: Any, destination: Destination, producer: str) -> Listing:
    raw = get(client, destination, destination.key(producer, "index.json"), MAX_LISTING_BYTES)
    if raw is None:
        return Listing(version=1, batches=[])
    try:
        return Listing.model_validate_json(raw)
    except ValueError:
        raise ExchangeError(
            f"{destination}{producer}/index.json is not a batch listing: fix or delete it"
        ) from None


def _digest(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as data:
        while block := data.read(1 << 20):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def _signer(signature: bytes) -> str | None:
    try:
        document = json.loads(signature)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    signer = document.get("agent") or document.get("probe")
    return signer if isinstance(signer, str) else None


def publish_spool(
    spool_dir: Path,
    destination: str,
    *,
    probe: str,
    settings: ExchangeSettings,
    now: datetime | None = None,
    client: Any = None,
) -> PublishReport:
    """Upload each pending batch and its signature, then `probe`'s listing naming them, then
    move them to sent/. `probe` is the producer id (a probe's or an agent's) that signed
    them. Failures (after the client's retries) are reported, not raised: what was not
    listed stays pending."""
    if not PRODUCER.match(probe):
        raise ConfigError(f"{probe!r} is not a probe or agent id (lowercase letters, digits, -)")
    target = parse_destination(destination)
    report = PublishReport(str(target))
    client = client or make_client(settings)
    now = now or datetime.now(UTC)
    with spool_lock(spool_dir):
        batches = pending(spool_dir)
        uploaded: list[tuple[Path, ListedBatch]] = []
        for batch in batches:
            signature = batch.with_name(batch.name + ".sig").read_bytes()
            signer = _signer(signature)
            if signer != probe:
                report.left_pending.append(batch.name)
                report.error = f"{batch.name}: signed by {signer!r}, not {probe!r}: not published"
                continue
            try:
                sha256, size = _digest(batch)
                with batch.open("rb") as body:  # streamed from disk; rewound on a retry
                    put(client, target, target.key(probe, batch.name), body, "application/x-ndjson")
                put(
                    client,
                    target,
                    target.key(probe, batch.name + ".sig"),
                    signature,
                    "application/json",
                )
            except FAILURES as exc:
                report.error = f"uploading {batch.name} to {target}: {describe(exc)}"
                break
            entry = ListedBatch(
                name=batch.name,
                sha256=sha256,
                published_at=now,
                size=size,
            )
            uploaded.append((batch, entry))
        if uploaded:
            try:
                listing = merged(_listing(client, target, probe), [e for _, e in uploaded])
                put(
                    client,
                    target,
                    target.key(probe, "index.json"),
                    listing.to_json(),
                    "application/json",
                )
            except (*FAILURES, ExchangeError) as exc:
                message = exc.args[0] if isinstance(exc, ExchangeError) else describe(exc)
                report.error = f"writing the listing of {probe} at {target}: {message}"
                uploaded = []
        for batch, _ in uploaded:
            mark_sent(spool_dir, batch)
            report.published.append(batch.name)
        done = set(report.published)
        report.left_pending = [b.name for b in batches if b.name not in done]
    return report


def prune_exchange(
    destination: str,
    *,
    probe: str,
    keep_days: int,
    settings: ExchangeSettings,
    now: datetime | None = None,
    client: Any = None,
) -> list[str]:
    """Remove `probe`'s batches published more than `keep_days` ago: from its listing first
    (so it never names a missing object), then the objects. Returns the removed names.
    Run it where that producer publishes (one writer per listing)."""
    target = parse_destination(destination)
    client = client or make_client(settings)
    cutoff = (now or datetime.now(UTC)) - timedelta(days=keep_days)
    try:
        listing, old = without_older(_listing(client, target, probe), cutoff)
        if not old:
            return []
        put(client, target, target.key(probe, "index.json"), listing.to_json(), "application/json")
        keys = [target.key(probe, e.name + suffix) for e in old for suffix in ("", ".sig")]
        delete(client, target, keys)
    except FAILURES as exc:
        raise ExchangeError(f"pruning {probe} at {target}: {describe(exc)}") from None
    return [e.name for e in old]


def prune_sent(spool_dir: Path, *, keep_days: int, now: datetime | None = None) -> list[str]:
    """Delete local copies in sent/ older than `keep_days` (by file time); returns names."""
    cutoff = ((now or datetime.now(UTC)) - timedelta(days=keep_days)).timestamp()
    removed = []
    with spool_lock(spool_dir):
        for batch in sent(spool_dir):
            if batch.stat().st_mtime < cutoff:
                batch.unlink()
                batch.with_name(batch.name + ".sig").unlink(missing_ok=True)
                removed.append(batch.name)
    return removed
