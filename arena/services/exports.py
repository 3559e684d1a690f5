"""Exports of the vote log and leaderboards: streamed CSV, JSON and JSON Lines, in bounded memory.

The vote log grows without bound, so it is never held whole: :func:`vote_batches` reads it in
keyset batches (``id > last ORDER BY id LIMIT batch``), each batch one short query on a fresh
session, and the writers below turn each batch into text as it comes. Memory is bounded by
one batch whatever the log's size, and no connection or transaction is held while a slow
client reads the previous batch. Leaderboards are one row per model: they stay frames.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pandas as pd
from sqlalchemy import Select, func, select
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
#: Rows per query of :func:`vote_batches`: a few MB of Python objects at most.
BATCH = 5000
#: The largest page of ``GET /api/v1/votes?limit=``.
MAX_PAGE = 100_000
#: Vote ids are 64-bit keys: ASCII digits, no sign, at most this value.
MAX_VOTE_ID = 2**63 - 1

#: One exported vote: the values of ``VOTE_COLUMNS``, in order.
VoteRow = tuple[int, str, str, str, int | None, str, str, str, str | None]
#: Opens a session for one batch (``Database.session``, or the same session again).
SessionOpener = Callable[[], AbstractContextManager[Session]]


def check_format(fmt: str) -> str:
    """The export format, checked.

    Raises:
        ValidationError: not csv or json.
    """
    if fmt not in FORMATS:
        raise ValidationError(f"format must be csv or json, got {fmt!r}", field="format")
    return fmt


def check_count(value: str | None, field: str, *, low: int, high: int) -> int | None:
    """A whole-number query parameter (ASCII digits only) between ``low`` and ``high``.

    Raises:
        ValidationError: anything else, naming ``field``.
    """
    if value is None:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 19 and low <= int(value) <= high):
        raise ValidationError(f"{field} must be a whole number from {low} to {high}", field=field)
    return int(value)


def pseudonym(secret: str, public_id: str | None) -> str | None:
    """A voter's published pseudonym: stable per voter, unlinkable to the cookie."""
    if public_id is None:
        return None
    return hmac.new(secret.encode(), public_id.encode(), hashlib.sha256).hexdigest()[:16]


def _pseudonyms(secret: str) -> Callable[[str | None], str | None]:
    """:func:`pseudonym` with this secret, fast: the keyed hash is set up once and copied per
    voter, and recent voters (most votes come from voters with many votes) are remembered in
    a bounded cache."""
    keyed = hmac.new(secret.encode(), digestmod=hashlib.sha256)

    @lru_cache(maxsize=16384)
    def of(public_id: str | None) -> str | None:
        if public_id is None:
            return None
        digest = keyed.copy()
        digest.update(public_id.encode())
        return digest.hexdigest()[:16]

    return of


