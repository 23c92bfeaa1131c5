"""The batch listing: which batches a producer (probe or agent) has published, with hashes.

``{"version": 1, "batches": [{"name", "sha256", "url"?, "signature_url"?, "published_at"?,
"size"?}]}``. The same document serves an HTTP(S) listing (docs/probe-batches.md, Sources)
and each producer's ``index.json`` in the S3 exchange; URLs default to ``<listing dir>/<name>``
and ``<url>.sig``, which is where the exchange puts them, so a public bucket can also be read
over plain HTTPS.
"""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.ndjson$")
PRODUCER = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")  # a probe or agent id (a slug)


class ListedBatch(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str = Field(pattern=NAME.pattern)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    url: str | None = None
    signature_url: str | None = None
    published_at: AwareDatetime | None = None  # when the exchange took it (retention)
    size: int | None = Field(default=None, ge=0)


class Listing(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    version: int = Field(ge=1, le=1)
    batches: list[ListedBatch]

    def to_json(self) -> bytes:
        return (self.model_dump_json(exclude_none=True, indent=None) + "\n").encode()


def merged(listing: Listing, added: list[ListedBatch]) -> Listing:
    """`listing` with `added` (an entry of the same name is replaced), in name order."""
    entries = {entry.name: entry for entry in listing.batches}
    entries.update((entry.name, entry) for entry in added)
    return Listing(version=1, batches=[entries[name] for name in sorted(entries)])


def without_older(listing: Listing, cutoff: datetime) -> tuple[Listing, list[ListedBatch]]:
    """(the listing without entries published before `cutoff`, the entries removed)."""
    old = [e for e in listing.batches if e.published_at is not None and e.published_at < cutoff]
    kept = [e for e in listing.batches if e not in old]
    return Listing(version=1, batches=kept), old
