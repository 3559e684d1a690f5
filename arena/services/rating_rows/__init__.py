"""The live rating rows (Elo, wins, losses, ties per scope and model): the one module that
creates, locks and updates them.

A vote moves six rows: its two models in the competition's scope, the category's and
overall. Three writers touch them: a live vote (``lock_battle`` then ``apply_vote``), a vote
import (``apply_outcomes``) and flagging a voter (``rebuild_all``). All of them lock the rows
in one order, ``(scope_id, model_id)``, and before any other row they update (the voter row),
so on PostgreSQL two writers sharing rows wait for each other instead of deadlocking, and a
vote that waits gets a later id in the log. On SQLite, ``Database.write_transaction``
serialises writers outright and the locks are no-ops. Because every writer appends its
votes after locking, replaying the log in id order reproduces the rows (``arena verify``).

The Elo arithmetic is ``arena.ratings.elo``; the outcome encodings are
``arena.ratings.outcomes``. This package only reads, locks and writes rows; a best-of-four
vote's rows (several models, several comparisons) are ``arena.services.rating_rows.groups``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, bindparam, insert, or_, select, text, update
from sqlalchemy.orm import Session

from arena.db import Prepared
from arena.errors import ArenaError
from arena.models import Category, Competition, CompetitionModel, Model, Rating, Scope
from arena.ratings import elo
from arena.ratings.outcomes import tally
from arena.services.scopes import OVERALL, scope_key
from arena.services.verification import replay_log

ratings_t = Rating.__table__

#: The order every writer locks rating rows in.
_LOCK_ORDER = (ratings_t.c.scope_id, ratings_t.c.model_id)

_MISSING_SCOPES = "the competition's rating scopes are missing; run `arena seed`"


# --- creating rows ----------------------------------------------------------------------


def ensure_scopes_and_ratings(session: Session) -> int:
    """Create every missing scope, and a rating row for every (scope, taking-part model).

    A model takes part in a competition's scope when it is entered in the competition, in a
    category's scope when it is entered in any of the category's competitions, and overall
    when it is entered anywhere. Rating rows exist before the first vote so that recording
    a vote is a plain UPDATE of existing rows.

    Returns:
        How many rows (scopes and ratings) were added; the caller commits.
    """
    added = 0
    scopes = {s.key: s for s in session.scalars(select(Scope))}

    def scope(key: str, kind: str, **target: int) -> Scope:
        nonlocal added
        if key not in scopes:
            scopes[key] = Scope(key=key, kind=kind, **target)
            session.add(scopes[key])
            added += 1
        return scopes[key]

    scope(OVERALL, OVERALL)
    for category in session.scalars(select(Category)):
        scope(scope_key("category", category.slug), "category", category_id=category.id)
    wanted: set[tuple[str, int]] = set()
    entries = session.execute(
        select(Competition.slug, Competition.category_id, CompetitionModel.model_id).join(
            CompetitionModel, CompetitionModel.competition_id == Competition.id
        )
    )
    category_slugs = dict(session.execute(select(Category.id, Category.slug)).all())
    competition_ids = dict(session.execute(select(Competition.slug, Competition.id)).all())
    for slug, category_id, model_id in entries:
        scope(scope_key("competition", slug), "competition", competition_id=competition_ids[slug])
        wanted.add((scope_key("competition", slug), model_id))
        wanted.add((scope_key("category", category_slugs[category_id]), model_id))
        wanted.add((OVERALL, model_id))
    for slug, competition_id in competition_ids.items():
        scope(scope_key("competition", slug), "competition", competition_id=competition_id)
    session.flush()
    existing = {
        (key, model_id)
        for key, model_id in session.execute(
            select(Scope.key, Rating.model_id).join(Rating, Rating.scope_id == Scope.id)
        )
    }
    for key, model_id in sorted(wanted - existing):
        session.add(Rating(scope_id=scopes[key].id, model_id=model_id))
        added += 1
    session.flush()
    return added


# --- one battle (the vote path: prepared statements, few round trips) ---------------------

_LOCK_BATTLE = Prepared(
    select(Rating.scope_id, Rating.model_id, Rating.elo, Scope.kind)
    .join(Scope, Scope.id == Rating.scope_id)
    .where(
        Rating.model_id.in_([bindparam("a"), bindparam("b")]),
        or_(
            Scope.kind == "overall",
            Scope.competition_id == bindparam("c"),
            Scope.category_id
            == select(Competition.category_id)
            .where(Competition.id == bindparam("c"))
            .scalar_subquery(),
        ),
    )
    .order_by(*_LOCK_ORDER)
    .with_for_update(of=ratings_t)
)

# All six rows in one statement (VALUES columns are column1..6 on both databases).
_ROWS = ", ".join(f"(:s{i}, :m{i}, :e{i}, :w{i}, :l{i}, :t{i})" for i in range(6))
_UPDATE_BATTLE = Prepared(
    text(
        "UPDATE ratings SET elo = v.column3, wins = ratings.wins + v.column4,"
        " losses = ratings.losses + v.column5, ties = ratings.ties + v.column6,"
        " battles = ratings.battles + 1"
        f" FROM (VALUES {_ROWS}) AS v"
        " WHERE ratings.scope_id = v.column1 AND ratings.model_id = v.column2"
    )
)

#: The parameter names of each of the six rows, in VALUES column order.
_KEYS = [tuple(f"{column}{i}" for column in "smewlt") for i in range(6)]

#: One scope's change for one vote: ((A before, A after), (B before, B after)).
Change = tuple[tuple[float, float], tuple[float, float]]


@dataclass(frozen=True)
class BattleRatings:
    """The six locked rows of one battle: per scope kind, its scope id and both Elos."""

    models: tuple[int, int]
    scopes: dict[str, tuple[int, float, float]]  # kind -> (scope id, Elo of A, Elo of B)

    def expected_a(self) -> float:
        """A's expected score against B in the competition's scope, before the vote."""
        _, a, b = self.scopes["competition"]
        return elo.expected(a, b)

    def unchanged(self) -> dict[str, Change]:
        """Every scope's change for a vote that is kept but not counted: none."""
        return {kind: ((a, a), (b, b)) for kind, (_, a, b) in self.scopes.items()}


