"""Issuing battles and reading them back: anonymity, the voter, the voting page."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import func, select

from arena.errors import NotFound
from arena.models import Battle, Model, Voter
from arena.services.voting.battles import battle_view, issue_battle, voting_page

COMPETITION = "fantasy-warrior-ii"
TTL = dt.timedelta(hours=1)


def test_issue_battle_pairs_two_models_on_one_prompt_without_naming_them(db, voter):
    battle = issue_battle(db, voter, COMPETITION, rng=random.Random(1))
    assert battle.competition == COMPETITION and battle.prompt
    assert battle.left_image_key != battle.right_image_key
    assert battle.voter == voter
    with db.session() as session:
        row = session.scalar(select(Battle))
        assert row.left_model_id != row.right_model_id
        assert row.voter_id == voter.id and row.voted_at is None
        assert row.expires_at > row.created_at
        slugs = set(session.scalars(select(Model.slug)))
    assert not any(slug in repr(battle) for slug in slugs)


def test_issue_battle_without_a_voter_creates_one_only_with_a_battle(db):
    with pytest.raises(NotFound):
        issue_battle(db, None, "no-such-competition")
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Voter)) == 0
    battle = issue_battle(db, None, COMPETITION, rng=random.Random(2))
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Voter)) == 1
        assert session.scalar(select(Battle.voter_id)) == battle.voter.id
        assert session.scalar(select(Voter.public_id)) == battle.voter.public_id


def test_voting_page_carries_the_battle_or_the_problem(db, voter, votes):
    votes.cast(3, voter=voter)
    page = voting_page(db, voter, COMPETITION, ttl=TTL)
    assert page.battle is not None and page.problem is None
    assert page.voter == voter and page.votes == 3
    empty = voting_page(db, None, "misty-mountains", ttl=TTL)
    assert empty.battle is None and empty.problem.status == 409
    assert empty.votes == 0 and empty.voter != voter
    with pytest.raises(NotFound):
        voting_page(db, voter, "no-such-competition", ttl=TTL)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Voter)) == 2


def test_battle_view_reads_back_the_issued_battle(db, voter):
    battle = issue_battle(db, voter, COMPETITION, rng=random.Random(3))
    assert battle_view(db, battle.token, voter) == battle
    with pytest.raises(NotFound):
        battle_view(db, "not-a-token", voter)
