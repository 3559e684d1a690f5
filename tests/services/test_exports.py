"""Exports: the leaderboard with the contract's columns, and the vote log with pseudonyms."""

from __future__ import annotations

import io
import json

import pandas as pd
from sqlalchemy import select

from arena.models import Voter
from arena.services import exports
from arena.services.leaderboards import boards, publishing

CONTRACT_COLUMNS = [  # docs/contract.md, 3.6
    "rank", "rank_of", "model_id", "model_name", "creator", "elo", "wins", "losses", "ties",
    "battles", "win_rate", "bt_rating", "ci_low", "ci_high", "snapshot_id",
]  # fmt: skip


def test_leaderboard_export_has_exactly_the_contract_columns(voted_session):
    publishing.publish_snapshots(voted_session, rounds=50, seed=2)
    board = boards.board(voted_session, "category:portrait")
    frame = boards.board_frame(board)
    assert list(frame.columns)[: len(CONTRACT_COLUMNS)] == CONTRACT_COLUMNS
    document = exports.leaderboard_document(board)
    assert document["scope"] == "category:portrait"
    assert document["snapshot_id"] == board.snapshot.id and document["computed_at"].endswith("Z")
    assert len(document["rows"]) == len(board.rows)
    parsed = pd.read_csv(io.StringIO(exports.frame_to_csv(frame)))
    assert list(parsed.columns) == boards.COLUMNS


def test_votes_export_is_the_log_with_pseudonymous_voters(voted_session, voted):
    frame = exports.votes_frame(voted_session, voted.config["SECRET_KEY"])
    assert list(frame.columns) == exports.VOTE_COLUMNS
    assert len(frame) == 80 and frame["vote_id"].is_monotonic_increasing
    public_id = voted_session.scalar(select(Voter.public_id))
    assert frame["voter"].nunique() == 1 and frame["voter"][0] != public_id
    assert set(frame["winner"]) <= {"model_a", "model_b", "tie"}
    document = json.loads(json.dumps(exports.votes_document(frame)))
    assert document["count"] == 80 and document["votes"][0]["category"] == "portrait"
