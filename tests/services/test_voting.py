"""Battles and votes through the service: matchmaking, one transaction per vote, errors."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest
from sqlalchemy import func, select

from arena.errors import Conflict, Forbidden, Gone, NotFound, ValidationError
from arena.models import Battle, Matchup, Model, Rating, Scope, Vote
from arena.services import voting
from arena.services.verification import verify
from arena.web.db import get_db

COMPETITION = "fantasy-warrior-ii"


@pytest.fixture
def db(voting_app):
    with voting_app.app_context():
        yield get_db()


@pytest.fixture
def voter(db):
    return voting.ensure_voter(db, None)


def _ratings(db, model_slug: str) -> dict[str, tuple]:
    with db.session() as session:
        rows = session.execute(
            select(Scope.key, Rating.elo, Rating.wins, Rating.losses, Rating.ties, Rating.battles)
            .join(Scope, Scope.id == Rating.scope_id)
            .join(Model, Model.id == Rating.model_id)
            .where(Model.slug == model_slug)
        ).all()
    return {key: tuple(rest) for key, *rest in rows}


def test_issue_battle_pairs_two_models_on_one_prompt_without_naming_them(db, voter):
    battle = voting.issue_battle(db, voter, COMPETITION, rng=random.Random(1))
    assert battle.competition == COMPETITION and battle.prompt
    assert battle.left_image_key != battle.right_image_key
    with db.session() as session:
        row = session.scalar(select(Battle))
        assert row.left_model_id != row.right_model_id
        assert row.voter_id == voter.id and row.voted_at is None
        assert row.expires_at > row.created_at
        slugs = set(session.scalars(select(Model.slug)))
    assert not any(slug in repr(battle) for slug in slugs)


def test_matchmaking_picks_the_least_met_pair_and_balances(db, voter):
    rng = random.Random(7)
    for _ in range(91 * 2):  # 14 models: 91 pairs, each should meet twice
        voting.issue_battle(db, voter, COMPETITION, rng=rng)
    with db.session() as session:
        counts = [m.battles for m in session.scalars(select(Matchup))]
        sides = Counter(b.left_model_id for b in session.scalars(select(Battle)))
    assert len(counts) == 91 and set(counts) == {2}
    assert len(sides) > 10  # sides are randomised, not fixed by model order


def test_issue_battle_without_slug_picks_a_ready_open_competition(db, voter):
    chosen = {
        voting.issue_battle(db, voter, None, rng=random.Random(i)).competition for i in range(12)
    }
    assert chosen <= {"fantasy-warrior-ii", "heroic-super-hero-portrait"}
    assert len(chosen) == 2


def test_issue_battle_refuses_unknown_closed_and_unready_competitions(db, voter):
    with pytest.raises(NotFound):
        voting.issue_battle(db, voter, "no-such-competition")
    with pytest.raises(Conflict, match="closed"):
        voting.issue_battle(db, voter, "storefront-signage")
    with pytest.raises(Conflict, match="no two models with finished outputs"):
        voting.issue_battle(db, voter, "misty-mountains")


def test_record_vote_updates_all_three_scopes_for_both_models(db, voter, voting_app):
    battle = voting.issue_battle(db, voter, COMPETITION, rng=random.Random(3))
    result = voting.record_vote(db, battle.token, voter, "left", k=32)
    assert result.left.elo_before == 1000.0 and result.left.elo_after == 1016.0
    assert result.right.elo_after == 984.0
    left, right = _ratings(db, result.left.model_id), _ratings(db, result.right.model_id)
    for key in ("overall", "category:portrait", f"competition:{COMPETITION}"):
        assert left[key] == (1016.0, 1, 0, 0, 1)
        assert right[key] == (984.0, 0, 1, 0, 1)
    with db.session() as session:
        vote = session.scalar(select(Vote))
        assert vote.winner == "model_a" and vote.voter_id == voter.id
        assert vote.response_ms is not None and vote.response_ms >= 0
        assert session.scalar(select(Battle.voted_at)) is not None


def test_record_vote_both_bad_counts_as_a_tie(db, voter):
    battle = voting.issue_battle(db, voter, COMPETITION, rng=random.Random(4))
    result = voting.record_vote(db, battle.token, voter, "both_bad", k=32)
    assert result.left.elo_after == result.left.elo_before == 1000.0
    assert _ratings(db, result.left.model_id)["overall"][3] == 1  # ties
    with db.session() as session:
        assert session.scalar(select(Vote.winner)) == "tie (bothbad)"


def test_record_vote_second_vote_is_a_conflict_and_changes_nothing(db, voter):
    battle = voting.issue_battle(db, voter, COMPETITION, rng=random.Random(5))
    first = voting.record_vote(db, battle.token, voter, "right", k=32)
    before = _ratings(db, first.left.model_id)
    with pytest.raises(Conflict):
        voting.record_vote(db, battle.token, voter, "left", k=32)
    assert _ratings(db, first.left.model_id) == before
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Vote)) == 1


def test_record_vote_errors_write_nothing(db, voter):
    battle = voting.issue_battle(db, voter, COMPETITION, rng=random.Random(6))
    other = voting.ensure_voter(db, None)
    with pytest.raises(ValidationError, match="winner must be one of"):
        voting.record_vote(db, battle.token, voter, "middle", k=32)
    with pytest.raises(NotFound):
        voting.record_vote(db, "not-a-token", voter, "left", k=32)
    with pytest.raises(Forbidden):
        voting.record_vote(db, battle.token, other, "left", k=32)
    with pytest.raises(Forbidden):
        voting.record_vote(db, battle.token, None, "left", k=32)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Vote)) == 0
        assert session.scalar(select(Battle.voted_at)) is None
    # The battle is still usable by its own voter after the refused attempts.
    voting.record_vote(db, battle.token, voter, "left", k=32)


def test_record_vote_on_an_expired_battle_is_gone(db, voter):
    battle = voting.issue_battle(db, voter, COMPETITION, ttl=dt.timedelta(seconds=-1))
    with pytest.raises(Gone):
        voting.record_vote(db, battle.token, voter, "left", k=32)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Vote)) == 0


def test_verify_agrees_after_many_votes_and_catches_tampering(db, voter, voting_app):
    rng = random.Random(11)
    for i in range(60):
        battle = voting.issue_battle(db, voter, None, rng=rng)
        voting.record_vote(
            db, battle.token, voter, ["left", "right", "tie", "both_bad"][i % 4], k=32
        )
    with db.session() as session:
        mismatches, count = verify(session, 32)
        assert (mismatches, count) == ([], 60)
        session.execute(
            Rating.__table__.update().where(Rating.battles > 0).values(elo=Rating.elo + 1)
        )
        session.commit()
        mismatches, _ = verify(session, 32)
    assert mismatches and all(m.field == "elo" for m in mismatches)
