"""Vote integrity: fast and over-cap votes are kept but not counted, flagged voters' votes
leave the live Elo and the snapshots, and the signals find scripted voters."""

from __future__ import annotations

import datetime as dt
import random
import threading

import pytest
from sqlalchemy import func, select

from arena.errors import NotFound, ValidationError
from arena.models import Model, Rating, Scope, Snapshot, SnapshotRow, Vote, Voter
from arena.services import integrity
from arena.services.leaderboards.publishing import publish_snapshots
from arena.services.verification import verify
from arena.services.voting.battles import battle_image_source, issue_battle, token_hash
from arena.services.voting.matchmaking import MatchmakingSettings
from arena.services.voting.recording import VoteRules, record_vote
from arena.services.voting.voters import ensure_voter
from arena.web.db import get_db

COMPETITION = "fantasy-warrior-ii"
K = 32.0


@pytest.fixture
def db(voting_app):
    with voting_app.app_context():
        yield get_db()


def _ratings(db) -> dict[tuple[str, str], tuple]:
    with db.session() as session:
        rows = session.execute(
            select(Scope.key, Model.slug, Rating.elo, Rating.wins, Rating.losses, Rating.battles)
            .join(Scope, Scope.id == Rating.scope_id)
            .join(Model, Model.id == Rating.model_id)
        ).all()
    return {(key, slug): tuple(rest) for key, slug, *rest in rows}


def _age_votes(db, delta: dt.timedelta, vote_id: int | None = None) -> None:
    """Move votes back in time (in Python: SQLite has no datetime arithmetic)."""
    with db.session() as session:
        statement = select(Vote) if vote_id is None else select(Vote).where(Vote.id == vote_id)
        for vote in session.scalars(statement):
            vote.created_at = vote.created_at - delta
        session.commit()


def _assert_verified(db) -> None:
    with db.session() as session:
        mismatches, _ = verify(session, K)
    assert mismatches == []


def test_fast_vote_is_logged_flagged_and_not_counted(db, votes):
    voter = ensure_voter(db, None)
    before = _ratings(db)
    result = votes.cast(voter=voter, choice="left", rules=VoteRules(min_vote_ms=60_000))[0]
    assert not result.counted and result.not_counted == "fast"
    assert result.left.elo_before == result.left.elo_after == 1000
    assert _ratings(db) == before
    with db.session() as session:
        vote = session.scalar(select(Vote))
        assert vote.flag == "fast" and vote.response_ms < 60_000
        assert vote.expected_a == pytest.approx(0.5)
    _assert_verified(db)


def test_votes_beyond_the_daily_cap_are_not_counted(db, votes):
    voter = ensure_voter(db, None)
    rules = VoteRules(daily_cap=3)
    results = [
        votes.cast(voter=voter, choice="left", rules=rules, rng=random.Random(i))[0]
        for i in range(5)
    ]
    assert [r.not_counted for r in results] == [None, None, None, "daily_cap", "daily_cap"]
    # Yesterday's votes do not count towards today's cap.
    with db.session() as session:
        row = session.get(Voter, voter.id)
        assert row.votes_today == 5
        row.votes_day = row.votes_day - dt.timedelta(days=1)
        session.commit()
    assert votes.cast(voter=voter, choice="left", rules=rules)[0].counted
    with db.session() as session:
        battles = session.scalar(
            select(func.sum(Rating.battles)).join(Scope).where(Scope.key == "overall")
        )
    assert battles == 2 * 4
    _assert_verified(db)


def test_flagging_a_voter_rebuilds_the_live_elo_without_their_votes(db, votes):
    honest = ensure_voter(db, None)
    suspect = ensure_voter(db, None)
    rng = random.Random(5)
    for i in range(30):
        votes.cast(voter=honest, choice=rng.choice(["left", "right", "tie"]), rng=rng)
        if i % 3 == 0:
            votes.cast(voter=suspect, choice="left", rng=rng)
    with_suspect = _ratings(db)

    result = integrity.set_voter_flag(
        db, suspect.public_id, flagged=True, reason="always votes left", k=K
    )
    assert result.flagged and result.votes == 10 and result.votes_counted == 0
    flagged = _ratings(db)
    assert flagged != with_suspect
    overall_battles = sum(v[3] for (key, _), v in flagged.items() if key == "overall")
    assert overall_battles == 2 * 30
    _assert_verified(db)

    # New votes of a flagged voter are kept, not counted, and say why.
    later = votes.cast(voter=suspect, choice="left", rng=rng)[0]
    assert not later.counted and later.not_counted == "voter_flagged"
    assert _ratings(db) == flagged
    _assert_verified(db)

    # Lifting the flag brings every one of their votes back, in log order.
    integrity.set_voter_flag(db, suspect.public_id, flagged=False, reason=None, k=K)
    restored = _ratings(db)
    assert sum(v[3] for (key, _), v in restored.items() if key == "overall") == 2 * 41
    _assert_verified(db)
    with db.session() as session:
        voter = session.scalar(select(Voter).where(Voter.public_id == suspect.public_id))
        assert not voter.flagged and voter.flag_reason is None and voter.flagged_at is None


