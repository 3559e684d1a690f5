"""Exports of the vote log and leaderboards as pandas frames, CSV and JSON."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from arena.errors import ValidationError
from arena.models import Category, Competition, Model, Vote, Voter
from arena.services.counting import counted_votes
from arena.services.leaderboards.boards import Board, board_frame

VOTE_COLUMNS = [
    "vote_id", "created_at", "competition", "category", "prompt_id", "model_a", "model_b",
    "winner", "voter",
]  # fmt: skip
FORMATS = ("csv", "json")


def check_format(fmt: str) -> str:
    """The export format, checked.

    Raises:
        ValidationError: not csv or json.
    """
    if fmt not in FORMATS:
        raise ValidationError(f"format must be csv or json, got {fmt!r}", field="format")
    return fmt


def pseudonym(secret: str, public_id: str | None) -> str | None:
    """A voter's published pseudonym: stable per voter, unlinkable to the cookie."""
    if public_id is None:
        return None
    return hmac.new(secret.encode(), public_id.encode(), hashlib.sha256).hexdigest()[:16]


def votes_frame(session: Session, secret: str) -> pd.DataFrame:
    """The counted votes of the log in id order, with the vote columns of docs/contract.md (3.6).

    Votes that do not count (cast too fast, over the daily cap, or by a flagged voter; see
    arena.services.counting) stay in the database for review but are not published, so the
    export reproduces exactly what the leaderboards are computed from.
    """
    model_a, model_b = aliased(Model), aliased(Model)
    rows = session.execute(
        select(
            Vote.id,
            Vote.created_at,
            Competition.slug,
            Category.slug,
            Vote.prompt_id,
            model_a.slug,
            model_b.slug,
            Vote.winner,
            Voter.public_id,
        )
        .join(Competition, Competition.id == Vote.competition_id)
        .join(Category, Category.id == Competition.category_id)
        .join(model_a, model_a.id == Vote.model_a_id)
        .join(model_b, model_b.id == Vote.model_b_id)
        .outerjoin(Voter, Voter.id == Vote.voter_id)
        .where(counted_votes())
        .order_by(Vote.id)
    ).all()
    frame = pd.DataFrame(rows, columns=VOTE_COLUMNS)
    frame["voter"] = [pseudonym(secret, v) for v in frame["voter"]]
    frame["created_at"] = [t.isoformat().replace("+00:00", "Z") for t in frame["created_at"]]
    frame["prompt_id"] = frame["prompt_id"].astype("Int64")
    return frame


def frame_to_csv(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue()


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    # Through JSON so that numpy scalars and missing values become plain JSON values.
    return json.loads(frame.to_json(orient="records", double_precision=15))


def votes_document(frame: pd.DataFrame) -> dict[str, Any]:
    return {"count": len(frame), "votes": _records(frame)}


def leaderboard_document(b: Board) -> dict[str, Any]:
    """The leaderboard JSON (docs/contract.md, 3.5): ``{scope, snapshot_id, computed_at, rows}``,
    rows in published rank order with the columns of ``boards.COLUMNS`` (the unranked last)."""
    snapshot = b.snapshot
    return {
        "scope": b.scope.key,
        "snapshot_id": snapshot.id if snapshot else None,
        "computed_at": snapshot.computed_at.isoformat().replace("+00:00", "Z")
        if snapshot
        else None,
        "rows": _records(board_frame(b)),
    }
