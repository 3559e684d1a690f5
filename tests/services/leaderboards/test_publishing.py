"""Publishing snapshots: every scope fitted with intervals, versioned and immutable, counted
votes only."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from arena.models import Snapshot, SnapshotRow, Voter
from arena.services.leaderboards import boards, publishing


def test_publish_snapshots_fits_every_scope_with_intervals(voted_session):
    published = publishing.publish_snapshots(voted_session, rounds=200, seed=1, min_battles=10)
    keys = {p.scope for p in published}
    assert keys == {
        "overall",
        "category:portrait",
        "competition:fantasy-warrior-ii",
        "competition:heroic-super-hero-portrait",
    }
    overall = next(p for p in published if p.scope == "overall")
    assert overall.votes == 80
    board = boards.board(voted_session, "overall")
    assert board.snapshot.id == overall.snapshot_id
    for row in board.rows:
        assert row["ci_low"] <= row["bt_rating"] <= row["ci_high"]
        assert row["rank_ub"] >= 1
        assert row["provisional"] == (row["battles"] < 10)
    mean = sum(r["bt_rating"] for r in board.rows) / len(board.rows)
    assert mean == pytest.approx(1000, abs=1e-6)
    assert board.plots["history"]["at"][-1] == 80


def test_snapshots_are_versioned_reproducible_and_immutable(voted_session):
    first = publishing.publish_snapshots(voted_session, rounds=100, seed=7)
    second = publishing.publish_snapshots(voted_session, rounds=100, seed=7)
    a = {p.scope: p.snapshot_id for p in first}
    b = {p.scope: p.snapshot_id for p in second}
    assert all(b[k] > a[k] for k in a)
    rows = lambda sid: sorted(  # noqa: E731
        (r.model_id, r.bt_rating, r.ci_low, r.ci_high)
        for r in voted_session.scalars(select(SnapshotRow).where(SnapshotRow.snapshot_id == sid))
    )
    assert rows(a["overall"]) == rows(b["overall"])
    old = boards.board(voted_session, "overall", snapshot_id=a["overall"])
    assert old.snapshot.id == a["overall"]
    assert voted_session.scalar(select(func.count()).select_from(Snapshot)) == 2 * len(a)


def test_flagged_voters_are_left_out_of_snapshots(voted_session, votes):
    other = votes.voter()
    votes.cast(20, voter=other, competition="heroic-super-hero-portrait", seed=6)

    def overall_votes() -> int:
        published = publishing.publish_snapshots(voted_session, rounds=10, min_battles=1)
        return next(p.votes for p in published if p.scope == "overall")

    assert overall_votes() == 100
    voted_session.execute(
        update(Voter).where(Voter.public_id == other.public_id).values(flagged=True)
    )
    voted_session.commit()
    assert overall_votes() == 80
    voted_session.execute(update(Voter).values(flagged=True))
    voted_session.commit()
    assert publishing.publish_snapshots(voted_session, rounds=10) == []


def test_snapshot_records_its_tie_model_ranks_by_published_rating_and_last_vote(
    voted_session,
):
    from arena.models import Vote
    from arena.ratings.ranks import competition_ranks

    publishing.publish_snapshots(voted_session, rounds=50, seed=3)
    snap = voted_session.scalar(
        select(Snapshot).join(Snapshot.scope).where(Snapshot.scope.has(key="overall"))
    )
    assert snap.ties_model == "decisive"
    votes = voted_session.scalars(select(Vote)).all()
    assert snap.last_vote_id == max(v.id for v in votes)
    ties = sum(v.winner == "tie" for v in votes)
    assert snap.tie_rate == pytest.approx(ties / len(votes))
    rows = voted_session.scalars(
        select(SnapshotRow).where(SnapshotRow.snapshot_id == snap.id)
    ).all()
    expected = competition_ranks([r.bt_rating for r in rows])
    assert [r.rank for r in rows] == expected.tolist()
    assert {r.rank_of for r in rows} == {len(rows)}
    for r in rows:
        assert r.tie_rate == pytest.approx(r.ties / r.battles)

    publishing.publish_snapshots(voted_session, rounds=0, ties="half")
    half = voted_session.scalar(select(Snapshot).order_by(Snapshot.id.desc()).limit(1))
    assert half.ties_model == "half" and half.tie_rate is None


def test_unknown_tie_model_is_refused(voted_session):
    from arena.errors import ValidationError

    with pytest.raises(ValidationError, match="ties must be one of decisive, davidson, half"):
        publishing.publish_snapshots(voted_session, rounds=0, ties="quarter")
    assert voted_session.scalar(select(func.count()).select_from(Snapshot)) == 0
