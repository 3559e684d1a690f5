"""The rating rows of a best-of-four vote: several models' rows locked at once (in the
package's lock order), then the vote's pairwise outcomes applied in the order the log appends
them, so that replaying the log reproduces the rows (``arena verify``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from arena.db import Prepared
from arena.models import Rating, Scope
from arena.ratings import elo
from arena.ratings.outcomes import tally
from arena.services.rating_rows import (
    _LOCK_ORDER,
    _battle_scope_ids,
    _create_missing,
    ratings_t,
)

_ADD_TO_ROW = Prepared(
    update(ratings_t)
    .where(ratings_t.c.scope_id == bindparam("s"), ratings_t.c.model_id == bindparam("m"))
    .values(
        elo=bindparam("elo"),
        wins=ratings_t.c.wins + bindparam("w"),
        losses=ratings_t.c.losses + bindparam("l"),
        ties=ratings_t.c.ties + bindparam("t"),
        battles=ratings_t.c.battles + bindparam("n"),
    )
)

#: One scope's change for a vote on several models: (before, after) of each, in order.
GroupChange = list[tuple[float, float]]


@dataclass(frozen=True)
class GroupRatings:
    """The locked rows of one best-of-four battle: per scope kind, its scope id and the Elo
    of each model, in the battle's order."""

    models: tuple[int, ...]
    scopes: dict[str, tuple[int, list[float]]]  # kind -> (scope id, Elo of each model)

    def expected(self, a: int, b: int) -> float:
        """Model ``a``'s expected score against ``b`` (positions) in the competition's scope,
        before the vote."""
        _, ratings = self.scopes["competition"]
        return elo.expected(ratings[a], ratings[b])

    def unchanged(self) -> dict[str, GroupChange]:
        """Every scope's change for a vote that is kept but not counted: none."""
        return {kind: [(r, r) for r in ratings] for kind, (_, ratings) in self.scopes.items()}


def lock_group(conn: Connection, competition_id: int, models: tuple[int, ...]) -> GroupRatings:
    """Lock and read the rating rows of several models (3 scopes each), in the lock order,
    creating any that are missing.

    Raises:
        ArenaError: the competition's scopes are missing (the seeds were never loaded).
    """
    scope_ids = _battle_scope_ids(conn, competition_id)
    statement = (
        select(Rating.scope_id, Rating.model_id, Rating.elo, Scope.kind)
        .join(Scope, Scope.id == Rating.scope_id)
        .where(Rating.scope_id.in_(scope_ids), Rating.model_id.in_(models))
        .order_by(*_LOCK_ORDER)
        .with_for_update(of=ratings_t)
    )
    rows = conn.execute(statement).all()
    if len(rows) != len(scope_ids) * len(models):
        _create_missing(conn, [(s, m) for s in scope_ids for m in models])
        rows = conn.execute(statement).all()
    current = {(row.scope_id, row.model_id): row for row in rows}
    scopes = {}
    for scope_id in sorted(scope_ids):
        kind = current[(scope_id, models[0])].kind
        scopes[kind] = (scope_id, [current[(scope_id, m)].elo for m in models])
    return GroupRatings(tuple(models), scopes)


def apply_group(
    conn: Connection, locked: GroupRatings, outcomes: list[tuple[int, int, float]], k: float
) -> dict[str, GroupChange]:
    """Apply one counted vote's pairwise outcomes, in order, to the locked rows: each is
    ``(position a, position b, A's score)``, one Elo update as a two-image vote would make
    (so a replay of the log's rows in id order gives the same ratings).

    Returns:
        Each scope kind's change of every model's Elo (before the first outcome, after the
        last), in the battle's order.
    """
    changes: dict[str, GroupChange] = {}
    params: list[dict[str, Any]] = []
    counts = [[0, 0, 0] for _ in locked.models]
    for a, b, score in outcomes:
        for column, n in enumerate(tally(score)):
            counts[a][column] += n
        for column, n in enumerate(tally(1.0 - score)):
            counts[b][column] += n
    for kind, (scope_id, before) in locked.scopes.items():
        after = list(before)
        for a, b, score in outcomes:
            after[a], after[b] = elo.update(after[a], after[b], score, k)
        changes[kind] = list(zip(before, after, strict=True))
        for i, model_id in enumerate(locked.models):
            wins, losses, ties = counts[i]
            if wins + losses + ties:
                params.append(
                    {
                        "s": scope_id,
                        "m": model_id,
                        "elo": after[i],
                        "w": wins,
                        "l": losses,
                        "t": ties,
                        "n": wins + losses + ties,
                    }
                )
    _ADD_TO_ROW.execute(conn, params)
    return changes
