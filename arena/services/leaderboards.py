"""Leaderboards: live Elo boards per scope, and immutable snapshots fitted from the vote log.

``publish_snapshots`` (``arena recompute``) fits Bradley-Terry with bootstrap intervals for
every scope and stores a versioned snapshot with the online Elo and records of that moment
and the data the charts need. ``board`` reads one scope: the live Elo, records and ranks,
beside the latest snapshot's ratings and intervals.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import case, func, insert, select
from sqlalchemy.orm import Session
from threadpoolctl import threadpool_limits

from arena.db import Prepared, storable
from arena.errors import NotFound, ValidationError, quoted
from arena.models import (
    Category,
    Competition,
    Model,
    Rating,
    Scope,
    Snapshot,
    SnapshotRow,
    Vote,
    utcnow,
)
from arena.ratings import bradley_terry as bt
from arena.ratings import elo as elo_maths
from arena.ratings.ranks import competition_ranks
from arena.services import integrity
from arena.services.counting import counted_votes
from arena.services.scopes import OVERALL

#: Columns of a leaderboard export, in the SPEC's order, then ours.
COLUMNS = [
    "rank", "rank_of", "model_id", "model_name", "creator", "elo", "wins", "losses", "ties",
    "battles", "win_rate", "bt_rating", "ci_low", "ci_high", "snapshot_id", "rank_ub",
    "provisional",
]  # fmt: skip
#: Points kept per model for the Elo-over-time chart.
HISTORY_POINTS = 60
OUTCOME = {"model_a": 0, "model_b": 1, "tie": 2, "tie (bothbad)": 2}


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

    Rows carry the SPEC columns; ``bt_rating``, ``ci_low``, ``ci_high``, ``rank_ub`` and
    ``provisional`` come from the snapshot (None before the first one).

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


# --- publishing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    scope: str
    snapshot_id: int
    votes: int
    models: int
    seconds: float


def _votes_frame(session: Session) -> pd.DataFrame:
    """Every counted vote (see arena.services.counting) in log order, as small integers.

    Columns: ``competition_id``, ``a``, ``b``, ``outcome`` (0 model_a won, 1 model_b won,
    2 tie). The outcome is mapped in SQL and rows are fetched as plain tuples straight into
    one integer array: a million votes load in about a second.
    """
    outcome = case((Vote.winner == "model_a", 0), (Vote.winner == "model_b", 1), else_=2)
    statement = (
        select(Vote.competition_id, Vote.model_a_id, Vote.model_b_id, outcome)
        .where(counted_votes())
        .order_by(Vote.id)
    )
    rows = Prepared(statement).execute(session.connection(), {})
    data = np.array(rows, dtype=np.int64).reshape(-1, 4)
    return pd.DataFrame(
        {
            "competition_id": data[:, 0],
            "a": data[:, 1],
            "b": data[:, 2],
            "outcome": data[:, 3].astype(np.int8),
        }
    )


def _elo_history(a: np.ndarray, b: np.ndarray, outcome: np.ndarray, n: int, k: float) -> dict:
    """Online Elo of every model through the scope's log, sampled at ``HISTORY_POINTS``."""
    ratings = [elo_maths.INITIAL] * n
    total = len(a)
    checkpoints = sorted({round(float(x)) for x in np.linspace(0, total, HISTORY_POINTS + 1)})
    history: list[list[float]] = []
    scores = (1.0, 0.0, 0.5)
    a_list, b_list, o_list = a.tolist(), b.tolist(), outcome.tolist()
    scale = elo_maths.SCALE
    start = 0
    # Between checkpoints, a tight loop of the Elo update written out (this is a chart, so
    # speed matters more than sharing elo.update's call).
    for checkpoint in checkpoints:
        for i in range(start, checkpoint):
            ia, ib = a_list[i], b_list[i]
            ra, rb = ratings[ia], ratings[ib]
            delta = k * (scores[o_list[i]] - 1.0 / (1.0 + 10.0 ** ((rb - ra) / scale)))
            ratings[ia], ratings[ib] = ra + delta, rb - delta
        start = checkpoint
        history.append([round(r, 2) for r in ratings])
    return {"at": checkpoints, "elo": history}


