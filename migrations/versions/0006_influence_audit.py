"""influence audit on snapshots, rigging detector findings

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audit", sa.JSON(), nullable=True))
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detector", sa.String(length=20), nullable=False),
        sa.Column("voter_id", sa.Integer(), nullable=True),
        sa.Column("address_hash", sa.String(length=64), nullable=True),
        sa.Column("network_hash", sa.String(length=64), nullable=True),
        sa.Column("model_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "detector IN ('favouritism', 'selective', 'cluster', 'burst')",
            name=op.f("ck_findings_detector"),
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["models.id"],
            name=op.f("fk_findings_model_id_models"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["voter_id"],
            ["voters.id"],
            name=op.f("fk_findings_voter_id_voters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
    )
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_findings_voter_id"), ["voter_id"])


def downgrade() -> None:
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_findings_voter_id"))
    op.drop_table("findings")
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.drop_column("audit")
