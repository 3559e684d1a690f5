"""The admin dashboard's figures: the catalog, competitions, outputs, votes and snapshots."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from arena.models import Category, Competition, Model, Snapshot, Vote, Voter, utcnow
from arena.models.arena import COMPETITION_STATUSES
from arena.services.status import competition_status


@dataclass(frozen=True)
class Overview:
    """Counts across the whole arena, as of ``now``."""

    now: dt.datetime
    models: int
    models_active: int
    categories: int
    competitions: dict[str, int]
    outputs_done: int
    outputs_failed: int
    outputs_missing: int
    votes: int
    votes_24h: int
    voters: int
    voters_flagged: int
    snapshots: int
    latest_snapshot: dt.datetime | None

    @property
    def competitions_total(self) -> int:
        return sum(self.competitions.values())


def _count(session: Session, table: type, where: ColumnElement[bool] | None = None) -> int:
    query = select(func.count()).select_from(table)
    return session.scalar(query if where is None else query.where(where)) or 0


def overview(session: Session, *, now: dt.datetime | None = None) -> Overview:
    """Every figure of the dashboard, read in one go.

    Outputs are counted as ``arena status`` counts them: (prompt, entered model) pairs
    done, failed, and missing (failed included).
    """
    now = now or utcnow()
    statuses = dict.fromkeys(COMPETITION_STATUSES, 0)
    statuses.update(
        session.execute(select(Competition.status, func.count()).group_by(Competition.status)).all()
    )
    rows = competition_status(session)
    return Overview(
        now=now,
        models=_count(session, Model),
        models_active=_count(session, Model, where=Model.status == "active"),
        categories=_count(session, Category),
        competitions=statuses,
        outputs_done=sum(r["outputs_done"] for r in rows),
        outputs_failed=sum(r["outputs_failed"] for r in rows),
        outputs_missing=sum(r["outputs_missing"] for r in rows),
        votes=_count(session, Vote),
        votes_24h=_count(session, Vote, where=Vote.created_at >= now - dt.timedelta(hours=24)),
        voters=_count(session, Voter),
        voters_flagged=_count(session, Voter, where=Voter.flagged.is_(True)),
        snapshots=_count(session, Snapshot),
        latest_snapshot=session.scalar(select(func.max(Snapshot.computed_at))),
    )
