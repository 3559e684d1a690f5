"""Reading boards: the live board from real votes, and bad scopes refused."""

from __future__ import annotations

import pytest

from arena.errors import NotFound, ValidationError
from arena.services.leaderboards import boards


def test_live_board_ranks_by_elo_with_records(voted_session):
    board = boards.board(voted_session, "competition:fantasy-warrior-ii")
    assert board.snapshot is None and board.rows
    elos = [r["elo"] for r in board.rows]
    assert elos == sorted(elos, reverse=True)
    assert board.rows[0]["rank"] == 1 and all(r["rank_of"] == len(board.rows) for r in board.rows)
    for row in board.rows:
        assert row["battles"] == row["wins"] + row["losses"] + row["ties"] > 0
        assert row["win_rate"] == pytest.approx(row["wins"] / row["battles"])
        assert row["bt_rating"] is None
    assert board.live_votes == sum(r["battles"] for r in board.rows) // 2


def test_board_rejects_bad_scopes(voted_session):
    with pytest.raises(ValidationError):
        boards.board(voted_session, "planet:mars")
    with pytest.raises(NotFound):
        boards.board(voted_session, "competition:nope")
    with pytest.raises(NotFound):
        boards.board(voted_session, "overall", snapshot_id=999_999)