def lock_battle(conn: Connection, competition_id: int, models: tuple[int, int]) -> BattleRatings:
    """Lock and read the six rating rows of a battle, creating any that are missing.

    Raises:
        ArenaError: the competition's scopes are missing (the seeds were never loaded).
    """
    params = {"a": models[0], "b": models[1], "c": competition_id}
    rows = _LOCK_BATTLE.execute(conn, params)
    if len(rows) != 6:
        # Models entered after the last `arena seed` have no rows yet.
        scope_ids = _battle_scope_ids(conn, competition_id)
        _create_missing(conn, [(s, m) for s in scope_ids for m in models])
        rows = _LOCK_BATTLE.execute(conn, params)
    current = {(scope_id, model_id): (rating, kind) for scope_id, model_id, rating, kind in rows}
    scopes = {}
    for scope_id in sorted({row[0] for row in rows}):
        a, kind = current[(scope_id, models[0])]
        scopes[kind] = (scope_id, a, current[(scope_id, models[1])][0])
    return BattleRatings(models, scopes)


def apply_vote(
    conn: Connection, locked: BattleRatings, score: float, k: float
) -> dict[str, Change]:
    """Apply one counted vote (A scored ``score``) to the locked rows of its battle.

    Returns:
        Each scope kind's change of both Elos.
    """
    win, loss, tie = tally(score)
    model_a, model_b = locked.models
    changes: dict[str, Change] = {}
    params: dict[str, Any] = {}
    for i, (kind, (scope_id, a_before, b_before)) in enumerate(locked.scopes.items()):
        a_after, b_after = elo.update(a_before, b_before, score, k)
        changes[kind] = ((a_before, a_after), (b_before, b_after))
        params.update(zip(_KEYS[2 * i], (scope_id, model_a, a_after, win, loss, tie), strict=True))
        params.update(
            zip(_KEYS[2 * i + 1], (scope_id, model_b, b_after, loss, win, tie), strict=True)
        )
    _UPDATE_BATTLE.execute(conn, params)
    return changes


def _battle_scope_ids(conn: Connection, competition_id: int) -> list[int]:
    category_id = conn.execute(
        select(Competition.category_id).where(Competition.id == competition_id)
    ).scalar_one()
    scope_ids = (
        conn.execute(
            select(Scope.id).where(
                or_(
                    Scope.kind == "overall",
                    Scope.competition_id == competition_id,
                    Scope.category_id == category_id,
                )
            )
        )
        .scalars()
        .all()
    )
    if len(scope_ids) != 3:
        raise ArenaError(_MISSING_SCOPES)
    return list(scope_ids)


def _create_missing(conn: Connection, wanted: list[tuple[int, int]]) -> None:
    """Insert a fresh row (initial Elo, empty record) for every missing (scope, model)."""
    scope_ids = sorted({s for s, _ in wanted})
    models = sorted({m for _, m in wanted})
    existing = set(
        conn.execute(
            select(Rating.scope_id, Rating.model_id).where(
                Rating.scope_id.in_(scope_ids), Rating.model_id.in_(models)
            )
        ).all()
    )
    missing = [
        {"scope_id": s, "model_id": m, "elo": elo.INITIAL, "wins": 0, "losses": 0, "ties": 0}
        for s, m in sorted(set(wanted) - existing)
    ]
    if missing:
        conn.execute(insert(ratings_t).values(battles=0), missing)


