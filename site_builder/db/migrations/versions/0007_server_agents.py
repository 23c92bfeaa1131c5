"""server agents: their own ids and keys; an ingested batch is a probe's or an agent's,
and says whether it came from the demo generator (pages built from it say so)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 18:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "vpn_agents",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("provider_slug", sa.String(length=60), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vpn_agents")),
    )
    with op.batch_alter_table("vpn_ingested_batches") as batch:
        batch.alter_column("probe_id", existing_type=sa.String(length=40), nullable=True)
        batch.add_column(sa.Column("agent_id", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("demo", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_foreign_key(
            op.f("fk_vpn_ingested_batches_agent_id_vpn_agents"),
            "vpn_agents",
            ["agent_id"],
            ["id"],
        )


def downgrade() -> None:
    op.execute("DELETE FROM vpn_ingested_batches WHERE probe_id IS NULL")
    with op.batch_alter_table("vpn_ingested_batches") as batch:
        batch.drop_constraint(
            op.f("fk_vpn_ingested_batches_agent_id_vpn_agents"), type_="foreignkey"
        )
        batch.drop_column("agent_id")
        batch.drop_column("demo")
        batch.alter_column("probe_id", existing_type=sa.String(length=40), nullable=False)
    op.drop_table("vpn_agents")
