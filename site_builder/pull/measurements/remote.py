"""Probe batches published over HTTP(S): a JSON listing, fetched with httpx.

The listing (docs/probe-batches.md) is ``{"version": 1, "batches": [{"name", "sha256",
"url"?, "signature_url"?}]}``; URLs default to ``<listing dir>/<name>`` and ``<url>.sig``.
Only batches whose hash the store has not taken are downloaded, into a fresh folder that the
ordinary folder ingest then reads.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urljoin

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from site_builder.errors import DataError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.ndjson$")


class ListedBatch(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str = Field(pattern=NAME.pattern)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    url: str | None = None
    signature_url: str | None = None


class Listing(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    version: int = Field(ge=1, le=1)
    batches: list[ListedBatch]


def is_url(source: str) -> bool:
    return source.startswith(("https://", "http://"))


def download_new(
    listing_url: str,
    target: Path,
    already_taken: Callable[[str], bool],
    client: httpx.Client | None = None,
) -> list[str]:
    """Download listed batches not yet taken into `target`; returns problems (one per batch)."""
    own = client is None
    client = client or httpx.Client(timeout=60, follow_redirects=True)
    problems: list[str] = []
    try:
        try:
            response = client.get(listing_url)
            response.raise_for_status()
            listing = Listing.model_validate_json(response.content)
        except httpx.HTTPError as exc:
            raise DataError(f"{listing_url}: cannot fetch the batch listing: {exc}") from None
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise DataError(
                f"{listing_url}: not a batch listing: {where}: {first['msg']}"
            ) from None
        target.mkdir(parents=True, exist_ok=True)
        for entry in listing.batches:
            if already_taken(entry.sha256):
                continue
            url = urljoin(listing_url, entry.url or entry.name)
            signature_url = urljoin(listing_url, entry.signature_url or f"{url}.sig")
            try:
                data = client.get(url)
                data.raise_for_status()
                signature = client.get(signature_url)
            except httpx.HTTPError as exc:
                problems.append(f"{entry.name}: download failed: {exc}")
                continue
            if hashlib.sha256(data.content).hexdigest() != entry.sha256:
                problems.append(f"{entry.name}: downloaded bytes do not match the listed sha256")
                continue
            (target / entry.name).write_bytes(data.content)
            if signature.status_code == 200:
                (target / f"{entry.name}.sig").write_bytes(signature.content)
    finally:
        if own:
            client.close()
    return problems
