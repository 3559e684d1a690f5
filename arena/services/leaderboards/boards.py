"""Reading leaderboards: scopes, live Elo rows, published ranks, and a scope's board.

The ranking is the published one (docs/contract.md, 2.5): ``rank``, ``rank_of`` and
``rank_ub`` come from a scope's latest snapshot, everywhere (boards, model pages, the catalog,
exports). The live Elo and records ride along as instant feedback; they never rank.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from arena.db import storable
from arena.errors import NotFound, ValidationError, quoted
from arena.models import Category, Competition, Model, Rating, Scope, Snapshot, SnapshotRow
from arena.services.editions import competition_editions
from arena.services.leaderboards.facts import ModelFacts, model_facts
from arena.services.scopes import OVERALL

#: Columns of a leaderboard export: docs/contract.md (3.6) in its order, then ours (the last
#: three are public facts of the model, ``arena.services.leaderboards.facts``; null = unknown).
COLUMNS = [
    "rank", "rank_of", "model_id", "model_name", "creator", "elo", "wins", "losses", "ties",
    "battles", "win_rate", "bt_rating", "ci_low", "ci_high", "snapshot_id", "rank_ub",
    "provisional", "tie_rate", "license", "open_weights", "price_usd",
]  # fmt: skip
#: Whole-number columns: exported as integers, empty (null) where unknown, never as floats.
INTEGER_COLUMNS = ("rank", "rank_of", "wins", "losses", "ties", "battles", "snapshot_id", "rank_ub")
#: The columns a board row takes from its snapshot row (None while the model is unranked).
PUBLISHED = ("rank", "rank_of", "rank_ub", "bt_rating", "ci_low", "ci_high", "tie_rate")


@dataclass(frozen=True)
class ScopeInfo:
    """A scope as pages show it.

    ``title`` is what a reader sees: "Overall", a category's name, or a competition's name
    with its edition when another competition shares the name ("Fantasy Warrior · edition 2",
    see ``arena.services.editions``), never its slug. ``category`` is a competition's category
    name (None for the other scopes).
    """

    id: int
    key: str
    kind: str
    title: str
    slug: str | None
    category: str | None = None


@dataclass(frozen=True)
class PublishedRank:
    """A model's line in a scope's published snapshot: its rank and rating with the interval.

    ``rank`` is the 1-based position by ``bt_rating`` among the snapshot's models (equal
    ratings share the better rank), ``rank_of`` their number, ``rank_ub`` 1 + the number of
    models whose whole 95% interval lies above this model's; ``tie_rate`` is the share of the
    model's battles that were ties.
    """

    snapshot_id: int
    rank: int
    rank_of: int
    rank_ub: int
    bt_rating: float
    ci_low: float
    ci_high: float
    provisional: bool
    tie_rate: float

    @classmethod
    def from_row(cls, row: SnapshotRow) -> PublishedRank:
        """The published rank of one snapshot row."""
        return cls(
            snapshot_id=row.snapshot_id,
            rank=row.rank,
            rank_of=row.rank_of,
            rank_ub=row.rank_ub,
            bt_rating=row.bt_rating,
            ci_low=row.ci_low,
            ci_high=row.ci_high,
            provisional=row.provisional,
            tie_rate=row.tie_rate,
        )


@dataclass
class Board:
    """One scope's leaderboard: rows in published rank order, then the models the snapshot
    does not rank yet (``rank`` None, by name), and the snapshot they carry, if any."""

    scope: ScopeInfo
    rows: list[dict[str, Any]]
    snapshot: Snapshot | None
    plots: dict[str, Any] | None = None
    live_votes: int = 0
    extras: dict[str, Any] = field(default_factory=dict)
    facts: dict[int, ModelFacts] = field(default_factory=dict)  # by model pk

    @property
    def unranked(self) -> int:
        """How many rows the snapshot does not rank (every row before the first snapshot)."""
        return sum(1 for row in self.rows if row["rank"] is None)


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
    category = None
    if kind == OVERALL:
        title = "Overall"
    elif kind == "category":
        title = session.scalar(select(Category.name).where(Category.id == scope.category_id))
    else:
        edition = competition_editions(session).get(slug or "")
        title = edition.label if edition else None
        category = session.scalar(
            select(Category.name)
            .join(Competition, Competition.category_id == Category.id)
            .where(Competition.id == scope.competition_id)
        )
    return ScopeInfo(scope.id, key, kind, title or key, slug, category)


def live_rows(session: Session, scope_id: int) -> list[dict[str, Any]]:
    """Live Elo and records of the models with at least one battle in a scope, by name.

    These are instant feedback, not a ranking: ranks come from the published snapshot
    (``published_ranks``, ``board``).
    """
    rows = session.execute(
        select(
            Model.id,
            Model.slug,
            Model.name,
            Model.creator,
            Model.status,
            Rating.elo,
            Rating.wins,
            Rating.losses,
            Rating.ties,
            Rating.battles,
        )
        .join(Rating, Rating.model_id == Model.id)
        .where(Rating.scope_id == scope_id, Rating.battles > 0)
        .order_by(Model.name, Model.slug)
    ).all()
    return [
        {
            "model_pk": r.id,
            "model_id": r.slug,
            "model_name": r.name,
            "creator": r.creator,
            "status": r.status,
            "elo": r.elo,
            "wins": r.wins,
            "losses": r.losses,
            "ties": r.ties,
            "battles": r.battles,
            "win_rate": r.wins / r.battles,
        }
        for r in rows
    ]


def _latest_snapshot_ids() -> Select[tuple[int, int | None]]:
    """Each scope's id beside the id of its newest snapshot (None before the first one).

    A correlated newest-first ``LIMIT 1`` per scope (scopes are few), rather than grouping
    every snapshot the background publisher has ever written.
    """
    newest = (
        select(Snapshot.id)
        .where(Snapshot.scope_id == Scope.id)
        .order_by(Snapshot.id.desc())
        .limit(1)
        .correlate(Scope)
        .scalar_subquery()
    )
    return select(Scope.id.label("scope_id"), newest.label("snapshot_id"))


def published_ranks(
    session: Session,
    *,
    scope_ids: Collection[int] | None = None,
    model_id: int | None = None,
) -> dict[tuple[int, int], PublishedRank]:
    """The latest published rank of every model in every scope, in one query.

    Args:
        scope_ids: only these scopes (None: every scope).
        model_id: only this model (a model's page); None: every model.

    Returns:
        ``{(scope id, model pk): PublishedRank}``; a model missing from its scope's latest
        snapshot (or a scope without one) is absent: it is not ranked there yet.
    """
    latest = _latest_snapshot_ids()
    if scope_ids is not None:
        latest = latest.where(Scope.id.in_(list(scope_ids)))
    newest = latest.subquery()
    statement = select(newest.c.scope_id, SnapshotRow).join(
        SnapshotRow, SnapshotRow.snapshot_id == newest.c.snapshot_id
    )
    if model_id is not None:
        statement = statement.where(SnapshotRow.model_id == model_id)
    return {
        (scope_id, row.model_id): PublishedRank.from_row(row)
        for scope_id, row in session.execute(statement)
    }


def _snapshot_ranks(session: Session, snapshot_id: int) -> dict[int, PublishedRank]:
    """The ranks of one snapshot, by model pk."""
    rows = session.scalars(select(SnapshotRow).where(SnapshotRow.snapshot_id == snapshot_id))
    return {row.model_id: PublishedRank.from_row(row) for row in rows}


def _board_order(row: dict[str, Any]) -> tuple[bool, int, str, str]:
    """Ranked rows by rank (then name), the unranked after them by name."""
    unranked = row["rank"] is None
    return unranked, 0 if unranked else row["rank"], row["model_name"].lower(), row["model_id"]


def latest_snapshot(session: Session, scope_id: int) -> Snapshot | None:
    """The newest snapshot of a scope, or None."""
    return session.scalar(
        select(Snapshot).where(Snapshot.scope_id == scope_id).order_by(Snapshot.id.desc()).limit(1)
    )


def board(session: Session, key: str, *, snapshot_id: int | None = None) -> Board:
    """The leaderboard of one scope: the latest (or given) snapshot's ranking with live columns.

    Rows carry the columns of docs/contract.md (3.6), then the model's ``status`` and its
    public facts (``license``, ``open_weights``, ``price_usd``, ``price_label``; None where
    unknown). ``rank``, ``rank_of``, ``rank_ub``,
    ``bt_rating``, ``ci_low``, ``ci_high``, ``tie_rate`` and ``provisional`` come from the
    snapshot; ``elo`` and the record are live. Rows are in snapshot rank order; models with
    live battles that the snapshot does not rank yet follow with those columns None (and
    ``provisional`` true), by name, so before the first snapshot nothing is ranked. A model
    the snapshot ranks but with no counted battle left (its voters since flagged) is left out.

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
    ranks = _snapshot_ranks(session, snapshot.id) if snapshot is not None else {}
    rows = live_rows(session, scope.id)
    for row in rows:
        fit = ranks.get(row["model_pk"])
        for column in PUBLISHED:
            row[column] = getattr(fit, column) if fit else None
        row["provisional"] = fit.provisional if fit else True
        row["snapshot_id"] = snapshot.id if snapshot else None
    facts = model_facts(session, [row["model_pk"] for row in rows])
    for row in rows:
        fact = facts.get(row["model_pk"])
        for column in ("license", "open_weights", "price_usd", "price_label"):
            row[column] = getattr(fact, column) if fact else None
    rows.sort(key=_board_order)
    live_votes = session.scalar(
        select(func.coalesce(func.sum(Rating.battles), 0)).where(Rating.scope_id == scope.id)
    )
    return Board(
        scope,
        rows,
        snapshot,
        snapshot.plots if snapshot else None,
        live_votes=int(live_votes) // 2,
        facts=facts,
    )


def board_frame(b: Board) -> pd.DataFrame:
    """A board's rows as a DataFrame with exactly ``COLUMNS``, in the board's order.

    Whole-number columns are nullable integers, so an unranked row's missing ``rank`` does
    not turn the others into floats (CSV ``3``, not ``3.0``; JSON ``null`` where missing);
    ``price_usd`` (a Decimal in the rows) is a nullable float.
    """
    frame = pd.DataFrame([{c: row.get(c) for c in COLUMNS} for row in b.rows], columns=COLUMNS)
    prices = [None if p is None else float(p) for p in frame["price_usd"]]
    frame["price_usd"] = pd.array(prices, dtype="Float64")
    return frame.astype({column: "Int64" for column in INTEGER_COLUMNS})


def scope_menu(session: Session) -> list[ScopeInfo]:
    """Every public scope for navigation: overall, then categories, then competitions (each
    titled by name and edition, with its category), each group by title."""
    competition_category = Category.__table__.alias("competition_category")
    rows = session.execute(
        select(
            Scope.id,
            Scope.key,
            Scope.kind,
            Category.name,
            Competition.slug,
            competition_category.c.name,
        )
        .outerjoin(Category, Category.id == Scope.category_id)
        .outerjoin(Competition, Competition.id == Scope.competition_id)
        .outerjoin(competition_category, competition_category.c.id == Competition.category_id)
        .where((Competition.id.is_(None)) | (Competition.status != "draft"))
    ).all()
    labels = competition_editions(session)
    order = {OVERALL: 0, "category": 1, "competition": 2}
    menu = []
    for id_, key, kind, category_name, competition_slug, competition_category_name in rows:
        if kind == OVERALL:
            title = "Overall"
        elif kind == "category":
            title = category_name or key
        else:
            title = labels[competition_slug].label if competition_slug in labels else key
        menu.append(
            ScopeInfo(
                id_,
                key,
                kind,
                title,
                key.partition(":")[2] or None,
                competition_category_name if kind == "competition" else None,
            )
        )
    return sorted(menu, key=lambda s: (order[s.kind], s.title.casefold(), s.key))
