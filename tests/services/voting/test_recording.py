"""Recording a vote: one transaction over all three scopes, single use, errors that write
nothing, and a log that replays to the stored ratings."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import func, select

from arena.errors import Conflict, Forbidden, Gone, NotFound, ValidationError
from arena.models import Battle, Rating, Vote
from arena.services.verification import verify
from arena.services.voting.battles import issue_battle
from arena.services.voting.recording import record_vote, vote_from_page
from arena.services.voting.voters import ensure_voter

COMPETITION = "fantasy-warrior-ii"


def test_record_vote_updates_all_three_scopes_for_both_models(db, voter, voting_app, model_ratings):
    battle = issue_battle(db, voter, COMPETITION, rng=random.Random(3))
    result = record_vote(db, battle.token, voter, "left", k=32)
    assert result.left.elo_before == 1000.0 and result.left.elo_after == 1016.0
    assert result.right.elo_after == 984.0
    left, right = model_ratings(result.left.model_id), model_ratings(result.right.model_id)
    for key in ("overall", "category:portrait", f"competition:{COMPETITION}"):
        assert left[key] == (1016.0, 1, 0, 0, 1)
        assert right[key] == (984.0, 0, 1, 0, 1)
    with db.session() as session:
        vote = session.scalar(select(Vote))
        assert vote.winner == "model_a" and vote.voter_id == voter.id
        assert vote.response_ms is not None and vote.response_ms >= 0
        assert session.scalar(select(Battle.voted_at)) is not None


def test_record_vote_both_bad_counts_as_a_tie(db, voter, model_ratings):
    battle = issue_battle(db, voter, COMPETITION, rng=random.Random(4))
    result = record_vote(db, battle.token, voter, "both_bad", k=32)
    assert result.left.elo_after == result.left.elo_before == 1000.0
    assert model_ratings(result.left.model_id)["overall"][3] == 1  # ties
    with db.session() as session:
        assert session.scalar(select(Vote.winner)) == "tie (bothbad)"


def test_record_vote_second_vote_is_a_conflict_and_changes_nothing(db, voter, model_ratings):
    battle = issue_battle(db, voter, COMPETITION, rng=random.Random(5))
    first = record_vote(db, battle.token, voter, "right", k=32)
    before = model_ratings(first.left.model_id)
    with pytest.raises(Conflict):
        record_vote(db, battle.token, voter, "left", k=32)
    assert model_ratings(first.left.model_id) == before
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Vote)) == 1


def test_record_vote_errors_write_nothing(db, voter):
    battle = issue_battle(db, voter, COMPETITION, rng=random.Random(6))
    other = ensure_voter(db, None)
    with pytest.raises(ValidationError, match="winner must be one of"):
        record_vote(db, battle.token, voter, "middle", k=32)
    with pytest.raises(NotFound):
        record_vote(db, "not-a-token", voter, "left", k=32)
    with pytest.raises(Forbidden):
        record_vote(db, battle.token, other, "left", k=32)
    with pytest.raises(Forbidden):
        record_vote(db, battle.token, None, "left", k=32)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Vote)) == 0
        assert session.scalar(select(Battle.voted_at)) is None
    # The battle is still usable by its own voter after the refused attempts.
    record_vote(db, battle.token, voter, "left", k=32)


def test_record_vote_on_an_expired_battle_is_gone(db, voter):
    battle = issue_battle(db, voter, COMPETITION, ttl=dt.timedelta(seconds=-1))
    with pytest.raises(Gone):
        record_vote(db, battle.token, voter, "left", k=32)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Vote)) == 0


def test_verify_agrees_after_many_votes_and_catches_tampering(db, voter, voting_app):
    rng = random.Random(11)
    for i in range(60):
        battle = issue_battle(db, voter, None, rng=rng)
        record_vote(db, battle.token, voter, ["left", "right", "tie", "both_bad"][i % 4], k=32)
    with db.session() as session:
        mismatches, count = verify(session, 32)
        assert (mismatches, count) == ([], 60)
        session.execute(
            Rating.__table__.update().where(Rating.battles > 0).values(elo=Rating.elo + 1)
        )
        session.commit()
        mismatches, _ = verify(session, 32)
    assert mismatches and all(m.field == "elo" for m in mismatches)


def test_vote_from_page_carries_the_reveal_the_battle_and_the_count(db, voter, votes):
    votes.cast(2, voter=voter)
    battle = issue_battle(db, voter, COMPETITION, rng=random.Random(12))
    voted = vote_from_page(db, battle.token, voter, "tie", k=32)
    assert voted.battle == battle and voted.votes == 3
    assert voted.result.winner == "tie" and voted.result.counted
    assert voted.result.left.elo_after == voted.result.left.elo_before + 32 * (
        0.5 - 1 / (1 + 10 ** ((voted.result.right.elo_before - voted.result.left.elo_before) / 400))
    )
