"""SQLAlchemy models for both domains: GPU cloud prices and VPN measurements.

The build stage reads these tables with SQLAlchemy Core (``Model.__table__``), never by
loading ORM objects in bulk. Time-series tables are partitioned by month on PostgreSQL;
the partitions are created on demand by the ingest (see ``site_builder.db.partitions``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from site_builder.db.types import Micros, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Tables partitioned by month on PostgreSQL, with the column they are partitioned on.
PARTITIONED_TABLES = {
    "vpn_measurements": "started_at",
    "vpn_streaming_checks": "checked_at",
    "vpn_heartbeats": "at",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _partitioned(column: str) -> dict[str, Any]:
    return {"postgresql_partition_by": f"RANGE ({column})"}


# --------------------------------------------------------------------------- shared


class Country(Base):
    """ISO 3166-1 countries (from pycountry), shared by GPU regions and VPN servers."""

    __tablename__ = "countries"
    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(100), unique=True)


class FxRate(Base):
    """ECB euro reference rates, one row per day and currency (units of currency per EUR)."""

    __tablename__ = "fx_rates"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    per_eur: Mapped[Decimal] = mapped_column(Micros)
    source: Mapped[str] = mapped_column(String(40), default="ecb")


# --------------------------------------------------------------------------- GPU domain


class GpuProvider(Base):
    __tablename__ = "gpu_providers"
    slug: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    website: Mapped[str] = mapped_column(String(200), default="")
    affiliate_url: Mapped[str | None] = mapped_column(String(500))
    # "api", "html" (scraped public page) or "static" (an editor-maintained, dated table)
    pricing_source: Mapped[str] = mapped_column(String(10), default="api")


class GpuModel(Base):
    """A canonical GPU model from the checked-in catalog (data/gpu_catalog.toml)."""

    __tablename__ = "gpu_models"
    slug: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    vendor: Mapped[str] = mapped_column(String(20))
    architecture: Mapped[str] = mapped_column(String(40))
    vram_gb: Mapped[int] = mapped_column(Integer)
    memory_type: Mapped[str] = mapped_column(String(20), default="")
    form_factor: Mapped[str] = mapped_column(String(20))
    interconnect: Mapped[str] = mapped_column(String(40), default="")


class GpuRegion(Base):
    __tablename__ = "gpu_regions"
    provider_slug: Mapped[str] = mapped_column(ForeignKey("gpu_providers.slug"), primary_key=True)
    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    country_code: Mapped[str | None] = mapped_column(ForeignKey("countries.code"))


class GpuOffer(Base):
    """The current price of one provider x instance type x region x pricing kind."""

    __tablename__ = "gpu_offers"
    __table_args__ = (
        UniqueConstraint(
            "provider_slug", "instance_type", "region_code", "pricing_kind", "reserved_term"
        ),
        ForeignKeyConstraint(
            ["provider_slug", "region_code"], ["gpu_regions.provider_slug", "gpu_regions.code"]
        ),
        CheckConstraint("gpu_count >= 1", name="gpu_count_positive"),
        CheckConstraint("price_per_gpu_usd > 0", name="price_positive"),
        CheckConstraint(
            "pricing_kind IN ('on_demand', 'spot', 'reserved')", name="pricing_kind_known"
        ),
        Index(None, "gpu_model_slug", "is_active"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_slug: Mapped[str] = mapped_column(ForeignKey("gpu_providers.slug"))
    instance_type: Mapped[str] = mapped_column(String(120))
    region_code: Mapped[str] = mapped_column(String(60))
    pricing_kind: Mapped[str] = mapped_column(String(10))
    reserved_term: Mapped[str] = mapped_column(String(10), default="")  # "" unless reserved
    gpu_model_slug: Mapped[str] = mapped_column(ForeignKey("gpu_models.slug"))
    gpu_count: Mapped[int] = mapped_column(Integer)
    instance_price_usd: Mapped[Decimal] = mapped_column(Micros)
    price_per_gpu_usd: Mapped[Decimal] = mapped_column(Micros)
    raw_price: Mapped[str] = mapped_column(String(40))  # exactly as the provider sent it
    raw_unit: Mapped[str] = mapped_column(String(60))  # e.g. "USD cents / instance-hour"
    raw_currency: Mapped[str] = mapped_column(String(3), default="USD")
    vcpus: Mapped[int | None] = mapped_column(Integer)
    memory_gb: Mapped[float | None] = mapped_column(Float)
    # Local disk in decimal GB (1 TB = 1000 GB, as disks are sold); None: not stated.
    storage_gb: Mapped[float | None] = mapped_column(Float)
    available: Mapped[bool | None] = mapped_column(Boolean)  # None: provider does not say
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    price_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class GpuPriceHistory(Base):
    """Append-only daily price points; at most one row per offer per day."""

    __tablename__ = "gpu_price_history"
    offer_id: Mapped[int] = mapped_column(ForeignKey("gpu_offers.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    instance_price_usd: Mapped[Decimal] = mapped_column(Micros)
    price_per_gpu_usd: Mapped[Decimal] = mapped_column(Micros)
    available: Mapped[bool | None] = mapped_column(Boolean)
    # The price as the provider stated it that day (per hour, in its currency, on its basis):
    # a EUR price that did not move is no price change, however the exchange rate moved.
    # None on points written before migration 0011.
    stated_price: Mapped[Decimal | None] = mapped_column(Micros)
    stated_currency: Mapped[str | None] = mapped_column(String(3))


class GpuPullRun(Base):
    """One provider's part of one pull: what was seen, stored and quarantined."""

    __tablename__ = "gpu_pull_runs"
    __table_args__ = (Index(None, "provider_slug", "started_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(String(40))  # shared by all providers of one pull
    provider_slug: Mapped[str] = mapped_column(ForeignKey("gpu_providers.slug"))
    source: Mapped[str] = mapped_column(String(10))  # "live" or "snapshot"
    status: Mapped[str] = mapped_column(String(10))  # ok | failed | skipped
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    offers_seen: Mapped[int] = mapped_column(Integer, default=0)
    offers_stored: Mapped[int] = mapped_column(Integer, default=0)
    offers_quarantined: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class GpuQuarantine(Base):
    """Rows held back from publication, with the reason; an editor or a later pull decides."""

    __tablename__ = "gpu_quarantine"
    __table_args__ = (Index(None, "status", "provider_slug"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_slug: Mapped[str] = mapped_column(ForeignKey("gpu_providers.slug"))
    pull_run_id: Mapped[int | None] = mapped_column(ForeignKey("gpu_pull_runs.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason_code: Mapped[str] = mapped_column(String(30))  # unknown_gpu, invalid, anomaly, fx...
    reason: Mapped[str] = mapped_column(Text)
    raw_gpu_name: Mapped[str | None] = mapped_column(String(200))
    offer_key: Mapped[str] = mapped_column(String(300))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending|accepted|...
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class GpuProviderHealth(Base):
    """Per-provider circuit breaker state, kept across nightly runs."""

    __tablename__ = "gpu_provider_health"
    provider_slug: Mapped[str] = mapped_column(ForeignKey("gpu_providers.slug"), primary_key=True)
    state: Mapped[str] = mapped_column(String(10), default="closed")  # closed|open|half_open
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


# --------------------------------------------------------------------------- VPN domain


class VpnCity(Base):
    __tablename__ = "vpn_cities"
    __table_args__ = (UniqueConstraint("country_code", "slug"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    country_code: Mapped[str] = mapped_column(ForeignKey("countries.code"))
    name: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(100))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)


class VpnProbeLocation(Base):
    __tablename__ = "vpn_probe_locations"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    country_code: Mapped[str] = mapped_column(ForeignKey("countries.code"))
    city: Mapped[str] = mapped_column(String(100))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)


class VpnProtocol(Base):
    __tablename__ = "vpn_protocols"
    slug: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(40))


class VpnStreamingPlatform(Base):
    __tablename__ = "vpn_streaming_platforms"
    slug: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))


class VpnProvider(Base):
    __tablename__ = "vpn_providers"
    slug: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    website: Mapped[str] = mapped_column(String(200), default="")
    affiliate_url: Mapped[str | None] = mapped_column(String(500))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class VpnServer(Base):
    """A VPN server as probes report it; editor flags come from data/ and win."""

    __tablename__ = "vpn_servers"
    __table_args__ = (
        UniqueConstraint("provider_slug", "hostname"),
        Index(None, "country_code", "status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_slug: Mapped[str] = mapped_column(ForeignKey("vpn_providers.slug"))
    hostname: Mapped[str] = mapped_column(String(255))
    ip: Mapped[str] = mapped_column(String(45))
    country_code: Mapped[str] = mapped_column(ForeignKey("countries.code"))
    city_id: Mapped[int | None] = mapped_column(ForeignKey("vpn_cities.id"))
    gaming: Mapped[bool] = mapped_column(Boolean, default=False)
    streaming: Mapped[bool] = mapped_column(Boolean, default=False)
    paid: Mapped[bool] = mapped_column(Boolean, default=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    static: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10), default="unknown")  # active|down|retired
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class VpnServerProtocol(Base):
    __tablename__ = "vpn_server_protocols"
    server_id: Mapped[int] = mapped_column(ForeignKey("vpn_servers.id"), primary_key=True)
    protocol: Mapped[str] = mapped_column(ForeignKey("vpn_protocols.slug"), primary_key=True)


class VpnIngestedBatch(Base):
    """Every accepted probe batch, by content hash: the idempotency key and provenance."""

    __tablename__ = "vpn_ingested_batches"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    probe_id: Mapped[str | None] = mapped_column(ForeignKey("vpn_probe_locations.id"))
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("vpn_agents.id"))  # or an agent's
    demo: Mapped[bool] = mapped_column(Boolean, default=False)  # from the demo generator
    source: Mapped[str] = mapped_column(String(500))
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    measurements: Mapped[int] = mapped_column(Integer, default=0)
    streaming_checks: Mapped[int] = mapped_column(Integer, default=0)
    heartbeats: Mapped[int] = mapped_column(Integer, default=0)
    first_record_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_record_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class VpnMeasurement(Base):
    """One probe run against one server and protocol: latency, throughput, success."""

    __tablename__ = "vpn_measurements"
    __table_args__ = (
        Index(None, "server_id", "started_at"),
        _partitioned(PARTITIONED_TABLES["vpn_measurements"]),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    batch_sha256: Mapped[str] = mapped_column(String(64))
    probe_id: Mapped[str] = mapped_column(String(40))
    server_id: Mapped[int] = mapped_column(Integer)
    protocol: Mapped[str] = mapped_column(String(20))
    connect_success: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(String(200))
    latency_ms: Mapped[float | None] = mapped_column(Float)  # median of the samples
    jitter_ms: Mapped[float | None] = mapped_column(Float)
    latency_samples_ms: Mapped[list[float] | None] = mapped_column(JSON)
    packet_loss: Mapped[float | None] = mapped_column(Float)  # 0..1
    download_bytes: Mapped[int | None] = mapped_column(BigInteger)
    download_ms: Mapped[int | None] = mapped_column(Integer)
    download_bps: Mapped[int | None] = mapped_column(BigInteger)  # bytes per second
    upload_bytes: Mapped[int | None] = mapped_column(BigInteger)
    upload_ms: Mapped[int | None] = mapped_column(Integer)
    upload_bps: Mapped[int | None] = mapped_column(BigInteger)


class VpnStreamingCheck(Base):
    __tablename__ = "vpn_streaming_checks"
    __table_args__ = (
        Index(None, "server_id", "platform", "checked_at"),
        _partitioned(PARTITIONED_TABLES["vpn_streaming_checks"]),
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    batch_sha256: Mapped[str] = mapped_column(String(64))
    server_id: Mapped[int] = mapped_column(Integer)
    platform: Mapped[str] = mapped_column(String(40))
    region: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(20))  # unblocked|originals_only|blocked|error


class VpnHeartbeat(Base):
    __tablename__ = "vpn_heartbeats"
    __table_args__ = (_partitioned(PARTITIONED_TABLES["vpn_heartbeats"]),)
    server_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    batch_sha256: Mapped[str] = mapped_column(String(64))
    cpu_pct: Mapped[float] = mapped_column(Float)
    ram_pct: Mapped[float] = mapped_column(Float)
    net_pct: Mapped[float] = mapped_column(Float)
    services: Mapped[dict[str, bool]] = mapped_column(JSON)


class _RollupColumns:
    """Statistics shared by every measurement rollup: run counts and p10/median/p90."""

    protocol: Mapped[str] = mapped_column(String(20), primary_key=True)
    runs: Mapped[int] = mapped_column(Integer)
    successes: Mapped[int] = mapped_column(Integer)
    latency_p10_ms: Mapped[float | None] = mapped_column(Float)
    latency_median_ms: Mapped[float | None] = mapped_column(Float)
    latency_p90_ms: Mapped[float | None] = mapped_column(Float)
    download_p10_bps: Mapped[int | None] = mapped_column(BigInteger)
    download_median_bps: Mapped[int | None] = mapped_column(BigInteger)
    download_p90_bps: Mapped[int | None] = mapped_column(BigInteger)
    upload_p10_bps: Mapped[int | None] = mapped_column(BigInteger)
    upload_median_bps: Mapped[int | None] = mapped_column(BigInteger)
    upload_p90_bps: Mapped[int | None] = mapped_column(BigInteger)


class VpnMeasurementHourly(_RollupColumns, Base):
    __tablename__ = "vpn_measurement_hourly"
    server_id: Mapped[int] = mapped_column(ForeignKey("vpn_servers.id"), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)


class VpnMeasurementDaily(_RollupColumns, Base):
    __tablename__ = "vpn_measurement_daily"
    # The build reads every server's days in server order: without this index, SQLite
    # sorts the whole window (3 million rows at 100,000 servers) in a temporary B-tree.
    __table_args__ = (Index(None, "server_id", "day", "protocol"),)
    server_id: Mapped[int] = mapped_column(ForeignKey("vpn_servers.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)


class VpnServerProbeLatest(Base):
    """The latest run of each server from each probe location (and protocol)."""

    __tablename__ = "vpn_server_probe_latest"
    server_id: Mapped[int] = mapped_column(ForeignKey("vpn_servers.id"), primary_key=True)
    probe_id: Mapped[str] = mapped_column(ForeignKey("vpn_probe_locations.id"), primary_key=True)
    protocol: Mapped[str] = mapped_column(String(20), primary_key=True)
    measurement_id: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    connect_success: Mapped[bool] = mapped_column(Boolean)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    download_bps: Mapped[int | None] = mapped_column(BigInteger)
    upload_bps: Mapped[int | None] = mapped_column(BigInteger)


class VpnProviderCountryDaily(_RollupColumns, Base):
    """Daily medians per provider x server country x protocol, over all its servers there."""

    __tablename__ = "vpn_provider_country_daily"
    provider_slug: Mapped[str] = mapped_column(ForeignKey("vpn_providers.slug"), primary_key=True)
    country_code: Mapped[str] = mapped_column(ForeignKey("countries.code"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    servers: Mapped[int] = mapped_column(Integer)


class VpnRollupDirtyHour(Base):
    """Hours that gained raw measurements since the rollups were last recomputed.

    Written in each batch's transaction, consumed by the end-of-pull rollup pass: raw rows
    and the promise to roll them up commit together, so a crash between the two loses
    nothing."""

    __tablename__ = "vpn_rollup_dirty_hours"
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)


class VpnServerUptimeDaily(Base):
    """Share of a day a server was up, from heartbeat gaps (down after 4 silent minutes)."""

    __tablename__ = "vpn_server_uptime_daily"
    server_id: Mapped[int] = mapped_column(ForeignKey("vpn_servers.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    uptime_pct: Mapped[float] = mapped_column(Float)
    heartbeats: Mapped[int] = mapped_column(Integer)
    down_minutes: Mapped[int] = mapped_column(Integer)


# --------------------------------------------------------------------------- deploys


class SiteDeploy(Base):
    """A successful deploy and its file manifest: the guard's and IndexNow's baseline."""

    __tablename__ = "site_deploys"
    __table_args__ = (Index(None, "site", "created_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(40))
    deploy_id: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    draft: Mapped[bool] = mapped_column(Boolean, default=False)
    url: Mapped[str] = mapped_column(String(300), default="")
    files: Mapped[int] = mapped_column(Integer)
    uploaded_files: Mapped[int] = mapped_column(Integer)
    uploaded_bytes: Mapped[int] = mapped_column(BigInteger)
    manifest: Mapped[dict[str, str]] = mapped_column(JSON)  # "/path" -> sha1


# Tables of other areas live in modules of their own (agents, offers on request, operations,
# server lists); importing them here registers them on the same metadata.
from site_builder.db import (  # noqa: E402
    models_agents,  # noqa: F401
    models_gpu_request,  # noqa: F401
    models_runs,  # noqa: F401
    models_servers,  # noqa: F401
)
