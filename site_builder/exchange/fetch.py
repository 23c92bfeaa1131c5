"""Read the exchange for the nightly pull: every producer's listing, then only the batches
the store has not taken (by SHA-256), into a local folder the ordinary ingest reads.

A producer whose listing is unreadable, or a batch that fails to download or whose bytes
differ from its listed hash, is reported and skipped; the others go on. Only a bucket that
cannot be listed at all stops the pull (nothing stored).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from site_builder.errors import DataError
from site_builder.exchange.listing import PRODUCER, Listing
from site_builder.exchange.s3 import (
    FAILURES,
    ExchangeError,
    describe,
    download,
    get,
    make_client,
    producers,
)
from site_builder.exchange.settings import ExchangeSettings, parse_destination

MAX_LISTING_BYTES = 16_000_000


class ExchangeSourceError(DataError):
    """The exchange could not be listed at all."""


class _Late(Exception):
    pass


def fetch_new(
    source: str,
    target: Path,
    already_taken: Callable[[str], bool],
    *,
    settings: ExchangeSettings,
    deadline_s: float,
    max_bytes: int | None = None,
    client: Any = None,
) -> list[tuple[str, str, str]]:
    """Download into `target` every listed batch not yet taken, within `deadline_s`;
    returns (name, status, message) for each one not downloaded ("failed", or "rejected"
    when its bytes differ from the listing). Local names are the batch names; a name two
    producers share gets the producer's id in front."""
    destination = parse_destination(source)
    client = client or make_client(settings)
    deadline = time.monotonic() + deadline_s
    try:
        found = producers(client, destination)
    except FAILURES as exc:
        raise ExchangeSourceError(f"{source}: cannot list the exchange: {describe(exc)}") from None
    target.mkdir(parents=True, exist_ok=True)
    problems: list[tuple[str, str, str]] = []
    for producer in found:
        index = destination.key(producer, "index.json")
        if not PRODUCER.match(producer):  # only ids make folders (and local file names)
            message = f"{index}: {producer!r} is not a probe or agent id: skipped"
            problems.append((f"{producer}/index.json", "failed", message))
            continue
        try:
            raw = get(client, destination, index, MAX_LISTING_BYTES)
            if raw is None:
                continue  # a folder without a listing yet: nothing published there
            listing = Listing.model_validate_json(raw)
        except (*FAILURES, ExchangeError, ValueError) as exc:
            message = describe(exc) if isinstance(exc, FAILURES) else str(exc).splitlines()[0]
            problems.append((f"{producer}/index.json", "failed", f"{index}: {message}"))
            continue
        for entry in listing.batches:
            if already_taken(entry.sha256):
                continue
            label = f"{producer}/{entry.name}"
            if time.monotonic() >= deadline:
                message = f"{label}: not downloaded: the {deadline_s:g} s deadline passed"
                problems.append((entry.name, "failed", message))
                continue
            local = target / entry.name
            if local.exists():
                local = target / f"{producer}.{entry.name}"
            part = local.with_name(local.name + ".part")
            try:
                digest = hashlib.sha256()
                key = destination.key(producer, entry.name)
                for chunk in download(client, destination, key, part, max_bytes):
                    digest.update(chunk)
                    if time.monotonic() > deadline:
                        raise _Late
                signature = get(client, destination, key + ".sig", 1_000_000)
            except _Late:
                part.unlink(missing_ok=True)
                message = f"{label}: download ran past the {deadline_s:g} s deadline"
                problems.append((entry.name, "failed", message))
                continue
            except (*FAILURES, ExchangeError) as exc:
                part.unlink(missing_ok=True)
                message = describe(exc) if isinstance(exc, FAILURES) else str(exc)
                problems.append((entry.name, "failed", f"{label}: download failed: {message}"))
                continue
            if digest.hexdigest() != entry.sha256:
                part.unlink()
                message = f"{label}: downloaded bytes do not match the listed sha256"
                problems.append((entry.name, "rejected", message))
                continue
            part.rename(local)
            if signature is not None:  # without one, the ingest refuses it as unsigned
                local.with_name(local.name + ".sig").write_bytes(signature)
    return problems
