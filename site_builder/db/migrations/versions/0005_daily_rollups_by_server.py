"""daily rollups by server: the build reads them in server, day order

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 16:42:11.479878
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_vpn_measurement_daily_server_id"),
        "vpn_measurement_daily",
        ["server_id", "day", "protocol"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_vpn_measurement_daily_server_id"), table_name="vpn_measurement_daily")
