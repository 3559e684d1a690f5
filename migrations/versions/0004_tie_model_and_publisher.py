"""tie model and background publishing: snapshot tie model and rates, last vote, leases, index

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 11:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ties_model", sa.String(length=10), server_default="half", nullable=False)
        )
        batch_op.add_column(sa.Column("tie_rate", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("last_vote_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_snapshots_scope_id_id", ["scope_id", "id"], unique=False)
    with op.batch_alter_table("snapshot_rows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tie_rate", sa.Float(), server_default="0", nullable=False))
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=120), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )


def downgrade() -> None:
    op.drop_table("leases")
    with op.batch_alter_table("snapshot_rows", schema=None) as batch_op:
        batch_op.drop_column("tie_rate")
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.drop_index("ix_snapshots_scope_id_id")
        batch_op.drop_column("last_vote_id")
        batch_op.drop_column("tie_rate")
        batch_op.drop_column("ties_model")
