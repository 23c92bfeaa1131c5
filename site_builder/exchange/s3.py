"""S3-compatible object storage for the batch exchange (AWS S3, Cloudflare R2, MinIO, B2).

One boto3 client (boto3 is AWS's own, well-kept SDK; pinned in pyproject.toml) configured from
the standard AWS variables, passed in as a mapping, never read from os.environ here:

- ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``; without them
  boto3's own chain applies (shared config files, instance roles);
- ``AWS_REGION`` or ``AWS_DEFAULT_REGION`` (default ``us-east-1``; R2 takes ``auto``);
- the endpoint: ``SITE_BUILDER_S3_ENDPOINT_URL``, else the standard ``AWS_ENDPOINT_URL_S3``
  or ``AWS_ENDPOINT_URL`` (the SDKs' service-specific endpoint settings:
  https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html, and botocore's
  configprovider.py reads both; checked 2026-12-04). Without one, AWS S3 itself.

Retries: botocore's "standard" mode retries 500/502/503/504, SlowDown and throttling errors
with exponential backoff and jitter (https://docs.aws.amazon.com/boto3/latest/guide/retries.html;
botocore retries/standard.py lists the codes; checked 2026-12-04), up to
``SITE_BUILDER_S3_MAX_ATTEMPTS`` attempts (default 6).

Compatibility: with a custom endpoint, path-style addressing (MinIO and most self-hosted
servers need it), and checksums only where an operation requires them: since boto3 1.36 the
SDK adds CRC checksum headers by default that several S3-compatible services refuse
(boto/boto3#4392, boto/s3transfer#327, langgenius/dify#13354 and #35117; checked 2026-12-04).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from site_builder.errors import DataError
from site_builder.exchange.settings import (
    Destination,
    ExchangeSettings,
)


class ExchangeError(DataError):
    """The object store could not be reached or refused an operation (after retries)."""


def make_client(settings: ExchangeSettings) -> Any:
    """A boto3 S3 client for `settings` (its own session: no process-wide state)."""
    session = boto3.session.Session(
        aws_access_key_id=settings.access_key_id,
        aws_secret_access_key=settings.secret_access_key,
        aws_session_token=settings.session_token,
        region_name=settings.region,
    )
    config = Config(
        retries={"mode": "standard", "max_attempts": settings.max_attempts},
        connect_timeout=settings.connect_timeout_s,
        read_timeout=settings.read_timeout_s,
        s3={"addressing_style": "path" if settings.endpoint_url else "auto"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return session.client("s3", endpoint_url=settings.endpoint_url, config=config)


def describe(exc: Exception) -> str:
    """One line for a boto3/botocore failure."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return f"{error.get('Code', 'error')} (HTTP {status}): {error.get('Message', '')}".strip()
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


FAILURES = (ClientError, BotoCoreError)


def missing(exc: Exception) -> bool:
    """Whether a failure means the object is not there."""
    if not isinstance(exc, ClientError):
        return False
    code = exc.response.get("Error", {}).get("Code")
    return code in ("NoSuchKey", "404", "NotFound")


def put(
    client: Any, destination: Destination, key: str, data: bytes | BinaryIO, content_type: str
) -> None:
    client.put_object(Bucket=destination.bucket, Key=key, Body=data, ContentType=content_type)


def get(client: Any, destination: Destination, key: str, limit: int) -> bytes | None:
    """The object's bytes, None when it does not exist; over `limit` bytes is an error."""
    try:
        response = client.get_object(Bucket=destination.bucket, Key=key)
    except ClientError as exc:
        if missing(exc):
            return None
        raise
    body = response["Body"]
    try:
        chunks, size = [], 0
        for chunk in body.iter_chunks(1 << 16):
            size += len(chunk)
            if size > limit:
                raise ExchangeError(f"{key}: larger than {limit:,} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        body.close()


def download(
    client: Any, destination: Destination, key: str, path: Path, limit: int | None
) -> Iterator[bytes]:
    """Write the object to `path` a chunk at a time (never whole in memory), yielding each
    chunk so the caller can hash it and check its deadline between reads."""
    response = client.get_object(Bucket=destination.bucket, Key=key)
    body = response["Body"]
    size = 0
    try:
        with path.open("wb") as out:
            for chunk in body.iter_chunks(1 << 20):
                size += len(chunk)
                if limit is not None and size > limit:
                    raise ExchangeError(f"{key}: larger than {limit:,} bytes")
                out.write(chunk)
                yield chunk
    finally:
        body.close()


def producers(client: Any, destination: Destination) -> list[str]:
    """The producer folders under the prefix (each may hold an index.json)."""
    paginator = client.get_paginator("list_objects_v2")
    found: list[str] = []
    for page in paginator.paginate(
        Bucket=destination.bucket, Prefix=destination.prefix, Delimiter="/"
    ):
        for common in page.get("CommonPrefixes", []):
            found.append(common["Prefix"][len(destination.prefix) :].rstrip("/"))
    return sorted(found)


def delete(client: Any, destination: Destination, keys: list[str]) -> None:
    for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1,000 keys
        part = keys[start : start + 1000]
        client.delete_objects(
            Bucket=destination.bucket,
            Delete={"Objects": [{"Key": key} for key in part], "Quiet": True},
        )