def test_flagged_voters_are_left_out_of_published_snapshots(db, votes):
    honest = ensure_voter(db, None)
    suspect = ensure_voter(db, None)
    rng = random.Random(8)
    for _ in range(12):
        votes.cast(voter=honest, choice=rng.choice(["left", "right"]), rng=rng)
        votes.cast(voter=suspect, choice="left", rng=rng)
    integrity.set_voter_flag(db, suspect.public_id, flagged=True, reason="bot", k=K)
    with db.session() as session:
        publish_snapshots(session, rounds=0, seed=1, min_battles=1, k=K)
        snapshot = session.scalar(
            select(Snapshot).join(Scope).where(Scope.key == "overall").order_by(Snapshot.id)
        )
        assert snapshot.votes == 12
        battles = session.scalar(
            select(func.sum(SnapshotRow.battles)).where(SnapshotRow.snapshot_id == snapshot.id)
        )
        assert battles == 24


def test_set_voter_flag_validates_its_input(db):
    voter = ensure_voter(db, None)
    with pytest.raises(NotFound):
        integrity.set_voter_flag(db, "nobody", flagged=True, reason="x", k=K)
    with pytest.raises(ValidationError) as missing:
        integrity.set_voter_flag(db, voter.public_id, flagged=True, reason="  ", k=K)
    assert missing.value.field == "reason"
    with pytest.raises(ValidationError):
        integrity.set_voter_flag(db, voter.public_id, flagged=True, reason="x" * 501, k=K)
    with db.session() as session:
        assert not session.scalar(select(Voter.flagged).where(Voter.id == voter.id))


def test_contrarian_voter_gets_a_high_anomaly_score_and_is_listed(db, votes):
    rng = random.Random(11)
    crowd = [ensure_voter(db, None) for _ in range(4)]
    contrarian = ensure_voter(db, None)
    # The crowd agrees on a hidden order (lower model id is better) and builds the Elo.
    with db.session() as session:
        rank = {m.id: i for i, m in enumerate(session.scalars(select(Model).order_by(Model.id)))}

    def crowd_choice(token: str) -> str:
        with db.session() as session:
            from arena.models import Battle

            battle = session.scalar(select(Battle).where(Battle.token_hash == token_hash(token)))
            return "left" if rank[battle.left_model_id] < rank[battle.right_model_id] else "right"

    # Pairs spread evenly (least-met): active matchmaking, learning the crowd's order from its
    # votes, would show mostly neighbours, on which disagreeing says little.
    spread = MatchmakingSettings("least-met", ttl=0.0)
    for i in range(240):
        voter = crowd[i % 4]
        battle = issue_battle(db, voter, COMPETITION, rng=rng, settings=spread)
        record_vote(db, battle.token, voter, crowd_choice(battle.token), k=K)
    for _ in range(30):
        battle = issue_battle(db, contrarian, COMPETITION, rng=rng, settings=spread)
        choice = "right" if crowd_choice(battle.token) == "left" else "left"
        record_vote(db, battle.token, contrarian, choice, k=K)

    with db.session() as session:
        scored = integrity.refresh_anomaly_scores(session)
        session.commit()
        assert scored == 5
        signals = integrity.voter_signals(session, suspicious_only=True)
        assert [s.public_id for s in signals] == [contrarian.public_id]
        assert signals[0].anomaly_score > 5 and signals[0].suspicious
        honest_scores = [
            s.anomaly_score
            for s in integrity.voter_signals(session)
            if s.public_id != contrarian.public_id
        ]
        assert all(score < 3 for score in honest_scores)
        overview = integrity.overview(session)
        assert overview.suspicious_voters == 1 and overview.votes_24h == 270
        assert overview.active_voters_24h == 5
        upsets = integrity.upsets(session, limit=100)
        assert upsets and {u.voter for u in upsets} == {contrarian.public_id}
        assert all(u.winner_expected <= integrity.UPSET_EXPECTED for u in upsets)


