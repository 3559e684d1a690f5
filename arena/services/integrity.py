"""Vote integrity: flagging voters (and rebuilding the live Elo without them) and the signals
operators read on the admin dashboard: uncounted votes, votes per hour, anomaly scores, upsets.

Signals recorded with each vote (``arena.services.voting.recording``): ``response_ms`` (battle
to vote), ``flag`` (``fast`` or ``daily_cap``: kept, not counted) and ``expected_a`` (model A's
expected score before the vote, from which upsets and anomaly scores follow).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    bindparam,
    case,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased

from arena.db import Database, Prepared
from arena.errors import NotFound, ValidationError, quoted
from arena.models import Competition, Model, Vote, Voter, utcnow
from arena.ratings.signals import anomaly_scores
from arena.services import rating_rows
from arena.services.counting import counted_votes

#: A voter whose anomaly score reaches this is listed as suspicious (one-sided, p < 0.001).
SUSPICIOUS_Z = 3.0
#: A voter with this many fast votes is listed as suspicious whatever the score.
SUSPICIOUS_FAST_VOTES = 3
#: An upset: the winner's expected score before the vote was at most this.
UPSET_EXPECTED = 0.2
MAX_REASON = 500


@dataclass(frozen=True)
class FlagResult:
    public_id: str
    flagged: bool
    votes: int
    votes_counted: int


def set_voter_flag(
    db: Database, public_id: str, *, flagged: bool, reason: str | None, k: float
) -> FlagResult:
    """Flag a voter (their votes stop counting) or lift the flag, and rebuild the live Elo.

    One transaction: the voter row changes and every rating is replayed from the counted
    votes, so the live Elo, records and ``arena verify`` agree at once. Published snapshots
    change with the next snapshot (published in the background, or by ``arena recompute``).

    Raises:
        NotFound: no voter has this pseudonym.
        ValidationError: flagging without a reason, or a reason longer than 500 characters.
    """
    reason = (reason or "").strip() or None
    if flagged and reason is None:
        raise ValidationError("say why this voter is flagged (operators read it)", field="reason")
    if reason is not None and len(reason) > MAX_REASON:
        raise ValidationError(f"the reason is limited to {MAX_REASON} characters", field="reason")
    with db.write_transaction() as conn:
        voter_id = conn.execute(select(Voter.id).where(Voter.public_id == public_id)).scalar()
        if voter_id is None:
            raise NotFound(f"no voter {quoted(public_id)}", field="voter")
        # Ratings first, then the voter row: a vote takes them in that order too.
        rating_rows.rebuild_all(
            conn,
            k,
            lambda: conn.execute(
                update(Voter)
                .where(Voter.id == voter_id)
                .values(
                    flagged=flagged,
                    flag_reason=reason if flagged else None,
                    flagged_at=utcnow() if flagged else None,
                )
            ),
        )
        votes, counted = conn.execute(
            select(func.count(), func.count().filter(counted_votes())).where(
                Vote.voter_id == voter_id
            )
        ).one()
    return FlagResult(public_id, flagged, votes, counted)


def flag_voters(conn: Connection, reasons: dict[int, str], *, k: float) -> int:
    """Flag many voters at once (the rigging detectors), with one rebuild of the live Elo.

    Runs inside the caller's write transaction, rating rows locked before voter rows as a
    vote locks them. Voters already flagged keep their reason.

    Args:
        reasons: voter id -> why (at most 500 characters are kept).
        k: the Elo K of the rebuild.

    Returns:
        How many voters were flagged (0: nothing changed, no rebuild).
    """
    if not reasons:
        return 0
    now = utcnow()
    rows = [{"vid": vid, "why": why[:MAX_REASON]} for vid, why in reasons.items()]
    table = Voter.__table__
    statement = (
        update(table)
        .where(table.c.id == bindparam("vid"), table.c.flagged.is_(False))
        .values(flagged=True, flag_reason=bindparam("why"), flagged_at=now)
        .execution_options(synchronize_session=False)
    )
    rating_rows.rebuild_all(conn, k, lambda: conn.execute(statement, rows))
    return len(rows)


def anomaly_scores_of_voters(session: Session) -> list[dict[str, Any]]:
    """Every scored voter's anomaly score from their decided votes (reads only).

    Returns:
        ``{"vid": voter id, "score": z}`` for each voter with enough informative votes.
    """
    # Plain tuples straight into one array, as the snapshot's vote load does: a million
    # votes load in about a second instead of several through ORM rows.
    rows = Prepared(
        select(
            Vote.voter_id, case((Vote.winner == "model_a", 1.0), else_=0.0), Vote.expected_a
        ).where(
            Vote.voter_id.is_not(None),
            Vote.expected_a.is_not(None),
            # No IN list: a prepared statement cannot expand one.
            or_(Vote.winner == "model_a", Vote.winner == "model_b"),
        )
    ).execute(session.connection(), {})
    if not rows:
        return []
    data = np.array(rows, dtype=np.float64).reshape(-1, 3)
    voter_ids, index = np.unique(data[:, 0].astype(np.int64), return_inverse=True)
    scores = anomaly_scores(index, data[:, 1].astype(bool), data[:, 2], len(voter_ids))
    return [
        {"vid": int(v), "score": float(z)}
        for v, z in zip(voter_ids, scores, strict=True)
        if not np.isnan(z)
    ]


def store_anomaly_scores(session: Session, scored: list[dict[str, Any]]) -> None:
    """Replace every voter's anomaly score with ``scored`` (None for the others); not committed."""
    session.execute(
        update(Voter).values(anomaly_score=None).where(Voter.anomaly_score.is_not(None))
    )
    if scored:
        table = Voter.__table__
        session.execute(
            update(table)
            .where(table.c.id == bindparam("vid"))
            .values(anomaly_score=bindparam("score"))
            .execution_options(synchronize_session=False),
            scored,
        )


