"""Reading leaderboards: scopes, live Elo rows, and a scope's board merged with its snapshot."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arena.db import storable
from arena.errors import NotFound, ValidationError, quoted
from arena.models import Category, Competition, Model, Rating, Scope, Snapshot, SnapshotRow
from arena.ratings.ranks import competition_ranks
from arena.services.scopes import OVERALL

#: Columns of a leaderboard export: docs/contract.md (3.6) in its order, then ours.
COLUMNS = [
    "rank", "rank_of", "model_id", "model_name", "creator", "elo", "wins", "losses", "ties",
    "battles", "win_rate", "bt_rating", "ci_low", "ci_high", "snapshot_id", "rank_ub",
    "provisional",
]  # fmt: skip


@dataclass(frozen=True)
class ScopeInfo:
    """A scope as pages show it."""

    id: int
    key: str
    kind: str
    title: str
    slug: str | None


@dataclass
class Board:
    """One scope's leaderboard: rows in rank order and the snapshot they carry, if any."""

    scope: ScopeInfo
    rows: list[dict[str, Any]]
    snapshot: Snapshot | None
    plots: dict[str, Any] | None = None
    live_votes: int = 0
    extras: dict[str, Any] = field(default_factory=dict)


def parse_scope(key: str) -> tuple[str, str | None]:
    """``overall`` / ``category:<slug>`` / ``competition:<slug>`` → (kind, slug).

    Raises:
        ValidationError: any other shape.
    """
    if key == OVERALL:
        return OVERALL, None
    kind, sep, slug = key.partition(":")
    if sep and kind in ("category", "competition") and slug:
        return kind, slug
    raise ValidationError(
        f"scope must be overall, category:<slug> or competition:<slug>, got {quoted(key)}",
        field="scope",
    )


def scope_info(session: Session, key: str) -> ScopeInfo:
    """The scope behind a public key.

    Raises:
        ValidationError: malformed key.
        NotFound: no such category or competition.
    """
    kind, slug = parse_scope(key)
    scope = session.scalar(select(Scope).where(Scope.key == key)) if storable(key) else None
    if scope is None:
        raise NotFound(f"no leaderboard for scope {quoted(key)}", field="scope")
    if kind == OVERALL:
        title = "Overall"
    elif kind == "category":
        title = session.scalar(select(Category.name).where(Category.id == scope.category_id))
    else:
        title = session.scalar(
            select(Competition.name).where(Competition.id == scope.competition_id)
        )
    return ScopeInfo(scope.id, key, kind, title or key, slug)


def live_rows(session: Session, scope_id: int) -> list[dict[str, Any]]:
    """Live Elo, records and ranks of the models with at least one battle in a scope.

    ``rank`` is the 1-based position by Elo, equal Elo sharing the better rank; ``rank_of``
    is the number of ranked models.
    """
    rows = session.execute(
        select(
            Model.id,
            Model.slug,
            Model.name,
            Model.creator,
            Rating.elo,
            Rating.wins,
            Rating.losses,
            Rating.ties,
            Rating.battles,
        )
        .join(Rating, Rating.model_id == Model.id)
        .where(Rating.scope_id == scope_id, Rating.battles > 0)
    ).all()
    if not rows:
        return []
    ranks = competition_ranks(np.array([r.elo for r in rows]))
    out = [
        {
            "model_pk": r.id,
            "rank": int(rank),
            "rank_of": len(rows),
            "model_id": r.slug,
            "model_name": r.name,
            "creator": r.creator,
            "elo": r.elo,
            "wins": r.wins,
            "losses": r.losses,
            "ties": r.ties,
            "battles": r.battles,
            "win_rate": r.wins / r.battles,
        }
        for r, rank in zip(rows, ranks, strict=True)
    ]
    out.sort(key=lambda row: (row["rank"], row["model_name"]))
    return out


def latest_snapshot(session: Session, scope_id: int) -> Snapshot | None:
    """The newest snapshot of a scope, or None."""
    return session.scalar(
        select(Snapshot).where(Snapshot.scope_id == scope_id).order_by(Snapshot.id.desc()).limit(1)
    )


def board(session: Session, key: str, *, snapshot_id: int | None = None) -> Board:
    """The leaderboard of one scope: live rows merged with the latest (or given) snapshot.

    Rows carry the columns of docs/contract.md (3.6); ``bt_rating``, ``ci_low``, ``ci_high``,
    ``rank_ub`` and ``provisional`` come from the snapshot (None before the first one).

    Raises:
        ValidationError / NotFound: bad scope; NotFound: no such snapshot for this scope.
    """
    scope = scope_info(session, key)
    if snapshot_id is None:
        snapshot = latest_snapshot(session, scope.id)
    else:
        snapshot = session.get(Snapshot, snapshot_id)
        if snapshot is None or snapshot.scope_id != scope.id:
            raise NotFound(f"no snapshot {snapshot_id} for scope {key!r}", field="snapshot")
    rows = live_rows(session, scope.id)
    fitted: dict[int, SnapshotRow] = {}
    if snapshot is not None:
        fitted = {
            r.model_id: r
            for r in session.scalars(
                select(SnapshotRow).where(SnapshotRow.snapshot_id == snapshot.id)
            )
        }
    for row in rows:
        fit = fitted.get(row["model_pk"])
        row["bt_rating"] = fit.bt_rating if fit else None
        row["ci_low"] = fit.ci_low if fit else None
        row["ci_high"] = fit.ci_high if fit else None
        row["rank_ub"] = fit.rank_ub if fit else None
        row["provisional"] = fit.provisional if fit else True
        row["snapshot_id"] = snapshot.id if snapshot else None
    live_votes = session.scalar(
        select(func.coalesce(func.sum(Rating.battles), 0)).where(Rating.scope_id == scope.id)
    )
    return Board(
        scope, rows, snapshot, snapshot.plots if snapshot else None, live_votes=int(live_votes) // 2
    )


def board_frame(b: Board) -> pd.DataFrame:
    """A board's rows as a DataFrame with exactly ``COLUMNS``."""
    return pd.DataFrame([{c: row.get(c) for c in COLUMNS} for row in b.rows], columns=COLUMNS)


def scope_menu(session: Session) -> list[ScopeInfo]:
    """Every public scope for navigation: overall, then categories, then competitions."""
    rows = session.execute(
        select(Scope.id, Scope.key, Scope.kind, Category.name, Competition.name, Competition.slug)
        .outerjoin(Category, Category.id == Scope.category_id)
        .outerjoin(Competition, Competition.id == Scope.competition_id)
        .where((Competition.id.is_(None)) | (Competition.status != "draft"))
        .order_by(Scope.kind.desc(), Category.name, Competition.name, Competition.slug)
    ).all()
    order = {OVERALL: 0, "category": 1, "competition": 2}
    menu = [
        ScopeInfo(
            id_,
            key,
            kind,
            "Overall" if kind == OVERALL else (cat or comp or key),
            key.partition(":")[2] or None,
        )
        for id_, key, kind, cat, comp, _slug in rows
    ]
    return sorted(menu, key=lambda s: (order[s.kind], s.title, s.key))
