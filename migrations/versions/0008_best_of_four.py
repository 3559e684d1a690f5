"""best-of-four battles: a battle's size, its four entries, several votes per battle

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # One statement both databases take, without rebuilding the table (SQLite would have to
    # copy it, and other tables' foreign keys point at it).
    op.execute(
        "ALTER TABLE battles ADD COLUMN size INTEGER DEFAULT 2 NOT NULL "
        "CONSTRAINT ck_battles_size CHECK (size IN (2, 4))"
    )
    op.create_table(
        "battle_entries",
        sa.Column("battle_id", _ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("output_id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("image_key", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["battle_id"],
            ["battles.id"],
            name=op.f("fk_battle_entries_battle_id_battles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name=op.f("fk_battle_entries_model_id_models")
        ),
        sa.ForeignKeyConstraint(
            ["output_id"], ["outputs.id"], name=op.f("fk_battle_entries_output_id_outputs")
        ),
        sa.PrimaryKeyConstraint("battle_id", "position", name=op.f("pk_battle_entries")),
        sa.UniqueConstraint("image_key", name=op.f("uq_battle_entries_image_key")),
    )
    op.create_index(op.f("ix_battle_entries_output_id"), "battle_entries", ["output_id"])
    # A best-of-four vote appends several pairwise rows for its one battle; the battle's
    # voted_at claim (one vote per battle) is what keeps a battle to one vote.
    with op.batch_alter_table("votes", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_votes_battle_id"), type_="unique")
        batch_op.create_index(op.f("ix_votes_battle_id"), ["battle_id"])


def downgrade() -> None:
    # Votes of best-of-four battles (several rows per battle) cannot keep a unique battle:
    # their rows keep the votes but lose the battle link.
    op.execute(
        "UPDATE votes SET battle_id = NULL WHERE battle_id IN "
        "(SELECT id FROM battles WHERE size <> 2)"
    )
    with op.batch_alter_table("votes", schema=None) as batch_op:
        batch_op.drop_index(op.f("ix_votes_battle_id"))
        batch_op.create_unique_constraint(op.f("uq_votes_battle_id"), ["battle_id"])
    op.drop_index(op.f("ix_battle_entries_output_id"), table_name="battle_entries")
    op.drop_table("battle_entries")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_battles_size"), "battles", type_="check")
    op.drop_column("battles", "size")
