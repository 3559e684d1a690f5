"""Leaderboards: live boards, published snapshots, exports — from real votes."""

from __future__ import annotations

import io
import json
import random

import pandas as pd
import pytest
from sqlalchemy import func, select

from arena.errors import NotFound, ValidationError
from arena.models import Snapshot, SnapshotRow, Voter
from arena.services import exports, leaderboards, voting
from arena.web.db import get_db

SPEC_COLUMNS = [
    "rank", "rank_of", "model_id", "model_name", "creator", "elo", "wins", "losses", "ties",
    "battles", "win_rate", "bt_rating", "ci_low", "ci_high", "snapshot_id",
]  # fmt: skip


@pytest.fixture
def voted(voting_app):
    """80 votes through the real vote path, in two competitions of the Portrait category."""
    with voting_app.app_context():
        db = get_db()
        voter = voting.ensure_voter(db, None)
        rng = random.Random(5)
        for i in range(80):
            competition = "heroic-super-hero-portrait" if i % 8 == 0 else "fantasy-warrior-ii"
            battle = voting.issue_battle(db, voter, competition, rng=rng)
            voting.record_vote(db, battle.token, voter, rng.choice(["left", "right", "tie"]), k=32)
    return voting_app


@pytest.fixture
def session(voted):
    with voted.app_context(), get_db().session() as session:
        yield session


def test_live_board_ranks_by_elo_with_records(session):
    board = leaderboards.board(session, "competition:fantasy-warrior-ii")
    assert board.snapshot is None and board.rows
    elos = [r["elo"] for r in board.rows]
    assert elos == sorted(elos, reverse=True)
    assert board.rows[0]["rank"] == 1 and all(r["rank_of"] == len(board.rows) for r in board.rows)
    for row in board.rows:
        assert row["battles"] == row["wins"] + row["losses"] + row["ties"] > 0
        assert row["win_rate"] == pytest.approx(row["wins"] / row["battles"])
        assert row["bt_rating"] is None
    assert board.live_votes == sum(r["battles"] for r in board.rows) // 2


def test_publish_snapshots_fits_every_scope_with_intervals(session):
    published = leaderboards.publish_snapshots(session, rounds=200, seed=1, min_battles=10)
    keys = {p.scope for p in published}
    assert keys == {
        "overall",
        "category:portrait",
        "competition:fantasy-warrior-ii",
        "competition:heroic-super-hero-portrait",
    }
    overall = next(p for p in published if p.scope == "overall")
    assert overall.votes == 80
    board = leaderboards.board(session, "overall")
    assert board.snapshot.id == overall.snapshot_id
    for row in board.rows:
        assert row["ci_low"] <= row["bt_rating"] <= row["ci_high"]
        assert row["rank_ub"] >= 1
        assert row["provisional"] == (row["battles"] < 10)
    mean = sum(r["bt_rating"] for r in board.rows) / len(board.rows)
    assert mean == pytest.approx(1000, abs=1e-6)
    assert board.plots["history"]["at"][-1] == 80


def test_snapshots_are_versioned_reproducible_and_immutable(session):
    first = leaderboards.publish_snapshots(session, rounds=100, seed=7)
    second = leaderboards.publish_snapshots(session, rounds=100, seed=7)
    a = {p.scope: p.snapshot_id for p in first}
    b = {p.scope: p.snapshot_id for p in second}
    assert all(b[k] > a[k] for k in a)
    rows = lambda sid: sorted(  # noqa: E731
        (r.model_id, r.bt_rating, r.ci_low, r.ci_high)
        for r in session.scalars(select(SnapshotRow).where(SnapshotRow.snapshot_id == sid))
    )
    assert rows(a["overall"]) == rows(b["overall"])
    old = leaderboards.board(session, "overall", snapshot_id=a["overall"])
    assert old.snapshot.id == a["overall"]
    assert session.scalar(select(func.count()).select_from(Snapshot)) == 2 * len(a)


def test_flagged_voters_are_left_out_of_snapshots(session):
    session.execute(Voter.__table__.update().values(flagged=True))
    session.commit()
    assert leaderboards.publish_snapshots(session, rounds=10) == []


def test_board_rejects_bad_scopes(session):
    with pytest.raises(ValidationError):
        leaderboards.board(session, "planet:mars")
    with pytest.raises(NotFound):
        leaderboards.board(session, "competition:nope")
    with pytest.raises(NotFound):
        leaderboards.board(session, "overall", snapshot_id=999_999)


def test_leaderboard_export_has_exactly_the_spec_columns(session):
    leaderboards.publish_snapshots(session, rounds=50, seed=2)
    board = leaderboards.board(session, "category:portrait")
    frame = leaderboards.board_frame(board)
    assert list(frame.columns)[: len(SPEC_COLUMNS)] == SPEC_COLUMNS
    document = exports.leaderboard_document(board)
    assert document["scope"] == "category:portrait"
    assert document["snapshot_id"] == board.snapshot.id and document["computed_at"].endswith("Z")
    assert len(document["rows"]) == len(board.rows)
    parsed = pd.read_csv(io.StringIO(exports.frame_to_csv(frame)))
    assert list(parsed.columns) == leaderboards.COLUMNS


def test_votes_export_is_the_log_with_pseudonymous_voters(session, voted):
    frame = exports.votes_frame(session, voted.config["SECRET_KEY"])
    assert list(frame.columns) == exports.VOTE_COLUMNS
    assert len(frame) == 80 and frame["vote_id"].is_monotonic_increasing
    public_id = session.scalar(select(Voter.public_id))
    assert frame["voter"].nunique() == 1 and frame["voter"][0] != public_id
    assert set(frame["winner"]) <= {"model_a", "model_b", "tie"}
    document = json.loads(json.dumps(exports.votes_document(frame)))
    assert document["count"] == 80 and document["votes"][0]["category"] == "portrait"
