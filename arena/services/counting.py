"""Which votes count: the one rule that live Elo, replays, snapshots and exports all apply.

A vote counts unless it was flagged when cast (``fast``, ``daily_cap``) or its voter is
flagged now. Uncounted votes stay in the log, so lifting a voter's flag brings them back.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_, select

from arena.models import Vote, Voter


def counted_votes() -> ColumnElement[bool]:
    """A WHERE clause on ``votes`` that keeps the counted votes."""
    flagged = select(Voter.id).where(Voter.flagged.is_(True))
    return and_(Vote.flag.is_(None), or_(Vote.voter_id.is_(None), Vote.voter_id.not_in(flagged)))
