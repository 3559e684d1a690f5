"""Anonymous voters: the identity carried in the signed cookie, created on first visit."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, insert, select

from arena.db import Database
from arena.models import Vote, Voter, utcnow


@dataclass(frozen=True)
class VoterIdentity:
    """A voter as carried in the signed cookie: database id and public pseudonym."""

    id: int
    public_id: str


def ensure_voter(db: Database, voter: VoterIdentity | None) -> VoterIdentity:
    """The voter from the cookie if it still exists, else a new anonymous voter."""
    if voter is not None:
        with db.engine.connect() as conn:
            found = conn.execute(
                select(Voter.id).where(Voter.id == voter.id, Voter.public_id == voter.public_id)
            ).first()
        if found is not None:
            return voter
    public_id = secrets.token_hex(16)

    def create() -> VoterIdentity:
        with db.write_transaction() as conn:
            voter_id = conn.execute(
                insert(Voter)
                .values(public_id=public_id, created_at=utcnow(), flagged=False)
                .returning(Voter.id)
            ).scalar_one()
        return VoterIdentity(voter_id, public_id)

    return db.retry_when_busy(create)


def voter_vote_count(db: Database, voter: VoterIdentity | None) -> int:
    """How many votes this voter has given (0 without a voter)."""
    if voter is None:
        return 0
    with db.engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(Vote).where(Vote.voter_id == voter.id)
        ).scalar_one()
