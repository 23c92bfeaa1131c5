"""Probe batches published over HTTP(S): a JSON listing, fetched with httpx.

The listing (docs/probe-batches.md; the model is site_builder/exchange/listing.py, shared
with the S3 exchange) is ``{"version": 1, "batches": [{"name", "sha256", "url"?,
"signature_url"?}]}``; URLs default to ``<listing dir>/<name>`` and ``<url>.sig``.
Only batches whose hash the store has not taken are downloaded, into a fresh folder that the
ordinary folder ingest then reads.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urljoin

import httpx
from pydantic import ValidationError

from site_builder.errors import DataError
from site_builder.exchange.listing import Listing


def is_url(source: str) -> bool:
    return source.startswith(("https://", "http://"))


DEFAULT_LISTING_DEADLINE_S = 600.0  # the whole download stage: listing and every batch
DEFAULT_FILE_DEADLINE_S = 300.0  # one file
STALL_S = 30.0  # longest wait for the next bytes: the deadline is checked between reads
MAX_LISTING_BYTES = 16_000_000


class MeasurementSourceError(DataError):
    """The batch listing could not be read (unreachable, too slow, not a listing)."""


class _Late(Exception):
    """A download ran past its deadline."""


def _get(client: httpx.Client, url: str, deadline: float, limit: int | None = None) -> bytes:
    """The body of GET `url`, complete by the monotonic `deadline`, else _Late."""
    chunks: list[bytes] = []
    _fetch(client, url, deadline, chunks.append, limit)
    return b"".join(chunks)


def _fetch(
    client: httpx.Client,
    url: str,
    deadline: float,
    sink: Callable[[bytes], object],
    limit: int | None = None,
) -> None:
    """GET `url` into `sink` a chunk at a time, complete by the monotonic `deadline`, else
    _Late; a body over `limit` bytes is an error.

    httpx's timeouts bound each read, not a whole response: a server sending a byte every
    20 s would never trip them. So the deadline is checked after every chunk, and no single
    wait may outlast what is left of it (nor STALL_S)."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _Late
    size = 0
    try:
        with client.stream("GET", url, timeout=httpx.Timeout(min(remaining, STALL_S))) as response:
            response.raise_for_status()
            for chunk in response.iter_bytes():
                sink(chunk)
                size += len(chunk)
                if limit is not None and size > limit:
                    raise httpx.HTTPError(f"response larger than {limit:,} bytes")
                if time.monotonic() > deadline:
                    raise _Late
    except httpx.TimeoutException:
        if time.monotonic() + 0.05 >= deadline:
            raise _Late from None
        raise


def _download(
    client: httpx.Client, url: str, deadline: float, path: Path, limit: int | None
) -> str:
    """GET `url` into the file `path` (never whole in memory); returns its SHA-256."""
    digest = hashlib.sha256()
    with path.open("wb") as out:

        def sink(chunk: bytes) -> None:
            digest.update(chunk)
            out.write(chunk)

        _fetch(client, url, deadline, sink, limit)
    return digest.hexdigest()


def download_new(
    listing_url: str,
    target: Path,
    already_taken: Callable[[str], bool],
    client: httpx.Client | None = None,
    *,
    deadline_s: float = DEFAULT_LISTING_DEADLINE_S,
    file_deadline_s: float = DEFAULT_FILE_DEADLINE_S,
    max_bytes: int | None = None,
) -> list[tuple[str, str, str]]:
    """Download listed batches not yet taken into `target` within `deadline_s` in all and
    `file_deadline_s` a file; returns (name, status, message) for each one not downloaded:
    "rejected" when its bytes differ from the listing, "failed" when it could not be
    fetched (in time, or within `max_bytes`). Batches go to disk as they arrive, never
    whole in memory. A listing that cannot be fetched raises MeasurementSourceError."""
    start = time.monotonic()
    stage_deadline = start + deadline_s
    own = client is None
    client = client or httpx.Client(follow_redirects=True)
    problems: list[tuple[str, str, str]] = []
    try:
        listing = _listing(client, listing_url, min(stage_deadline, start + file_deadline_s))
        target.mkdir(parents=True, exist_ok=True)
        for entry in listing.batches:
            if already_taken(entry.sha256):
                continue
            if time.monotonic() >= stage_deadline:
                message = (
                    f"{entry.name}: not downloaded: the {deadline_s:g} s download deadline"
                    f" for {listing_url} passed; it waits for the next pull"
                )
                problems.append((entry.name, "failed", message))
                continue
            url = urljoin(listing_url, entry.url or entry.name)
            signature_url = urljoin(listing_url, entry.signature_url or f"{url}.sig")
            deadline = min(stage_deadline, time.monotonic() + file_deadline_s)
            part = target / f"{entry.name}.part"
            try:
                sha256 = _download(client, url, deadline, part, max_bytes)
                try:
                    signature: bytes | None = _get(client, signature_url, deadline, 1_000_000)
                except httpx.HTTPStatusError:
                    signature = None  # refused later, as a batch without a signature
            except _Late:
                part.unlink(missing_ok=True)
                problems.append(
                    (
                        entry.name,
                        "failed",
                        f"{entry.name}: download from {url} ran past its"
                        f" deadline ({file_deadline_s:g} s a file, {deadline_s:g} s in all)",
                    )
                )
                continue
            except httpx.HTTPError as exc:
                part.unlink(missing_ok=True)
                problems.append(
                    (entry.name, "failed", f"{entry.name}: download failed: {_one_line(exc)}")
                )
                continue
            if sha256 != entry.sha256:
                part.unlink()
                message = f"{entry.name}: downloaded bytes do not match the listed sha256"
                problems.append((entry.name, "rejected", message))
                continue
            part.rename(target / entry.name)
            if signature is not None:
                (target / f"{entry.name}.sig").write_bytes(signature)
    finally:
        if own:
            client.close()
    return problems


def _listing(client: httpx.Client, url: str, deadline: float) -> Listing:
    try:
        return Listing.model_validate_json(_get(client, url, deadline, MAX_LISTING_BYTES))
    except _Late:
        raise MeasurementSourceError(
            f"{url}: the batch listing did not arrive before its deadline"
        ) from None
    except httpx.HTTPError as exc:
        raise MeasurementSourceError(
            f"{url}: cannot fetch the batch listing: {_one_line(exc)}"
        ) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise MeasurementSourceError(
            f"{url}: not a batch listing: {where}: {first['msg']}"
        ) from None


def _one_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