def _timestamp(value: dt.datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _votes_query(after: int, upto: int | None, limit: int) -> Select[Any]:
    """Counted votes with ``after < id <= upto`` in id order, the first ``limit`` of them."""
    model_a, model_b = aliased(Model), aliased(Model)
    query = (
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
        .where(Vote.id > after, counted_votes())
    )
    if upto is not None:
        query = query.where(Vote.id <= upto)
    return query.order_by(Vote.id).limit(limit)


def vote_batches(
    sessions: SessionOpener,
    secret: str,
    *,
    after: int = 0,
    upto: int | None = None,
    limit: int | None = None,
    batch: int = BATCH,
) -> Iterator[list[VoteRow]]:
    """The counted votes after ``after`` (and up to ``upto``), at most ``limit`` of them, in
    id order, as lists of at most ``batch`` export rows.

    Votes that do not count (cast too fast, over the daily cap, or by a flagged voter; see
    arena.services.counting) stay in the database for review but are not published, so the
    export reproduces exactly what the leaderboards are computed from. Each batch is one
    indexed range query on a session of its own (``sessions()``), resuming after the last id
    read: the log is append-only, so batches neither skip nor repeat a vote, and votes cast
    during a long export follow at its end.
    """
    names = _pseudonyms(secret)
    left = limit
    while left is None or left > 0:
        size = batch if left is None else min(batch, left)
        with sessions() as session:
            # Core, not ORM, execution: plain rows, without the ORM's per-row loading.
            rows = session.connection().execute(_votes_query(after, upto, size)).all()
        if not rows:
            return
        yield [
            (v, _timestamp(t), comp, cat, prompt, a, b, winner, names(voter))
            for v, t, comp, cat, prompt, a, b, winner, voter in rows
        ]
        if len(rows) < size:
            return
        after = rows[-1][0]
        if left is not None:
            left -= len(rows)


@dataclass(frozen=True)
class Page:
    """One page of the vote log: the counted votes with ``after < id <= upto``.

    ``upto`` is None when the log has no vote after ``after``; ``next_after`` is the
    ``after`` of the next page, None when this page reaches the end of the log as it stood
    when the page was planned.
    """

    after: int
    upto: int | None
    next_after: int | None


def plan_page(session: Session, *, after: int = 0, limit: int | None = None) -> Page:
    """The page of at most ``limit`` counted votes after ``after`` (None: all of them).

    Planned before streaming, so that the ``Link`` header can name the next page and the
    page is a fixed id range: one index look-up of the ``limit``-th and the next counted
    ids, or of the last id. Votes cast while a page streams fall into the next page (or the
    next request), never into a gap, and a response always ends.
    """
    if limit is not None:
        ids = session.scalars(
            select(Vote.id)
            .where(Vote.id > after, counted_votes())
            .order_by(Vote.id)
            .offset(limit - 1)
            .limit(2)
        ).all()
        if ids:
            return Page(after, ids[0], ids[0] if len(ids) == 2 else None)
    last = session.scalar(select(func.max(Vote.id)))
    return Page(after, last if last is not None and last > after else None, None)


def page_batches(
    sessions: SessionOpener, secret: str, page: Page, *, batch: int = BATCH
) -> Iterator[list[VoteRow]]:
    """The export rows of ``page``, in batches (see :func:`vote_batches`)."""
    if page.upto is None:
        return iter(())
    return vote_batches(sessions, secret, after=page.after, upto=page.upto, batch=batch)


def csv_text(rows: Iterable[VoteRow] | None = None) -> str:
    """CSV lines of ``rows`` (None: the header line), as ``pandas.DataFrame.to_csv`` wrote
    the frame before: minimal quoting, ``\\n`` line ends, missing values empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if rows is None:
        writer.writerow(VOTE_COLUMNS)
    else:
        writer.writerows(rows)
    return buffer.getvalue()


def csv_chunks(batches: Iterable[list[VoteRow]]) -> Iterator[str]:
    """The vote log as CSV (header, then one line per vote), one string per batch."""
    yield csv_text()
    for rows in batches:
        yield csv_text(rows)


def _json_line(row: VoteRow) -> str:
    return json.dumps(dict(zip(VOTE_COLUMNS, row, strict=True)), separators=(",", ":"))


def jsonl_text(rows: Iterable[VoteRow]) -> str:
    """JSON Lines of ``rows``: one vote object per line."""
    return "".join(_json_line(row) + "\n" for row in rows)


def json_chunks(
    batches: Iterable[list[VoteRow]], *, next_after: int | None = None
) -> Iterator[str]:
    """The vote log document ``{"votes": [...], "count": n, "next_after": id|null}``, written
    as the batches come: ``count`` follows the votes, since it is known only at the end."""
    yield '{"votes":['
    count = 0
    for rows in batches:
        text = ",".join(_json_line(row) for row in rows)
        yield ("," if count else "") + text
        count += len(rows)
    yield f'],"count":{count},"next_after":{json.dumps(next_after)}}}'


def votes_frame(session: Session, secret: str) -> pd.DataFrame:
    """The counted votes of the log in id order, with the vote columns of docs/contract.md
    (3.6), as one frame: for analyses and tests on small logs (exports stream instead)."""
    rows = [row for rows in vote_batches(lambda: nullcontext(session), secret) for row in rows]
    frame = pd.DataFrame(rows, columns=VOTE_COLUMNS)
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
    """A votes frame as the vote log document (the streamed one without ``next_after``)."""
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
