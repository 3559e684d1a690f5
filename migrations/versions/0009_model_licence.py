"""model licence: the published licence of a model's weights (null = unknown)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 20:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("models", sa.Column("license", sa.String(length=120), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN on both databases: rebuilding the table on SQLite would have to
    # copy it while other tables' foreign keys point at it.
    op.drop_column("models", "license")