def refresh_anomaly_scores(session: Session) -> int:
    """Recompute and store every voter's anomaly score (not committed).

    Returns:
        How many voters have a score (enough informative votes).
    """
    scored = anomaly_scores_of_voters(session)
    store_anomaly_scores(session, scored)
    return len(scored)


@dataclass(frozen=True)
class VoterSignals:
    public_id: str
    created_at: dt.datetime
    votes: int
    counted: int
    fast: int
    over_cap: int
    mean_response_ms: float | None
    anomaly_score: float | None
    flagged: bool
    flag_reason: str | None
    flagged_at: dt.datetime | None

    @property
    def suspicious(self) -> bool:
        return (self.anomaly_score or 0.0) >= SUSPICIOUS_Z or self.fast >= SUSPICIOUS_FAST_VOTES


def _vote_stats() -> tuple[Any, ColumnElement[bool]]:
    """Per-voter vote counts (a subquery on ``votes``) and the "suspicious" condition on it."""
    stats = (
        select(
            Vote.voter_id.label("voter_id"),
            func.count().label("votes"),
            func.count().filter(Vote.flag.is_(None)).label("unflagged"),
            func.count().filter(Vote.flag == "fast").label("fast"),
            func.count().filter(Vote.flag == "daily_cap").label("over_cap"),
            func.avg(Vote.response_ms).label("mean_ms"),
        )
        .where(Vote.voter_id.is_not(None))
        .group_by(Vote.voter_id)
        .subquery()
    )
    suspicious = (
        (Voter.anomaly_score >= SUSPICIOUS_Z)
        | (stats.c.fast >= SUSPICIOUS_FAST_VOTES)
        | (stats.c.over_cap > 0)
    )
    return stats, suspicious


def voter_signals(
    session: Session, *, query: str = "", suspicious_only: bool = False, limit: int = 200
) -> list[VoterSignals]:
    """Voters with their vote counts and signals, most suspicious first.

    ``query`` filters by pseudonym prefix; ``suspicious_only`` keeps the voters over a
    threshold (anomaly score, fast votes or votes over the daily cap) and the flagged ones.
    """
    stats, suspicious = _vote_stats()
    statement = select(Voter, stats).join(stats, stats.c.voter_id == Voter.id)
    if query:
        statement = statement.where(Voter.public_id.startswith(query, autoescape=True))
    if suspicious_only:
        statement = statement.where(suspicious | Voter.flagged.is_(True))
    order = case((Voter.flagged.is_(True), 1), else_=0)
    statement = statement.order_by(
        order,
        func.coalesce(Voter.anomaly_score, -1e9).desc(),
        stats.c.fast.desc(),
        stats.c.votes.desc(),
    ).limit(limit)
    result = []
    for row in session.execute(statement):
        voter: Voter = row[0]
        result.append(
            VoterSignals(
                public_id=voter.public_id,
                created_at=voter.created_at,
                votes=row.votes,
                counted=0 if voter.flagged else row.unflagged,
                fast=row.fast,
                over_cap=row.over_cap,
                mean_response_ms=float(row.mean_ms) if row.mean_ms is not None else None,
                anomaly_score=voter.anomaly_score,
                flagged=voter.flagged,
                flag_reason=voter.flag_reason,
                flagged_at=voter.flagged_at,
            )
        )
    return result


