"""The probe batch contract, versions 1 and 2: one JSON object per line (NDJSON).

Line 1 is the batch header (``kind: "batch"``; version 2 adds agents' batches, and
version 1 stays readable); every other line is a ``measurement``,
``streaming_check`` or ``heartbeat`` record. docs/probe-batches.md describes the format and
docs/schemas/probe-batch-v1.schema.json is the JSON Schema generated from these models.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)
from slugify import slugify

from site_builder.db.countries import known_countries

MAX_LATENCY_MS = 10_000.0
MAX_BYTES_PER_S = 12_500_000_000  # 100 Gbit/s: above this a reading is a probe bug
MAX_TRANSFER_BYTES = 2**63 - 1  # vpn_measurements.*_bytes are BIGINT
MAX_CITY_SLUG = 100  # vpn_cities.slug


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp needs a timezone (use Z for UTC)")
    return value.astimezone(UTC)


Timestamp = Annotated[datetime, AfterValidator(_aware_utc)]


@lru_cache(maxsize=65536)
def _ip_address(value: str) -> str:
    """The canonical text of an IPv4/IPv6 address (cached: servers repeat in every batch;
    pydantic's IPvAnyAddress cost 50 us a record, most of validation time)."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError("value is not a valid IPv4 or IPv6 address") from None


IpAddress = Annotated[
    str,
    Field(max_length=45, json_schema_extra={"anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}),
    AfterValidator(_ip_address),
]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=60)]


def _known_country(value: str) -> str:
    if value not in known_countries():
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (nor XK)")
    return value


@lru_cache(maxsize=4096)  # cities repeat in every batch; slugify is slow
def _city_slug_fits(value: str) -> str:
    if len(slugify(value)) > MAX_CITY_SLUG:
        raise ValueError(f"city name makes a slug longer than {MAX_CITY_SLUG} characters")
    return value


CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$"), AfterValidator(_known_country)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BatchHeader(_Record):
    # version 1: a probe's batch (no docstring: it would change the v1 schema's text)
    kind: Literal["batch"]
    version: Literal[1]
    probe: Slug
    created_at: Timestamp

    @property
    def agent(self) -> None:
        return None

    @property
    def signer(self) -> str:
        return self.probe


class BatchHeaderV2(_Record):
    """Version 2: a probe's batch (``probe``) or a server agent's (``agent``), exactly one.
    An agent's batch holds only heartbeats of the server its reference entry names."""

    kind: Literal["batch"]
    version: Literal[2]
    probe: Slug | None = None
    agent: Slug | None = None
    created_at: Timestamp

    @model_validator(mode="after")
    def _one_producer(self) -> BatchHeaderV2:
        if (self.probe is None) == (self.agent is None):
            raise ValueError("a version 2 header names exactly one of probe and agent")
        return self

    @property
    def signer(self) -> str:
        """The key the signature must be made with: the probe id, or ``agent:<id>``."""
        return self.probe if self.probe is not None else f"agent:{self.agent}"


AnyHeader = Annotated[BatchHeader | BatchHeaderV2, Field(discriminator="version")]


class ServerRef(_Record):
    provider: Slug
    provider_name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    hostname: Annotated[str, Field(pattern=r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")]
    ip: IpAddress
    country: CountryCode
    city: (
        Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_city_slug_fits)] | None
    ) = None


class Latency(_Record):
    samples_ms: list[Annotated[float, Field(ge=0, le=MAX_LATENCY_MS)]] | None = Field(
        default=None, min_length=1, max_length=1000
    )
    median_ms: Annotated[float, Field(ge=0, le=MAX_LATENCY_MS)] | None = None
    jitter_ms: Annotated[float, Field(ge=0, le=MAX_LATENCY_MS)] | None = None

    @model_validator(mode="after")
    def _samples_or_median(self) -> Latency:
        if self.samples_ms is None and self.median_ms is None:
            raise ValueError("give samples_ms, or median_ms (and jitter_ms)")
        return self


class Transfer(_Record):
    bytes: Annotated[int, Field(ge=0, le=MAX_TRANSFER_BYTES)]
    duration_ms: Annotated[int, Field(gt=0, le=600_000)]
    bytes_per_s: Annotated[int, Field(ge=0, le=MAX_BYTES_PER_S)]


class Connect(_Record):
    success: bool
    error: Annotated[str, Field(max_length=200)] | None = None


class Measurement(_Record):
    kind: Literal["measurement"]
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
    probe: Slug
    server: ServerRef
    protocol: Literal["wireguard", "openvpn-udp", "openvpn-tcp", "ikev2"]
    started_at: Timestamp
    connect: Connect
    latency: Latency | None = None
    packet_loss: Annotated[float, Field(ge=0, le=1)] | None = None
    download: Transfer | None = None
    upload: Transfer | None = None

    @model_validator(mode="after")
    def _results_need_a_connection(self) -> Measurement:
        if not self.connect.success and (self.download or self.upload or self.latency):
            raise ValueError("a failed connection cannot carry latency or transfer results")
        if self.connect.success and self.latency is None:
            raise ValueError("a successful connection needs a latency reading")
        return self


class StreamingCheck(_Record):
    kind: Literal["streaming_check"]
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
    server: ServerRef
    platform: Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=40)]
    region: CountryCode
    status: Literal["unblocked", "originals_only", "blocked", "error"]
    checked_at: Timestamp


class Heartbeat(_Record):
    kind: Literal["heartbeat"]
    server: ServerRef
    at: Timestamp
    cpu_pct: Annotated[float, Field(ge=0, le=100)]
    ram_pct: Annotated[float, Field(ge=0, le=100)]
    net_pct: Annotated[float, Field(ge=0, le=100)]
    services: dict[Annotated[str, Field(pattern=r"^[a-z0-9_-]{1,20}$")], bool]


Record = Annotated[Measurement | StreamingCheck | Heartbeat, Field(discriminator="kind")]


class RecordLine(BaseModel):
    """Wrapper used to validate one line against the union of record kinds."""

    record: Record