# --- many votes at once (import) ----------------------------------------------------------

_SET_ROW = (
    update(ratings_t)
    .where(ratings_t.c.scope_id == bindparam("s"), ratings_t.c.model_id == bindparam("m"))
    .values(
        elo=bindparam("elo"),
        wins=bindparam("wins"),
        losses=bindparam("losses"),
        ties=bindparam("ties"),
        battles=bindparam("battles"),
    )
)


@dataclass(frozen=True)
class Outcomes:
    """Votes to apply in order, as parallel ``(v,)`` arrays: competition, model A and model B
    ids (int), and A's score (float: 1, 0.5 or 0)."""

    competition_ids: np.ndarray
    model_a: np.ndarray
    model_b: np.ndarray
    scores: np.ndarray


def apply_outcomes(conn: Connection, outcomes: Outcomes, k: float) -> None:
    """Apply votes in order to every scope's rows, as live votes would have been.

    Locks the rows the votes touch (in the lock order, creating missing ones), replays the
    Elo of each scope from the stored values and writes each changed row once. The caller
    appends the votes afterwards, in the same transaction.

    Raises:
        ArenaError: a competition's scopes are missing (the seeds were never loaded).
    """
    competition_ids = [int(c) for c in np.unique(outcomes.competition_ids)]
    targets = _scope_ids(conn, competition_ids)
    scopes = sorted({scope for pair in targets.values() for scope in pair})
    models = np.unique(np.concatenate([outcomes.model_a, outcomes.model_b]))
    replay = _Replay(scopes, models, _lock_rows(conn, scopes, models))
    slots = replay.slots(outcomes, targets)
    missing = replay.missing(slots)
    if missing:
        # Models entered after the last `arena seed` have no rows yet: create the ones the
        # votes need, then lock and read again.
        _create_missing(conn, missing)
        replay = _Replay(scopes, models, _lock_rows(conn, scopes, models))
    replay.run(slots, outcomes.scores, k)
    params = replay.changed_rows()
    if params:
        conn.execute(_SET_ROW, params)


