"""The probation rule: which voters' votes may enter the published fit."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from arena.models import Voter, utcnow
from arena.services.voting.voters import PROBATION_MINUTES, PROBATION_VOTES, past_probation
from arena.web.db import get_db


def _verify(app, voter_id: int, at: dt.datetime | None) -> None:
    with app.app_context(), get_db().session() as session:
        session.execute(update(Voter).where(Voter.id == voter_id).values(verified_at=at))
        session.commit()


def test_only_verified_voters_with_enough_votes_and_time_are_past_probation(votes):
    app = votes.app
    long_ago = utcnow() - dt.timedelta(minutes=PROBATION_MINUTES + 1)
    past, recent, few, unverified = (votes.voter() for _ in range(4))
    for voter in (past, recent, unverified):
        votes.cast(PROBATION_VOTES, voter=voter)
    votes.cast(PROBATION_VOTES - 1, voter=few)
    _verify(app, past.id, long_ago)
    _verify(app, recent.id, utcnow())
    _verify(app, few.id, long_ago)
    now = utcnow()
    with app.app_context(), get_db().session() as session:
        admitted = set(session.execute(select(Voter.id).where(past_probation(now))).scalars())
        later = now + dt.timedelta(minutes=PROBATION_MINUTES + 1)
        admitted_later = set(
            session.execute(select(Voter.id).where(past_probation(later))).scalars()
        )
    assert admitted == {past.id}
    assert admitted_later == {past.id, recent.id}
