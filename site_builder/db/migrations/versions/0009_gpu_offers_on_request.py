"""gpu offers on request: listed by a provider without a price ("Contact for pricing")

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 19:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import site_builder.db.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gpu_offers_on_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_slug", sa.String(length=40), nullable=False),
        sa.Column("instance_type", sa.String(length=120), nullable=False),
        sa.Column("region_code", sa.String(length=60), nullable=False),
        sa.Column("region_name", sa.String(length=120), nullable=False),
        sa.Column("pricing_kind", sa.String(length=10), nullable=False),
        sa.Column("reserved_term", sa.String(length=10), nullable=False),
        sa.Column("gpu_model_slug", sa.String(length=40), nullable=False),
        sa.Column("gpu_count", sa.Integer(), nullable=False),
        sa.Column("raw_text", sa.String(length=120), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column(
            "first_seen_at", site_builder.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("last_seen_at", site_builder.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "pricing_kind IN ('on_demand', 'spot', 'reserved')",
            name=op.f("ck_gpu_offers_on_request_pricing_kind_known"),
        ),
        sa.CheckConstraint(
            "gpu_count >= 1", name=op.f("ck_gpu_offers_on_request_gpu_count_positive")
        ),
        sa.ForeignKeyConstraint(
            ["gpu_model_slug"],
            ["gpu_models.slug"],
            name=op.f("fk_gpu_offers_on_request_gpu_model_slug_gpu_models"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_slug"],
            ["gpu_providers.slug"],
            name=op.f("fk_gpu_offers_on_request_provider_slug_gpu_providers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gpu_offers_on_request")),
        sa.UniqueConstraint(
            "provider_slug",
            "instance_type",
            "region_code",
            "pricing_kind",
            "reserved_term",
            name=op.f(
                "uq_gpu_offers_on_request_provider_slug_instance_type_region_code_pricing_kind_reserved_term"
            ),
        ),
    )
    with op.batch_alter_table("gpu_offers_on_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_gpu_offers_on_request_gpu_model_slug"),
            ["gpu_model_slug", "is_active"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("gpu_offers_on_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gpu_offers_on_request_gpu_model_slug"))
    op.drop_table("gpu_offers_on_request")
