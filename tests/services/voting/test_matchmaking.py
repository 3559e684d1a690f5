"""Matchmaking through issued battles: the least-met pair, ready competitions, refusals."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from sqlalchemy import select

from arena.errors import Conflict, NotFound
from arena.models import Battle, Matchup
from arena.services.voting.battles import issue_battle

COMPETITION = "fantasy-warrior-ii"


def test_matchmaking_picks_the_least_met_pair_and_balances(db, voter):
    rng = random.Random(7)
    for _ in range(91 * 2):  # 14 models: 91 pairs, each should meet twice
        issue_battle(db, voter, COMPETITION, rng=rng)
    with db.session() as session:
        counts = [m.battles for m in session.scalars(select(Matchup))]
        sides = Counter(b.left_model_id for b in session.scalars(select(Battle)))
    assert len(counts) == 91 and set(counts) == {2}
    assert len(sides) > 10  # sides are randomised, not fixed by model order


def test_matchmaking_without_slug_picks_a_ready_open_competition(db, voter):
    chosen = {issue_battle(db, voter, None, rng=random.Random(i)).competition for i in range(12)}
    assert chosen <= {"fantasy-warrior-ii", "heroic-super-hero-portrait"}
    assert len(chosen) == 2


def test_matchmaking_refuses_unknown_closed_and_unready_competitions(db, voter):
    with pytest.raises(NotFound):
        issue_battle(db, voter, "no-such-competition")
    with pytest.raises(Conflict, match="closed"):
        issue_battle(db, voter, "storefront-signage")
    with pytest.raises(Conflict, match="no two models with finished outputs"):
        issue_battle(db, voter, "misty-mountains")
