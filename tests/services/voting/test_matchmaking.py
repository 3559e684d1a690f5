"""Matchmaking through issued battles: the policy fed from the database, pairs counted on
votes, the per-process reads, ready competitions, refusals."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from sqlalchemy import select, update

from arena.errors import Conflict, NotFound
from arena.models import (
    Battle,
    Competition,
    Matchup,
    Model,
    Output,
    Scope,
    Snapshot,
    SnapshotRow,
    Vote,
)
from arena.services.leaderboards.publishing import publish_snapshots
from arena.services.voting import matchmaking
from arena.services.voting.battles import issue_battle
from arena.services.voting.matchmaking import MatchmakingSettings
from arena.services.voting.recording import record_vote
from arena.services.voting.voters import ensure_voter

COMPETITION = "fantasy-warrior-ii"
LEAST_MET = MatchmakingSettings("least-met", ttl=0.0)


def _vote(db, settings: MatchmakingSettings, voter, rng: random.Random, choice: str = "left"):
    battle = issue_battle(db, voter, COMPETITION, rng=rng, settings=settings)
    return record_vote(db, battle.token, voter, choice, k=32)


def _matchups(db) -> Counter:
    with db.session() as session:
        return Counter(
            {(m.model_lo_id, m.model_hi_id): m.battles for m in session.scalars(select(Matchup))}
        )


def test_least_met_balances_the_pairs_counted_on_votes(db):
    rng = random.Random(7)
    for _ in range(91 * 2):  # 14 models: 91 pairs, each should be compared twice
        # A new voter each time: nothing revealed to them stands in the least-met pair's way.
        _vote(db, LEAST_MET, ensure_voter(db, None), rng)
    counts = _matchups(db)
    with db.session() as session:
        sides = Counter(b.left_model_id for b in session.scalars(select(Battle)))
        voted = Counter(
            tuple(sorted((v.model_a_id, v.model_b_id))) for v in session.scalars(select(Vote))
        )
    assert len(counts) == 91 and set(counts.values()) == {2}
    assert counts == voted  # the counts are the votes, pair by pair
    assert len(sides) > 10  # sides are randomised, not fixed by model order


def test_abandoned_battles_are_not_counted(db, voter):
    rng = random.Random(3)
    for _ in range(30):
        issue_battle(db, voter, COMPETITION, rng=rng, settings=LEAST_MET)
    assert _matchups(db) == Counter()
    _vote(db, LEAST_MET, voter, rng)
    with db.session() as session:
        vote = session.scalar(select(Vote))
    assert _matchups(db) == Counter({tuple(sorted((vote.model_a_id, vote.model_b_id))): 1})


def test_a_vote_that_is_not_counted_is_not_a_comparison(db, voter):
    from arena.services.voting.recording import VoteRules

    battle = issue_battle(db, voter, COMPETITION, rng=random.Random(1), settings=LEAST_MET)
    result = record_vote(db, battle.token, voter, "left", k=32, rules=VoteRules(min_vote_ms=10**6))
    assert not result.counted
    assert _matchups(db) == Counter()


def test_the_policy_reads_the_published_ratings_and_the_counts(db, voting_app):
    rng = random.Random(5)
    voters = [ensure_voter(db, None) for _ in range(10)]
    for i in range(60):
        _vote(db, MatchmakingSettings(ttl=0.0), voters[i % 10], rng, rng.choice(["left", "right"]))
    with db.session() as session:
        publish_snapshots(session, rounds=0, seed=1, min_battles=1, k=32)
        competition_id = session.scalar(
            select(Competition.id).where(Competition.slug == COMPETITION)
        )
        published = dict(
            session.execute(
                select(SnapshotRow.model_id, SnapshotRow.bt_rating)
                .join(Snapshot, Snapshot.id == SnapshotRow.snapshot_id)
                .join(Scope, Scope.id == Snapshot.scope_id)
                .where(Scope.kind == "competition", Scope.competition_id == competition_id)
            ).all()
        )
    with db.engine.connect() as conn:
        field = matchmaking._read_field(conn, competition_id)
    ratings = dict(zip(field.model_ids.tolist(), field.standing.ratings.tolist(), strict=True))
    assert ratings == pytest.approx(published)
    assert len(set(ratings.values())) > 5  # real fitted ratings, not all at the anchor
    met = field.standing.met
    counts = _matchups(db)
    index = {m: i for i, m in enumerate(field.model_ids.tolist())}
    assert sum(counts.values()) == 60 == met.sum() // 2
    for (lo, hi), n in counts.items():
        assert met[index[lo], index[hi]] == met[index[hi], index[lo]] == n


def test_votes_since_the_snapshot_move_the_ratings_the_policy_sees(db, voting_app):
    rng = random.Random(6)
    voters = [ensure_voter(db, None) for _ in range(10)]
    for i in range(40):
        _vote(db, MatchmakingSettings(ttl=0.0), voters[i % 10], rng, rng.choice(["left", "right"]))
    with db.session() as session:
        publish_snapshots(session, rounds=0, seed=1, min_battles=1, k=32)
        competition_id = session.scalar(
            select(Competition.id).where(Competition.slug == COMPETITION)
        )
    with db.engine.connect() as conn:
        at_snapshot = matchmaking._read_field(conn, competition_id)
    # After the snapshot, the left image wins every vote: its models move up at the next read.
    winners = Counter()
    for i in range(30):
        result = _vote(db, MatchmakingSettings(ttl=0.0), voters[i % 10], rng, "left")
        winners[result.left.model_id] += 1
    with db.engine.connect() as conn:
        later = matchmaking._read_field(conn, competition_id)
    with db.session() as session:
        slugs = dict(session.execute(select(Model.slug, Model.id)).all())
    index = {m: i for i, m in enumerate(later.model_ids.tolist())}
    moved = later.standing.ratings - at_snapshot.standing.ratings
    top = index[slugs[winners.most_common(1)[0][0]]]
    assert moved[top] > 0
    # The counts include the new votes once (taken out, then learnt from).
    assert later.standing.met.sum() // 2 == 70 == at_snapshot.standing.met.sum() // 2 + 30


def test_a_process_reuses_its_reads_and_spreads_a_burst_over_pairs(db, voter):
    settings = MatchmakingSettings("least-met", ttl=3600.0)
    rng = random.Random(11)
    pairs = Counter()
    for _ in range(91):
        battle = issue_battle(db, voter, COMPETITION, rng=rng, settings=settings)
        with db.session() as session:
            row = session.scalar(select(Battle).order_by(Battle.id.desc()).limit(1))
            pairs[tuple(sorted((row.left_model_id, row.right_model_id)))] += 1
        assert battle.prompt
    # Nothing voted, nothing read again: the battles issued were counted locally.
    assert len(pairs) == 91 and set(pairs.values()) == {1}

    # Another process hides an output: this one keeps its read until it expires or forgets.
    with db.session() as session:
        hidden = session.scalar(select(Output.id).order_by(Output.id).limit(1))
        session.execute(update(Output).where(Output.id == hidden).values(hidden=True))
        session.commit()
    field = db.cache[f"matchmaking:{row.competition_id}"]
    assert hidden in field.output
    matchmaking.forget(db)
    issue_battle(db, voter, COMPETITION, rng=rng, settings=settings)
    assert hidden not in db.cache[f"matchmaking:{row.competition_id}"].output


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


def test_migration_0007_recounts_the_pairs_from_the_counted_votes(db, voter):
    from arena import schema

    rng = random.Random(9)
    for _ in range(12):
        _vote(db, LEAST_MET, ensure_voter(db, None), rng)
    for _ in range(5):  # abandoned: counted per issued battle before 0007
        issue_battle(db, voter, COMPETITION, rng=rng, settings=LEAST_MET)
    counted = _matchups(db)
    schema.downgrade(db.engine, "0006")
    issued = _matchups(db)
    assert sum(issued.values()) == 17 and sum(counted.values()) == 12
    schema.upgrade(db.engine)
    assert _matchups(db) == counted
