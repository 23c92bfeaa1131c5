"""gpu price history: each day's price as the provider stated it (its currency and basis)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 17:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import site_builder.db.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: points written before this read "not recorded" and the change
    # rule falls back to the USD figures for them; both databases add them without a rewrite.
    with op.batch_alter_table("gpu_price_history", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stated_price", site_builder.db.types.Micros(), nullable=True)
        )
        batch_op.add_column(sa.Column("stated_currency", sa.String(length=3), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gpu_price_history", schema=None) as batch_op:
        batch_op.drop_column("stated_currency")
        batch_op.drop_column("stated_price")
