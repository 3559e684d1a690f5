"""vote signals: uncounted-vote flags, expected scores (upsets), voter anomaly scores and daily counts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 13:32:04.997821
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("voters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("anomaly_score", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("votes_day", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("votes_today", sa.Integer(), server_default="0", nullable=False)
        )

    with op.batch_alter_table("votes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flag", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("expected_a", sa.Float(), nullable=True))
        batch_op.create_check_constraint(op.f("ck_votes_flag"), "flag IN ('fast', 'daily_cap')")
        batch_op.drop_index(batch_op.f("ix_votes_voter_id"))
        batch_op.create_index(
            "ix_votes_voter_id_created_at", ["voter_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("votes", schema=None) as batch_op:
        batch_op.drop_index("ix_votes_voter_id_created_at")
        batch_op.create_index(batch_op.f("ix_votes_voter_id"), ["voter_id"], unique=False)
        batch_op.drop_constraint(op.f("ck_votes_flag"), type_="check")
        batch_op.drop_column("expected_a")
        batch_op.drop_column("flag")

    with op.batch_alter_table("voters", schema=None) as batch_op:
        batch_op.drop_column("votes_today")
        batch_op.drop_column("votes_day")
        batch_op.drop_column("anomaly_score")
        batch_op.drop_column("flagged_at")
