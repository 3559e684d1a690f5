"""voter and vote address hashes, voter verification (rigging resistance)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("voters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("network_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_voters_address_hash"), ["address_hash"])
        batch_op.create_index(batch_op.f("ix_voters_network_hash"), ["network_hash"])
    with op.batch_alter_table("votes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address_hash", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_votes_address_hash"), ["address_hash"])


def downgrade() -> None:
    with op.batch_alter_table("votes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_votes_address_hash"))
        batch_op.drop_column("address_hash")
    with op.batch_alter_table("voters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voters_network_hash"))
        batch_op.drop_index(batch_op.f("ix_voters_address_hash"))
        batch_op.drop_column("verified_at")
        batch_op.drop_column("network_hash")
        batch_op.drop_column("address_hash")