class _Replay:
    """Rows in flat lists indexed by slot = scope index × models + model index, so the replay
    loop touches only Python ints and floats."""

    def __init__(self, scopes: list[int], models: np.ndarray, rows: list[Any]) -> None:
        self.scopes = scopes
        self.models = models
        size = len(scopes) * len(models)
        self.elo = [elo.INITIAL] * size
        self.stored = np.zeros((size, 3), dtype=np.int64)  # wins, losses, ties
        self.added = np.zeros((size, 3), dtype=np.int64)
        self.present = np.zeros(size, dtype=bool)
        self.scope_index = {scope_id: i for i, scope_id in enumerate(scopes)}
        model_index = {int(model_id): i for i, model_id in enumerate(models)}
        for scope_id, model_id, rating, wins, losses, ties in rows:
            slot = self.scope_index[scope_id] * len(models) + model_index[model_id]
            self.elo[slot] = rating
            self.stored[slot] = (wins, losses, ties)
            self.present[slot] = True

    def slots(
        self, outcomes: Outcomes, targets: dict[int | None, tuple[int, int]]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Slots of A and B per vote in each scope kind: competition, category, overall."""
        m = len(self.models)
        a = np.searchsorted(self.models, outcomes.model_a)
        b = np.searchsorted(self.models, outcomes.model_b)
        competitions, codes = np.unique(outcomes.competition_ids, return_inverse=True)
        slots = []
        for kind in (0, 1):  # the competition's scope, then its category's
            index = np.array([self.scope_index[targets[int(c)][kind]] for c in competitions])
            scope = index[codes] * m
            slots.append((scope + a, scope + b))
        overall = self.scope_index[targets[None][0]] * m
        slots.append((overall + a, overall + b))
        return slots

    def missing(self, slots: list[tuple[np.ndarray, np.ndarray]]) -> list[tuple[int, int]]:
        """The (scope, model) of every slot the votes use that has no row."""
        m = len(self.models)
        used = np.unique(np.concatenate([np.concatenate(pair) for pair in slots]))
        return [
            (self.scopes[slot // m], int(self.models[slot % m]))
            for slot in used[~self.present[used]].tolist()
        ]

    def run(self, slots: list[tuple[np.ndarray, np.ndarray]], scores: np.ndarray, k: float) -> None:
        """Replay the votes (their ``slots`` and A's ``scores``) in order."""
        score_list = scores.tolist()
        ratings, step, k = self.elo, elo.update, float(k)
        size = len(ratings)
        for a_slots, b_slots in slots:
            # Scopes are independent: replaying them one after another equals interleaving.
            for a, b, score in zip(a_slots.tolist(), b_slots.tolist(), score_list, strict=True):
                ratings[a], ratings[b] = step(ratings[a], ratings[b], score, k)
            for column, (a_score, b_score) in enumerate(((1.0, 0.0), (0.0, 1.0), (0.5, 0.5))):
                self.added[:, column] += np.bincount(
                    a_slots[scores == a_score], minlength=size
                ) + np.bincount(b_slots[scores == b_score], minlength=size)

    def changed_rows(self) -> list[dict[str, Any]]:
        m = len(self.models)
        totals = self.stored + self.added
        return [
            {
                "s": self.scopes[slot // m],
                "m": int(self.models[slot % m]),
                "elo": self.elo[slot],
                "wins": int(totals[slot, 0]),
                "losses": int(totals[slot, 1]),
                "ties": int(totals[slot, 2]),
                "battles": int(totals[slot].sum()),
            }
            for slot in np.flatnonzero(self.added.sum(axis=1))
        ]


def _scope_ids(conn: Connection, competition_ids: list[int]) -> dict[int | None, tuple[int, int]]:
    """competition id -> (its scope, its category's scope); None -> (overall, overall).

    Raises:
        ArenaError: a scope is missing (the seeds were never loaded).
    """
    categories = dict(
        conn.execute(
            select(Competition.id, Competition.category_id).where(
                Competition.id.in_(competition_ids)
            )
        ).all()
    )
    rows = conn.execute(
        select(Scope.id, Scope.kind, Scope.competition_id, Scope.category_id).where(
            or_(
                Scope.kind == "overall",
                Scope.competition_id.in_(competition_ids),
                Scope.category_id.in_(set(categories.values())),
            )
        )
    ).all()
    by_competition = {r.competition_id: r.id for r in rows if r.kind == "competition"}
    by_category = {r.category_id: r.id for r in rows if r.kind == "category"}
    overall = next((r.id for r in rows if r.kind == "overall"), None)
    targets: dict[int | None, tuple[int, int]] = {}
    for cid in competition_ids:
        if cid not in by_competition or categories[cid] not in by_category or overall is None:
            raise ArenaError(_MISSING_SCOPES)
        targets[cid] = (by_competition[cid], by_category[categories[cid]])
    targets[None] = (overall, overall)
    return targets


def _lock_rows(conn: Connection, scopes: list[int], models: np.ndarray) -> list[Any]:
    """Lock and read the rows of these scopes and models, in the lock order."""
    return conn.execute(
        select(
            ratings_t.c.scope_id,
            ratings_t.c.model_id,
            ratings_t.c.elo,
            ratings_t.c.wins,
            ratings_t.c.losses,
            ratings_t.c.ties,
        )
        .where(
            ratings_t.c.scope_id.in_(scopes),
            ratings_t.c.model_id.in_([int(m) for m in models]),
        )
        .order_by(*_LOCK_ORDER)
        .with_for_update()
    ).all()


# --- every row at once (flagging a voter) ------------------------------------------------


def rebuild_all(conn: Connection, k: float, change: Callable[[], None]) -> int:
    """Lock every rating row, run ``change``, then rewrite every row from the counted log.

    ``change`` alters which votes count (it flags or clears a voter). With every rating row
    locked first, a vote in flight has either committed before the replay reads the log (and
    is replayed under the new rule) or waits and then reads the new state. Runs inside the
    caller's write transaction.

    Returns:
        The number of votes replayed.
    """
    locked = conn.execute(
        select(Rating.scope_id, Rating.model_id, Scope.key, Model.slug)
        .join(Scope, Scope.id == Rating.scope_id)
        .join(Model, Model.id == Rating.model_id)
        .order_by(*_LOCK_ORDER)
        .with_for_update(of=ratings_t)
    ).all()
    change()
    with Session(bind=conn) as session:
        replay, count = replay_log(session, k)
    empty = elo.Record()
    values = []
    for scope_id, model_id, key, slug in locked:
        record = replay.records.get((key, slug), empty)
        values.append(
            {
                "s": scope_id,
                "m": model_id,
                "elo": record.elo,
                "wins": record.wins,
                "losses": record.losses,
                "ties": record.ties,
                "battles": record.battles,
            }
        )
    if values:
        conn.execute(_SET_ROW.execution_options(synchronize_session=False), values)
    return count