def test_votes_per_hour_counts_each_hour(db, votes):
    voter = ensure_voter(db, None)
    for i in range(3):
        votes.cast(voter=voter, choice="left", rng=random.Random(i))
    votes.cast(voter=voter, choice="left", rules=VoteRules(min_vote_ms=60_000))
    _age_votes(db, dt.timedelta(hours=2), vote_id=1)
    with db.session() as session:
        hours = integrity.votes_per_hour(session, hours=6)
    assert len(hours) == 6
    assert hours[-1].votes == 3 and hours[-1].uncounted == 1
    assert hours[-3].votes == 1
    assert sum(h.votes for h in hours) == 4


def test_flagging_while_votes_are_in_flight_keeps_the_log_and_ratings_consistent(db, votes):
    voters = [ensure_voter(db, None) for _ in range(4)]
    target = voters[0]
    stop = threading.Event()
    errors: list[BaseException] = []

    def vote_loop(voter, seed):
        rng = random.Random(seed)
        try:
            while not stop.is_set():
                votes.cast(voter=voter, choice=rng.choice(["left", "right", "tie"]), rng=rng)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=vote_loop, args=(v, i)) for i, v in enumerate(voters)]
    for thread in threads:
        thread.start()
    try:
        for i in range(6):
            integrity.set_voter_flag(
                db, target.public_id, flagged=i % 2 == 0, reason="under review", k=K
            )
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []
    _assert_verified(db)


def test_vote_export_publishes_only_counted_votes(db, voting_app, votes):
    from arena.services import exports

    honest, suspect = ensure_voter(db, None), ensure_voter(db, None)
    rng = random.Random(9)
    for _ in range(3):
        votes.cast(voter=honest, choice="left", rng=rng)
        votes.cast(voter=suspect, choice="left", rng=rng)
    votes.cast(voter=honest, choice="left", rules=VoteRules(min_vote_ms=60_000), rng=rng)
    integrity.set_voter_flag(db, suspect.public_id, flagged=True, reason="bot", k=K)
    with db.session() as session:
        frame = exports.votes_frame(session, "secret")
        assert len(frame) == 3
        assert frame["voter"].nunique() == 1
        assert session.scalar(select(func.count()).select_from(Vote)) == 7


def test_a_battle_whose_output_was_hidden_takes_no_vote_and_hides_its_image(db, votes):
    from arena.errors import Gone
    from arena.models import Battle, Output

    voter = ensure_voter(db, None)
    battle = issue_battle(db, voter, COMPETITION, rng=random.Random(2))
    assert battle_image_source(db, battle.left_image_key).image_name
    with db.session() as session:
        row = session.scalar(select(Battle))
        session.get(Output, row.right_output_id).hidden = True
        session.commit()
    with pytest.raises(Gone, match="withdrew"):
        battle_image_source(db, battle.right_image_key)
    with pytest.raises(Gone, match="withdrew"):
        record_vote(db, battle.token, voter, "left", k=K)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Vote)) == 0
        assert session.scalar(select(Battle.voted_at)) is None


def test_votes_per_hour_counts_votes_at_different_seconds_of_one_hour(db, votes):
    # Regression: on SQLite the hour bucket was a true division, so every second was its own
    # group and later groups overwrote earlier ones (69 votes in one hour showed as 1).
    votes.cast(6, seed=3)
    now = dt.datetime(2026, 5, 4, 15, 30, tzinfo=dt.UTC)
    hour = dt.datetime(2026, 5, 4, 13, tzinfo=dt.UTC)
    with db.session() as session:
        for offset, vote in zip(
            (0, 1, 59, 61, 1800, 3599), session.scalars(select(Vote).order_by(Vote.id)), strict=True
        ):
            vote.created_at = hour + dt.timedelta(seconds=offset)
        session.commit()
        hours = integrity.votes_per_hour(session, hours=4, now=now)
    assert [(h.hour, h.votes) for h in hours] == [
        (hour - dt.timedelta(hours=1), 0),
        (hour, 6),
        (hour + dt.timedelta(hours=1), 0),
        (hour + dt.timedelta(hours=2), 0),
    ]
