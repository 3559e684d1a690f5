"""Publishing snapshots (``arena recompute``): fit every scope's vote log, store the results.

A snapshot holds a scope's Bradley-Terry ratings with bootstrap intervals, the online Elo and
records of that moment, the data its charts need (battles per pair, Elo over the log) and its
influence audit (``audit``). Every publication also runs the rigging detectors
(``arena.services.detection``), flags the voters they are sure of (when the rules say so; one
rebuild of the live Elo for all of them) and leaves those voters out of its fit. Which votes
enter the fit beyond the counting rule is ``weights`` (probation and caps).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import case, delete, func, insert, select
from sqlalchemy.orm import Session
from threadpoolctl import threadpool_limits

from arena.db import Prepared
from arena.errors import ValidationError
from arena.models import Competition, Scope, Snapshot, SnapshotRow, Vote, utcnow
from arena.models.ratings import Finding
from arena.ratings import elo as elo_maths
from arena.ratings import published
from arena.ratings.ranks import competition_ranks
from arena.services import detection, integrity
from arena.services.counting import counted_votes
from arena.services.leaderboards import audit, weights
from arena.services.leaderboards.boards import live_rows
from arena.services.scopes import OVERALL

#: Points kept per model for the Elo-over-time chart.
HISTORY_POINTS = 60


@dataclass(frozen=True)
class Published:
    """One published snapshot: its scope key, id, votes, models and fitting seconds."""

    scope: str
    snapshot_id: int
    votes: int
    models: int
    seconds: float


def _votes_frame(session: Session) -> pd.DataFrame:
    """Every counted vote (see arena.services.counting) in log order, as small integers.

    Columns: ``id``, ``competition_id``, ``a``, ``b``, ``outcome`` (0 model_a won, 1 model_b
    won, 2 tie), ``voter_id`` (0: none), ``ballot`` (the vote as cast: its battle, or minus
    its own id without one; a best-of-four vote's rows share it). The outcome is mapped in
    SQL and rows are fetched as plain tuples straight into one integer array: a million votes
    load in about a second.
    """
    outcome = case((Vote.winner == "model_a", 0), (Vote.winner == "model_b", 1), else_=2)
    statement = (
        select(
            Vote.id,
            Vote.competition_id,
            Vote.model_a_id,
            Vote.model_b_id,
            outcome,
            func.coalesce(Vote.voter_id, 0),
            func.coalesce(Vote.battle_id, -Vote.id),
        )
        .where(counted_votes())
        .order_by(Vote.id)
    )
    rows = Prepared(statement).execute(session.connection(), {})
    data = np.array(rows, dtype=np.int64).reshape(-1, 7)
    return pd.DataFrame(
        {
            "id": data[:, 0],
            "competition_id": data[:, 1],
            "a": data[:, 2],
            "b": data[:, 3],
            "outcome": data[:, 4].astype(np.int8),
            "voter_id": data[:, 5],
            "ballot": data[:, 6],
        }
    )


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
    ties: str,
    now: dt.datetime,
    addresses: list[str],
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
    # A best-of-four vote's comparisons are resampled together, as the one vote they are.
    fit = published.publish(
        a, b, outcome, n, rounds=rounds, rng=rng, ties=ties, vote=votes["ballot"].to_numpy()
    )
    audited = audit.audit_scope(votes.assign(ai=a, bi=b), model_ids, fit, ties, addresses)
    ranks = competition_ranks(fit.ratings)
    cells = fit.cells
    at, elo_at = elo_maths.history(a, b, outcome, n, points=HISTORY_POINTS, k=k)
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
        "history": {
            "at": at.tolist(),
            "elo": [[round(r, 2) for r in point] for point in elo_at.tolist()],
        },
    }
    snapshot = {
        "scope_id": scope.id,
        "computed_at": now,
        "votes": len(votes),
        "bootstrap_rounds": rounds,
        "seed": seed,
        "min_battles": min_battles,
        "plots": plots,
        "ties_model": ties,
        "tie_rate": fit.tie_rate,
        "last_vote_id": int(votes["id"].max()),
        "audit": audited,
    }
    rows = []
    for model_pk, i in index.items():
        row = live.get(model_pk)
        rows.append(
            {
                "model_id": model_pk,
                "rank": int(ranks[i]),
                "rank_of": n,
                "rank_ub": int(fit.rank_ub[i]),
                "elo": row["elo"] if row else elo_maths.INITIAL,
                "wins": row["wins"] if row else 0,
                "losses": row["losses"] if row else 0,
                "ties": row["ties"] if row else 0,
                "battles": row["battles"] if row else 0,
                "win_rate": row["win_rate"] if row else 0.0,
                "bt_rating": float(fit.ratings[i]),
                "ci_low": float(fit.low[i]),
                "ci_high": float(fit.high[i]),
                "provisional": bool(fit.battles[i] < min_battles),
                "tie_rate": float(fit.tie_share[i]),
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


def publish_snapshots(
    session: Session,
    *,
    rounds: int = 1000,
    seed: int | None = None,
    min_battles: int = 10,
    k: float = elo_maths.DEFAULT_K,
    ties: str = published.DECISIVE,
    progress: Callable[[str], None] | None = None,
    rules: weights.WeightRules | None = None,
) -> list[Published]:
    """Fit and publish one snapshot per scope that has votes, in one transaction.

    The rigging detectors run first; with ``rules.autoflag`` the voters they are sure of are
    flagged in the same transaction (one rebuild of the live Elo) and left out of the fit.
    Each scope's fit then takes the counted votes within ``rules`` (probation, caps: see
    ``arena.services.leaderboards.weights``); ``Snapshot.votes`` stays the counted votes, and
    the audit records how many were fitted and why the others were not.

    Args:
        rounds: bootstrap rounds for the 95% intervals (0: no intervals).
        seed: makes the bootstrap reproducible (each scope gets its own derived stream).
        min_battles: models with fewer battles in a scope are marked provisional.
        k: the Elo K used for the Elo-over-time chart.
        ties: the tie model (``arena.ratings.published``): ``decisive`` (published by
            default), ``davidson``, or ``half`` (a tie is half a win, FastChat's fit, for
            comparison with public boards).
        progress: called with each scope key as it is published.
        rules: probation, caps and automatic flags (None: ``weights.UNBOUNDED``, every
            counted vote fitted and nobody flagged; callers pass
            ``WeightRules.from_config``).

    Returns:
        What was published, per scope.

    Raises:
        ValidationError: a negative number of rounds, an unknown ``ties``.
    """
    if rounds < 0:
        raise ValidationError("bootstrap rounds must be 0 or more", field="bootstrap")
    if ties not in published.TIE_MODELS:
        raise ValidationError(
            f"ties must be one of {', '.join(published.TIE_MODELS)}, got {ties!r}", field="ties"
        )
    rules = rules or weights.UNBOUNDED
    now = utcnow()
    votes = _votes_frame(session)
    findings = detection.detect(session, now=now)
    to_flag: dict[int, str] = {}
    if rules.autoflag:
        for finding in findings:
            if finding.flag and finding.voter_id is not None:
                to_flag.setdefault(finding.voter_id, f"{finding.detector}: {finding.reason}")
        votes = votes[~votes["voter_id"].isin(list(to_flag))]
    probation = np.zeros(len(votes), dtype=bool)
    if rules.probation:
        probation = weights.on_probation(votes, weights.voters_past_probation(session, rules, now))
    codes, addresses = weights.voter_addresses(session)
    votes["address"] = votes["voter_id"].map(codes).fillna(-1).astype(np.int64)
    scopes = session.scalars(select(Scope).order_by(Scope.id)).all()
    categories = dict(session.execute(select(Competition.id, Competition.category_id)).all())
    votes["category_id"] = votes["competition_id"].map(categories)
    streams = np.random.SeedSequence(seed).spawn(len(scopes))
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
                where = np.ones(len(votes), dtype=bool)
            elif scope.kind == "category":
                where = (votes["category_id"] == scope.category_id).to_numpy()
            else:
                where = (votes["competition_id"] == scope.competition_id).to_numpy()
            admitted = votes[where & ~probation]
            within = weights.within_caps(admitted, rules)
            subset = admitted[within]
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
                ties=ties,
                now=now,
                addresses=addresses,
            )
            # What the counting rule counts, as the background publisher compares it.
            result.snapshot["votes"] = int(where.sum())
            result.snapshot["last_vote_id"] = int(votes["id"].to_numpy()[where].max())
            result.snapshot["audit"]["weights"] = {
                "counted": int(where.sum()),
                "fitted": len(subset),
                "probation": int((where & probation).sum()),
                "capped": int((~within).sum()),
                "voter_cap": rules.voter_cap,
                "address_cap": rules.address_cap,
            }
            fitted.append((scope.key, result, time.perf_counter() - started))
            if progress is not None:
                progress(scope.key)
        # Voters' anomaly scores follow the same log, so they are refreshed with it.
        scores = integrity.anomaly_scores_of_voters(session)
        session.rollback()  # end the reading transaction; the writes start afresh
        done = [
            Published(key, _store(session, result), result.snapshot["votes"], result.models, s)
            for key, result, s in fitted
        ]
        # Rating rows before voter rows, as a vote locks them.
        integrity.flag_voters(session.connection(), to_flag, k=k)
        integrity.store_anomaly_scores(session, scores)
        session.execute(delete(Finding))
        if findings:
            rows = [{**f.row(now), "flagged": f.flag and rules.autoflag} for f in findings]
            session.execute(insert(Finding), rows)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        limits.restore_original_limits()
    return done
