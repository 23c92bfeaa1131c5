"""gpu offers: local storage per instance (decimal GB), where the provider states it

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 11:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A nullable column with no default: existing rows read "not stated" until their
    # provider's next pull, and both SQLite and PostgreSQL add it without a table rewrite.
    with op.batch_alter_table("gpu_offers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("storage_gb", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gpu_offers", schema=None) as batch_op:
        batch_op.drop_column("storage_gb")
