"""matchups count counted comparisons (votes), not issued battles

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 15:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Matchmaking balanced the battles issued per pair; it now reads the comparisons voted and
# counted (abandoned battles skewed the old counts). Recount them from the vote log.
RECOUNT = """
INSERT INTO matchups (competition_id, model_lo_id, model_hi_id, battles)
SELECT competition_id,
       CASE WHEN model_a_id < model_b_id THEN model_a_id ELSE model_b_id END,
       CASE WHEN model_a_id < model_b_id THEN model_b_id ELSE model_a_id END,
       COUNT(*)
FROM votes
WHERE flag IS NULL
GROUP BY 1, 2, 3
"""

# Back to battles issued per pair.
ISSUED = """
INSERT INTO matchups (competition_id, model_lo_id, model_hi_id, battles)
SELECT competition_id,
       CASE WHEN left_model_id < right_model_id THEN left_model_id ELSE right_model_id END,
       CASE WHEN left_model_id < right_model_id THEN right_model_id ELSE left_model_id END,
       COUNT(*)
FROM battles
GROUP BY 1, 2, 3
"""


def upgrade() -> None:
    op.execute("DELETE FROM matchups")
    op.execute(RECOUNT)


def downgrade() -> None:
    op.execute("DELETE FROM matchups")
    op.execute(ISSUED)
