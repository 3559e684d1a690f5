"""Publishing leaderboard snapshots from the admin (what ``arena recompute`` does)."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from arena.models import Scope, Snapshot
from arena.services.admin import forms as f
from arena.services.leaderboards.publishing import Published, publish_snapshots
from arena.services.leaderboards.weights import WeightRules

DEFAULT_ROUNDS = 1000
MAX_ROUNDS = 10_000


@dataclass(frozen=True)
class PublishResult:
    """What one publication did."""

    published: list[Published]
    rounds: int
    votes: int
    seconds: float


def publish(
    session: Session,
    form: f.Form,
    *,
    min_battles: int,
    k: float,
    rules: WeightRules | None = None,
) -> PublishResult:
    """Fit and publish a snapshot for every scope with votes (one transaction).

    Args:
        form: ``bootstrap`` rounds (0–10,000, default 1,000) and an optional ``seed``.
        min_battles: models with fewer battles are marked provisional.
        k: the Elo K of the Elo-over-time chart.
        rules: probation, caps and automatic flags of the published fit.

    Returns:
        The scopes published, the votes counted (flagged voters left out) and the time taken.

    Raises:
        ValidationError: rounds or seed malformed or out of range (named in ``field``).
    """
    rounds = f.integer(form, "bootstrap", minimum=0, maximum=MAX_ROUNDS, default=DEFAULT_ROUNDS)
    seed = None
    if (form.get("seed") or "").strip():
        seed = f.integer(form, "seed", minimum=0, maximum=2**32 - 1)
    started = time.perf_counter()
    published = publish_snapshots(
        session, rounds=rounds, seed=seed, min_battles=min_battles, k=k, rules=rules
    )
    return PublishResult(
        published=published,
        rounds=rounds,
        votes=max((p.votes for p in published), default=0),
        seconds=time.perf_counter() - started,
    )


@dataclass(frozen=True)
class SnapshotLine:
    """One published snapshot in the history list."""

    id: int
    scope: str
    computed_at: dt.datetime
    votes: int
    bootstrap_rounds: int


def recent(session: Session, limit: int = 30) -> list[SnapshotLine]:
    """The latest snapshots, newest first."""
    rows = session.execute(
        select(
            Snapshot.id, Scope.key, Snapshot.computed_at, Snapshot.votes, Snapshot.bootstrap_rounds
        )
        .join(Scope, Scope.id == Snapshot.scope_id)
        .order_by(Snapshot.id.desc())
        .limit(limit)
    ).all()
    return [SnapshotLine(*row) for row in rows]
