"""GPU offers a provider lists without a price ("Contact for pricing").

Kept apart from ``gpu_offers`` on purpose: every price figure (lowest, median, history)
reads ``gpu_offers``, whose price is never null, so an offer without a price can never be
counted in one. Pages list these rows as "price on request".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from site_builder.db.models import Base
from site_builder.db.types import UTCDateTime


class GpuOfferOnRequest(Base):
    """One provider x instance type x region x pricing kind offered at a price on request."""

    __tablename__ = "gpu_offers_on_request"
    __table_args__ = (
        UniqueConstraint(
            "provider_slug", "instance_type", "region_code", "pricing_kind", "reserved_term"
        ),
        CheckConstraint("gpu_count >= 1", name="gpu_count_positive"),
        CheckConstraint(
            "pricing_kind IN ('on_demand', 'spot', 'reserved')", name="pricing_kind_known"
        ),
        Index(None, "gpu_model_slug", "is_active"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_slug: Mapped[str] = mapped_column(ForeignKey("gpu_providers.slug"))
    instance_type: Mapped[str] = mapped_column(String(120))
    region_code: Mapped[str] = mapped_column(String(60))
    region_name: Mapped[str] = mapped_column(String(120), default="")
    pricing_kind: Mapped[str] = mapped_column(String(10))
    reserved_term: Mapped[str] = mapped_column(String(10), default="")
    gpu_model_slug: Mapped[str] = mapped_column(ForeignKey("gpu_models.slug"))
    gpu_count: Mapped[int] = mapped_column(Integer)
    raw_text: Mapped[str] = mapped_column(String(120))  # what the page said, e.g. "Contact us"
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