@dataclass
class _Fitted:
    """One scope's snapshot, computed and not yet stored (rows lack their snapshot id)."""

    snapshot: dict[str, Any]
    rows: list[dict[str, Any]]
    models: int


def _fit_scope(
    session: Session,
    scope: Scope,
    votes: pd.DataFrame,
    *,
    rounds: int,
    rng: np.random.Generator,
    min_battles: int,
    seed: int | None,
    k: float,
    now: dt.datetime,
) -> _Fitted:
    """Fit one scope (reads only: the live records ride along into the snapshot rows)."""
    model_ids = np.union1d(votes["a"].to_numpy(), votes["b"].to_numpy())
    index = {int(m): i for i, m in enumerate(model_ids)}
    lookup = np.zeros(int(model_ids.max()) + 1 if len(model_ids) else 1, dtype=np.int64)
    lookup[model_ids] = np.arange(len(model_ids))
    a = lookup[votes["a"].to_numpy()]
    b = lookup[votes["b"].to_numpy()]
    outcome = votes["outcome"].to_numpy()
    n = len(model_ids)
    cells = bt.aggregate(a, b, outcome, n)
    ratings = bt.fit(cells)
    if rounds > 0:
        samples = bt.bootstrap(cells, rounds, rng)
        low, high = bt.intervals(samples)
    else:
        low, high = ratings.copy(), ratings.copy()
    rank_ub = bt.rank_upper_bounds(low, high)
    live = {row["model_pk"]: row for row in live_rows(session, scope.id)}
    plots = {
        "models": [int(m) for m in model_ids],
        "pairs": {
            "a": cells.a.tolist(),
            "b": cells.b.tolist(),
            "wins_a": cells.wins_a.tolist(),
            "wins_b": cells.wins_b.tolist(),
            "ties": cells.ties.tolist(),
        },
        "history": _elo_history(a, b, outcome, n, k),
    }
    snapshot = {
        "scope_id": scope.id,
        "computed_at": now,
        "votes": len(votes),
        "bootstrap_rounds": rounds,
        "seed": seed,
        "min_battles": min_battles,
        "plots": plots,
    }
    rows = []
    for model_pk, i in index.items():
        row = live.get(model_pk)
        battles = cells_battles(cells, i)
        rows.append(
            {
                "model_id": model_pk,
                "rank": row["rank"] if row else len(live) + 1,
                "rank_of": len(live),
                "rank_ub": int(rank_ub[i]),
                "elo": row["elo"] if row else elo_maths.INITIAL,
                "wins": row["wins"] if row else 0,
                "losses": row["losses"] if row else 0,
                "ties": row["ties"] if row else 0,
                "battles": row["battles"] if row else 0,
                "win_rate": row["win_rate"] if row else 0.0,
                "bt_rating": float(ratings[i]),
                "ci_low": float(low[i]),
                "ci_high": float(high[i]),
                "provisional": battles < min_battles,
            }
        )
    return _Fitted(snapshot, rows, n)


def _store(session: Session, fitted: _Fitted) -> int:
    """Insert one fitted snapshot and its rows; returns the snapshot id."""
    snapshot = Snapshot(**fitted.snapshot)
    session.add(snapshot)
    session.flush()
    session.execute(
        insert(SnapshotRow), [{**row, "snapshot_id": snapshot.id} for row in fitted.rows]
    )
    return snapshot.id


def cells_battles(cells: bt.Cells, i: int) -> int:
    """How many battles model index ``i`` has in the aggregated cells."""
    battles = cells.battles
    return int(battles[cells.a == i].sum() + battles[cells.b == i].sum())


