"""Caps, probation and the influence audit of the published fit (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from arena.models import Scope, Snapshot, utcnow
from arena.services.leaderboards.publishing import publish_snapshots
from arena.services.leaderboards.weights import UNBOUNDED, WeightRules
from arena.web.db import get_db
from tests.services.rigging.conftest import set_voter


def _overall(app, rules: WeightRules) -> Snapshot | None:
    with app.app_context(), get_db().session() as session:
        publish_snapshots(session, rounds=0, seed=1, min_battles=1, k=32, rules=rules)
        return session.scalars(
            select(Snapshot).join(Scope).where(Scope.key == "overall").order_by(Snapshot.id.desc())
        ).first()


def _fitted(snapshot: Snapshot) -> int:
    pairs = snapshot.plots["pairs"]
    return sum(pairs["wins_a"]) + sum(pairs["wins_b"]) + sum(pairs["ties"])


def test_a_voter_with_500_votes_counts_100_and_an_address_300(voting_app, bot, votes):
    heavy, light = votes.voter(), votes.voter()
    bot.run(heavy, bot.target(), 500, vote_all=True)
    bot.run(light, bot.target(), 20, vote_all=True, seed=1)
    rules = WeightRules(voter_cap=100, address_cap=0, probation=False, autoflag=False)
    snapshot = _overall(voting_app, rules)
    assert snapshot.votes == 520  # the counted votes: what the publisher compares
    assert _fitted(snapshot) == 120
    assert snapshot.audit["weights"] == {
        "counted": 520,
        "fitted": 120,
        "probation": 0,
        "capped": 400,
        "voter_cap": 100,
        "address_cap": 0,
    }
    # Both voters from one address: at most 110 of their votes, the earliest ones.
    for voter in (heavy, light):
        set_voter(voting_app, voter, address_hash="c" * 32)
    rules = WeightRules(voter_cap=100, address_cap=110, probation=False, autoflag=False)
    assert _fitted(_overall(voting_app, rules)) == 110
    assert _fitted(_overall(voting_app, UNBOUNDED)) == 520


def test_probation_keeps_new_and_unverified_voters_out_of_the_published_fit(voting_app, bot, votes):
    old, new, few = votes.voter(), votes.voter(), votes.voter()
    for voter, battles in ((old, 20), (new, 20), (few, 9)):
        bot.run(voter, bot.target(), battles, vote_all=True)
    long_ago = utcnow() - dt.timedelta(minutes=30)
    set_voter(voting_app, old, created_at=long_ago)
    set_voter(voting_app, few, created_at=long_ago)
    rules = WeightRules(voter_cap=0, address_cap=0, require_verified=False, autoflag=False)
    snapshot = _overall(voting_app, rules)
    # Only the old voter with 10 votes or more is past probation.
    assert _fitted(snapshot) == 20 and snapshot.audit["weights"]["probation"] == 29
    # With the proof of work on, a voter must also have been verified 10 minutes ago.
    verifying = WeightRules(voter_cap=0, address_cap=0, require_verified=True, autoflag=False)
    set_voter(voting_app, old, verified_at=utcnow())
    assert _overall(voting_app, verifying).id == snapshot.id  # nobody past: nothing published
    set_voter(voting_app, old, verified_at=long_ago)
    assert _fitted(_overall(voting_app, verifying)) == 20


def test_the_audit_finds_the_planted_voter_and_its_leave_out_moves_the_target(
    voting_app, bot, votes
):
    for i in range(4):
        votes.cast(30, seed=20 + i)
    planted = votes.voter()
    target = bot.target(2)
    bot.run(planted, target, 150, vote_all=True)
    set_voter(voting_app, planted, address_hash="d" * 32)
    snapshot = _overall(voting_app, UNBOUNDED)
    audit = snapshot.audit
    assert audit["voters"][0]["voter_id"] == planted.id
    assert audit["voters"][0]["model"] == target
    assert audit["addresses"][0]["address_hash"] == "d" * 32
    assert audit["addresses"][0]["voters"] == 1
    moved = {row["model"]: row for row in audit["without_voters"]["models"]}
    assert moved[target]["shift"] < -20
    assert moved[target]["rank_without"] >= moved[target]["rank"] == 1
    assert audit["without_voters"]["votes_left_out"] >= 150