@dataclass(frozen=True)
class HourCount:
    hour: dt.datetime
    votes: int
    uncounted: int


def votes_per_hour(
    session: Session, *, hours: int = 48, now: dt.datetime | None = None
) -> list[HourCount]:
    """Votes in each of the last ``hours`` whole hours (oldest first), with the uncounted."""
    now = now or utcnow()
    end = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    start = end - dt.timedelta(hours=hours)
    # Counted per hour in SQL (hours since the epoch), not by fetching every vote.
    if session.get_bind().dialect.name == "sqlite":
        # Floor division: SQLAlchemy's "/" is true division and would make every second its
        # own bucket.
        epoch_hour = func.cast(func.strftime("%s", Vote.created_at), Integer) // 3600
    else:
        epoch_hour = func.floor(func.extract("epoch", Vote.created_at) / 3600)
    bucket = epoch_hour.label("bucket")
    rows = session.execute(
        select(bucket, func.count(), func.count().filter(Vote.flag.is_not(None)))
        .where(Vote.created_at >= start)
        .group_by(bucket)
    ).all()
    first = int(start.timestamp()) // 3600
    votes = np.zeros(hours, dtype=np.int64)
    uncounted = np.zeros(hours, dtype=np.int64)
    for hour, total, flagged in rows:
        slot = int(hour) - first
        if 0 <= slot < hours:
            votes[slot] = total
            uncounted[slot] = flagged
    return [
        HourCount(start + dt.timedelta(hours=i), int(votes[i]), int(uncounted[i]))
        for i in range(hours)
    ]


@dataclass(frozen=True)
class Overview:
    votes_24h: int
    uncounted_24h: int
    active_voters_24h: int
    flagged_voters: int
    suspicious_voters: int
    scored_voters: int


def overview(session: Session, *, now: dt.datetime | None = None) -> Overview:
    """The dashboard's headline figures for the last 24 hours."""
    since = (now or utcnow()) - dt.timedelta(hours=24)
    votes, uncounted, active = session.execute(
        select(
            func.count(),
            func.count().filter(Vote.flag.is_not(None)),
            func.count(func.distinct(Vote.voter_id)),
        ).where(Vote.created_at >= since)
    ).one()
    flagged = session.scalar(select(func.count()).where(Voter.flagged.is_(True)))
    scored = session.scalar(select(func.count()).where(Voter.anomaly_score.is_not(None)))
    stats, over_threshold = _vote_stats()
    suspicious = session.scalar(
        select(func.count())
        .select_from(Voter)
        .join(stats, stats.c.voter_id == Voter.id)
        .where(over_threshold, Voter.flagged.is_(False))
    )
    return Overview(votes, uncounted, active, flagged, suspicious, scored)


@dataclass(frozen=True)
class Upset:
    vote_id: int
    created_at: dt.datetime
    competition: str
    winner: str
    loser: str
    winner_expected: float
    voter: str | None
    counted: bool


def upsets(session: Session, *, limit: int = 50, threshold: float = UPSET_EXPECTED) -> list[Upset]:
    """The latest votes won by a model the Elo gave at most ``threshold`` to win."""
    model_a, model_b = aliased(Model), aliased(Model)
    winner_expected = case((Vote.winner == "model_a", Vote.expected_a), else_=1.0 - Vote.expected_a)
    rows = session.execute(
        select(
            Vote.id,
            Vote.created_at,
            Competition.slug,
            Vote.winner,
            model_a.name,
            model_b.name,
            winner_expected,
            Voter.public_id,
            Vote.flag,
            Voter.flagged,
        )
        .join(Competition, Competition.id == Vote.competition_id)
        .join(model_a, model_a.id == Vote.model_a_id)
        .join(model_b, model_b.id == Vote.model_b_id)
        .outerjoin(Voter, Voter.id == Vote.voter_id)
        .where(
            Vote.winner.in_(("model_a", "model_b")),
            Vote.expected_a.is_not(None),
            winner_expected <= threshold,
        )
        .order_by(Vote.id.desc())
        .limit(limit)
    ).all()
    return [
        Upset(
            vote_id=row[0],
            created_at=row[1],
            competition=row[2],
            winner=row[4] if row[3] == "model_a" else row[5],
            loser=row[5] if row[3] == "model_a" else row[4],
            winner_expected=float(row[6]),
            voter=row[7],
            counted=row[8] is None and not row[9],
        )
        for row in rows
    ]
