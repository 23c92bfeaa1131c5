"""Server agents (`site-builder agent run`): each has its own id and key, and vouches only
for the heartbeats of the one server it runs on (data/vpn/reference.toml, [[agent]])."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from site_builder.db.models import Base


class VpnAgent(Base):
    __tablename__ = "vpn_agents"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    provider_slug: Mapped[str] = mapped_column(String(60))
    hostname: Mapped[str] = mapped_column(String(255))
