"""Reading boards: ranked by the published snapshot (never by live Elo), live columns beside it,
models the snapshot does not rank yet after the ranked ones, and bad scopes refused."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from sqlalchemy import select

from arena.errors import NotFound, ValidationError
from arena.models import Model, Rating, Scope, SnapshotRow
from arena.services.leaderboards import boards
from arena.services.leaderboards.publishing import publish_snapshots
from arena.web.db import get_db
from tests.services.leaderboards.swing import cast_swing

FW2 = "competition:fantasy-warrior-ii"


def competition_ranks(ratings: list[float]) -> list[int]:
    """1 + the number of strictly higher ratings ("1224"), computed here independently."""
    return [1 + sum(other > r for other in ratings) for r in ratings]


def elo_order(rows: list[dict]) -> list[str]:
    return [r["model_id"] for r in sorted(rows, key=lambda r: (-r["elo"], r["model_id"]))]


@pytest.fixture
def swung(voting_app):
    """Votes whose last ones reorder the live Elo, then a published snapshot of them."""
    cast_swing(voting_app)
    with voting_app.app_context(), get_db().session() as session:
        publish_snapshots(session, rounds=50, seed=1)
        yield session


def test_board_before_any_snapshot_ranks_nobody(voted_session):
    board = boards.board(voted_session, FW2)
    assert board.snapshot is None and board.rows
    assert board.unranked == len(board.rows)
    for row in board.rows:
        assert row["rank"] is None and row["rank_of"] is None and row["rank_ub"] is None
        assert row["bt_rating"] is None and row["tie_rate"] is None and row["provisional"]
        assert row["battles"] == row["wins"] + row["losses"] + row["ties"] > 0
        assert row["win_rate"] == pytest.approx(row["wins"] / row["battles"])
    names = [r["model_name"].lower() for r in board.rows]
    assert names == sorted(names)  # by name: no invented order
    assert board.live_votes == sum(r["battles"] for r in board.rows) // 2


def test_board_ranks_by_published_rating_where_live_elo_disagrees(swung):
    session = swung
    board = boards.board(session, FW2)
    rows = board.rows
    published = [r["model_id"] for r in rows]
    assert elo_order(rows) != published  # the premise: the live Elo orders them otherwise
    ratings = [r["bt_rating"] for r in rows]
    assert ratings == sorted(ratings, reverse=True)
    assert [r["rank"] for r in rows] == competition_ranks(ratings)
    assert {r["rank_of"] for r in rows} == {len(rows)} and board.unranked == 0

    stored = {
        slug: fit
        for slug, fit in session.execute(
            select(Model.slug, SnapshotRow)
            .join(SnapshotRow, SnapshotRow.model_id == Model.id)
            .where(SnapshotRow.snapshot_id == board.snapshot.id)
        ).all()
    }
    live = dict(
        session.execute(
            select(Model.slug, Rating.elo)
            .join(Rating, Rating.model_id == Model.id)
            .join(Scope, Scope.id == Rating.scope_id)
            .where(Scope.key == FW2)
        ).all()
    )
    for row in rows:
        fit = stored[row["model_id"]]
        assert (row["rank"], row["rank_of"], row["rank_ub"]) == (fit.rank, fit.rank_of, fit.rank_ub)
        assert (row["ci_low"], row["bt_rating"], row["ci_high"]) == (
            fit.ci_low,
            fit.bt_rating,
            fit.ci_high,
        )
        assert row["tie_rate"] == fit.tie_rate and row["provisional"] == fit.provisional
        assert 1 <= row["rank_ub"] <= row["rank"]
        assert row["elo"] == live[row["model_id"]]  # the live column stays live
        assert row["snapshot_id"] == board.snapshot.id


def test_models_the_snapshot_does_not_rank_yet_follow_unranked(swung, votes):
    session = swung
    before = boards.board(session, "overall")
    session.rollback()  # end the read: the votes below write through their own sessions
    votes.cast(4, competition="heroic-super-hero-portrait")  # cogview4's first battles
    board = boards.board(session, "overall")
    new = [r for r in board.rows if r["rank"] is None]
    assert [r["model_id"] for r in new] == ["cogview4"] and board.unranked == 1
    assert board.rows[-1] is new[0] and new[0]["battles"] == 4 and new[0]["provisional"]
    ranked = board.rows[:-1]
    assert [r["model_id"] for r in ranked] == [r["model_id"] for r in before.rows]
    assert {r["rank_of"] for r in ranked} == {len(ranked)}
    # A scope without a snapshot yet ranks nobody.
    fresh = boards.board(session, "competition:heroic-super-hero-portrait")
    assert fresh.snapshot is None and fresh.unranked == len(fresh.rows) == 2


def test_published_ranks_reads_each_scopes_latest_snapshot(swung, votes):
    session = swung
    votes.cast(20, choice=("left", "right"), seed=8)
    publish_snapshots(session, rounds=20, seed=2)
    everything = boards.published_ranks(session)
    overall = boards.board(session, "overall")
    scope = overall.scope.id
    assert {key for key in everything if key[0] == scope} == {
        (scope, r["model_pk"]) for r in overall.rows
    }
    for row in overall.rows:
        rank = everything[(scope, row["model_pk"])]
        assert rank.snapshot_id == overall.snapshot.id  # the newer of the two snapshots
        assert (rank.rank, rank.rank_ub, rank.bt_rating) == (
            row["rank"],
            row["rank_ub"],
            row["bt_rating"],
        )
    one = overall.rows[0]["model_pk"]
    mine = boards.published_ranks(session, model_id=one)
    assert mine and {m for _, m in mine} == {one}  # every scope it is ranked in
    assert mine == {key: v for key, v in everything.items() if key[1] == one}
    assert set(boards.published_ranks(session, scope_ids=[scope])) == {
        key for key in everything if key[0] == scope
    }


def test_an_older_snapshot_ranks_by_its_own_ratings(swung, votes):
    session = swung
    first = boards.board(session, FW2).snapshot.id
    session.rollback()
    votes.cast(30, choice="left", seed=3)
    publish_snapshots(session, rounds=20, seed=2)
    old = boards.board(session, FW2, snapshot_id=first)
    assert old.snapshot.id == first
    ratings = [r["bt_rating"] for r in old.rows]
    assert ratings == sorted(ratings, reverse=True)
    assert [r["rank"] for r in old.rows] == competition_ranks(ratings)


def test_board_frame_keeps_whole_numbers_whole_beside_unranked_rows(swung, votes):
    votes.cast(2, competition="heroic-super-hero-portrait")
    frame = boards.board_frame(boards.board(swung, "overall"))
    assert list(frame.columns) == boards.COLUMNS
    assert boards.COLUMNS[-6:] == [
        "rank_ub",
        "provisional",
        "tie_rate",
        "license",
        "open_weights",
        "price_usd",
    ]
    text = frame.to_csv(index=False)
    parsed = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert parsed["rank"].iloc[0] == "1" and parsed["rank"].iloc[-1] == ""
    assert all("." not in value for value in parsed["battles"])
    prices = dict(zip(parsed["model_id"], parsed["price_usd"], strict=True))
    assert prices["flux-1-schnell"] == "0.003" and prices["gpt-image-1"] == ""  # unknown: empty


def test_board_rejects_bad_scopes(voted_session):
    with pytest.raises(ValidationError):
        boards.board(voted_session, "planet:mars")
    with pytest.raises(NotFound):
        boards.board(voted_session, "competition:nope")
    with pytest.raises(NotFound):
        boards.board(voted_session, "overall", snapshot_id=999_999)
