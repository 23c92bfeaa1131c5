"""Where the exchange is and how to reach it, from the environment (no boto3 here, so the
pull can know a source is s3:// without loading the SDK). The variables are described in
s3.py and docs/probe-batches.md ("Sources")."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from site_builder.errors import ConfigError

ENDPOINT_ENV = "SITE_BUILDER_S3_ENDPOINT_URL"
MAX_ATTEMPTS_ENV = "SITE_BUILDER_S3_MAX_ATTEMPTS"
_DESTINATION = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(.*))?$")


@dataclass(frozen=True)
class ExchangeSettings:
    endpoint_url: str | None = None
    region: str = "us-east-1"
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None
    max_attempts: int = 6
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 60.0

    @classmethod
    def from_env(cls, env: Mapping[str, str | None]) -> ExchangeSettings:
        attempts = env.get(MAX_ATTEMPTS_ENV) or "6"
        if not attempts.isdigit() or int(attempts) < 1:
            raise ConfigError(f"{MAX_ATTEMPTS_ENV} must be a whole number ≥ 1, not {attempts!r}")
        return cls(
            endpoint_url=env.get(ENDPOINT_ENV)
            or env.get("AWS_ENDPOINT_URL_S3")
            or env.get("AWS_ENDPOINT_URL")
            or None,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            access_key_id=env.get("AWS_ACCESS_KEY_ID") or None,
            secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or None,
            session_token=env.get("AWS_SESSION_TOKEN") or None,
            max_attempts=int(attempts),
        )


@dataclass(frozen=True)
class Destination:
    bucket: str
    prefix: str  # "" or "some/prefix/" (always ending in "/")

    def key(self, *parts: str) -> str:
        return self.prefix + "/".join(parts)

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def is_s3(source: str) -> bool:
    return source.startswith("s3://")


def parse_destination(text: str) -> Destination:
    """``s3://bucket/prefix`` (the prefix optional)."""
    match = _DESTINATION.match(text.strip())
    if not match:
        raise ConfigError(f"{text!r}: expected s3://bucket/prefix (a valid bucket name)")
    prefix = (match.group(2) or "").strip("/")
    return Destination(match.group(1), f"{prefix}/" if prefix else "")
