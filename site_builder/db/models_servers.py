"""VPN server inventories from the providers' own lists (`site-builder pull servers`).

A listing is what the latest successful list said about a server (its row in
``vpn_servers`` holds what every page needs: provider, hostname, country, city, status);
a list run records each provider's pull, including the ones quarantined with a reason."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from site_builder.db.models import Base
from site_builder.db.types import UTCDateTime


class VpnServerListing(Base):
    """A server as its provider's list describes it, kept after it leaves the list."""

    __tablename__ = "vpn_server_listings"
    server_id: Mapped[int] = mapped_column(ForeignKey("vpn_servers.id"), primary_key=True)
    provider_slug: Mapped[str] = mapped_column(ForeignKey("vpn_providers.slug"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    ipv4: Mapped[list[str]] = mapped_column(JSON)
    ipv6: Mapped[list[str]] = mapped_column(JSON)
    listed_country: Mapped[str] = mapped_column(String(100))  # as the provider spells it
    listed_city: Mapped[str | None] = mapped_column(String(100))
    # slug -> {"ports": [...], "public_key": "..."} (WireGuard's key only)
    protocols: Mapped[dict[str, Any]] = mapped_column(JSON)
    features: Mapped[list[str]] = mapped_column(JSON)
    owned: Mapped[bool | None] = mapped_column(Boolean)
    listed_active: Mapped[bool] = mapped_column(Boolean)  # False: flagged offline in the list
    first_listed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_listed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class VpnServerListRun(Base):
    """One provider's list pull: ok, failed (no answer) or quarantined (bad input)."""

    __tablename__ = "vpn_server_list_runs"
    __table_args__ = (Index(None, "provider_slug", "listed_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(String(40))
    provider_slug: Mapped[str] = mapped_column(String(60))
    source: Mapped[str] = mapped_column(String(20))  # live | snapshot
    listed_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when the list was fetched
    status: Mapped[str] = mapped_column(String(12))  # ok | failed | quarantined
    servers: Mapped[int] = mapped_column(Integer, default=0)
    new_servers: Mapped[int] = mapped_column(Integer, default=0)
    retired: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(Text, default="")