def publish_snapshots(
    session: Session,
    *,
    rounds: int = 1000,
    seed: int | None = None,
    min_battles: int = 10,
    k: float = elo_maths.DEFAULT_K,
    progress: Callable[[str], None] | None = None,
) -> list[Published]:
    """Fit and publish one snapshot per scope that has votes, in one transaction.

    Args:
        rounds: bootstrap rounds for the 95% intervals (0: no intervals).
        seed: makes the bootstrap reproducible (each scope gets its own derived stream).
        min_battles: models with fewer battles in a scope are marked provisional.
        k: the Elo K used for the Elo-over-time chart.
        progress: called with each scope key as it is published.

    Returns:
        What was published, per scope.

    Raises:
        ValidationError: a negative number of rounds.
    """
    if rounds < 0:
        raise ValidationError("bootstrap rounds must be 0 or more", field="bootstrap")
    votes = _votes_frame(session)
    scopes = session.scalars(select(Scope).order_by(Scope.id)).all()
    categories = dict(session.execute(select(Competition.id, Competition.category_id)).all())
    votes["category_id"] = votes["competition_id"].map(categories)
    streams = np.random.SeedSequence(seed).spawn(len(scopes))
    now = utcnow()
    published = []
    # One BLAS thread: the batched solves are small, and two threads on a busy two-core
    # machine have been seen to run them many times slower.
    limits = threadpool_limits(1)
    try:
        # Everything is computed first, reading only, and then written in one short
        # transaction: votes (which take the database's write lock on SQLite, and voter rows
        # on PostgreSQL) wait for the writes, never for the fitting.
        fitted: list[tuple[str, _Fitted, float]] = []
        for scope, stream in zip(scopes, streams, strict=True):
            if scope.kind == OVERALL:
                subset = votes
            elif scope.kind == "category":
                subset = votes[votes["category_id"] == scope.category_id]
            else:
                subset = votes[votes["competition_id"] == scope.competition_id]
            if subset.empty:
                continue
            started = time.perf_counter()
            result = _fit_scope(
                session,
                scope,
                subset,
                rounds=rounds,
                rng=np.random.default_rng(stream),
                min_battles=min_battles,
                seed=seed,
                k=k,
                now=now,
            )
            fitted.append((scope.key, result, time.perf_counter() - started))
            if progress is not None:
                progress(scope.key)
        # Voters' anomaly scores follow the same log, so they are refreshed with it.
        scores = integrity.anomaly_scores_of_voters(session)
        session.rollback()  # end the reading transaction; the writes start afresh
        published = [
            Published(key, _store(session, result), result.snapshot["votes"], result.models, s)
            for key, result, s in fitted
        ]
        integrity.store_anomaly_scores(session, scores)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        limits.restore_original_limits()
    return published


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


def chart_data(session: Session, b: Board) -> dict[str, Any] | None:
    """What the charts of a board need, with model names, or None without a snapshot.

    Models are ordered by Bradley-Terry rating (best first); matrices are row vs column.
    """
    if b.snapshot is None or not b.plots:
        return None
    plots = b.plots
    pks = plots["models"]
    names = dict(session.execute(select(Model.id, Model.name).where(Model.id.in_(pks))).all())
    rows = session.scalars(
        select(SnapshotRow).where(SnapshotRow.snapshot_id == b.snapshot.id)
    ).all()
    by_pk = {r.model_id: r for r in rows}
    order = sorted(range(len(pks)), key=lambda i: -by_pk[pks[i]].bt_rating)
    position = {idx: pos for pos, idx in enumerate(order)}
    n = len(pks)
    wins = [[0.0] * n for _ in range(n)]
    battles = [[0] * n for _ in range(n)]
    pairs = plots["pairs"]
    for a, bb, wa, wb, t in zip(
        pairs["a"], pairs["b"], pairs["wins_a"], pairs["wins_b"], pairs["ties"], strict=True
    ):
        i, j = position[a], position[bb]
        total = wa + wb + t
        battles[i][j] = battles[j][i] = total
        wins[i][j] = wa + t / 2
        wins[j][i] = wb + t / 2
    fraction = [
        [wins[i][j] / battles[i][j] if battles[i][j] else None for j in range(n)] for i in range(n)
    ]
    counts = [[battles[i][j] or None for j in range(n)] for i in range(n)]
    ordered_names = [names[pks[i]] for i in order]
    history = plots["history"]
    top = sorted(range(n), key=lambda i: -(history["elo"][-1][i]))[:10]
    return {
        "names": ordered_names,
        "ratings": [by_pk[pks[i]].bt_rating for i in order],
        "low": [by_pk[pks[i]].ci_low for i in order],
        "high": [by_pk[pks[i]].ci_high for i in order],
        "provisional": [by_pk[pks[i]].provisional for i in order],
        "win_fraction": fraction,
        "battle_counts": counts,
        "history_names": [names[pks[i]] for i in top],
        "history_at": history["at"],
        "history_series": [[point[i] for point in history["elo"]] for i in top],
    }
