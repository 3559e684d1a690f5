"""Matchmaking: which competition, prompt and models a voter is shown next.

The choice itself is ``arena.ratings.matchmaking`` (pure numpy: the ``active`` rule by
default, ``least-met`` and ``uniform`` for comparison, set by ``ARENA_MATCHMAKING``); this
module feeds it from the database and turns its answer into outputs:

- **What may be shown**: every finished, visible output of a model entered in the
  competition (:func:`playable`), as a models x prompts table, less the outputs already
  revealed to the voter (in a battle they voted on). When no two models share a prompt with
  unrevealed outputs, the pair and prompt whose outputs were revealed least recently are
  shown (then the least met).
- **What the policy knows** (:class:`arena.ratings.matchmaking.Standing`): the ratings of the
  competition's last published snapshot (the background publisher refits them every
  ``ARENA_PUBLISH_AFTER_VOTES`` votes; a model not yet published sits at the anchor), moved
  on by the counted votes since that snapshot (at most the last ``MAX_REPLAY``; one online
  Bayesian step each, ``Standing.with_outcomes``), and how often each pair has been compared,
  counted when a vote is counted (``matchups``, written by the vote path:
  :func:`count_comparisons`), not when a battle is issued, so abandoned battles do not skew
  it.
- **Cheap state.** A process reads the table of outputs, the ratings and the counts once per
  ``ARENA_MATCHMAKING_TTL`` seconds (2 s) per competition and keeps them in ``db.cache``; the
  battles it issues in between are counted into its copy as if voted, so a burst of battles
  spreads over pairs instead of piling onto the one the last read favoured. A change to the
  catalogue (an output hidden, a model entered, a competition closed) therefore reaches
  matchmaking within that time in every process (at once in the process that made it: see
  :func:`forget`); a battle on an output hidden meanwhile takes no vote (the vote path
  checks). Per battle, the database is asked only for the voter's revealed outputs.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import Connection, Select, and_, bindparam, func, select

from arena.db import Database, Prepared, storable
from arena.errors import Conflict, NotFound, quoted
from arena.models import (
    Battle,
    BattleEntry,
    Competition,
    CompetitionModel,
    Matchup,
    Output,
    Prompt,
    Rating,
    Scope,
    Snapshot,
    SnapshotRow,
    Vote,
)
from arena.ratings import bradley_terry as bt
from arena.ratings import matchmaking as policy
from arena.ratings.elo import SCORE_A
from arena.services.counting import counted_votes

#: Seconds a process reuses what it read for a competition's matchmaking.
DEFAULT_TTL = 2.0
#: Most counted votes since the last snapshot a read replays into the ratings (the latest).
MAX_REPLAY = 1000


@dataclass(frozen=True)
class MatchmakingSettings:
    """The policy (``ARENA_MATCHMAKING``: ``active``, ``least-met`` or ``uniform``) and how
    long a process reuses its reads (``ARENA_MATCHMAKING_TTL`` seconds; 0 under ``TESTING``
    unless set, so a test sees its own changes at once)."""

    policy: str = "active"
    ttl: float = DEFAULT_TTL

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MatchmakingSettings:
        """The settings from the app's config (``MATCHMAKING``, ``MATCHMAKING_TTL``)."""
        return cls(config.get("MATCHMAKING", "active"), config.get("MATCHMAKING_TTL", DEFAULT_TTL))


#: Reads afresh at every battle (the default of the service functions; the app passes its own).
FRESH = MatchmakingSettings(ttl=0.0)


class Pair(NamedTuple):
    """A battle's prompt and its two sides (left first): output and model of each."""

    prompt_id: int
    left_output: int
    left_model: int
    right_output: int
    right_model: int


def playable(*columns: Any) -> Select[Any]:
    """``columns`` of every output matchmaking may show: done, visible, of a model entered in
    its prompt's competition (joined with ``Prompt``; callers add their own filters)."""
    return (
        select(*columns)
        .select_from(Output)
        .join(Prompt, Prompt.id == Output.prompt_id)
        .join(
            CompetitionModel,
            and_(
                CompetitionModel.competition_id == Prompt.competition_id,
                CompetitionModel.model_id == Output.model_id,
            ),
        )
        .where(Output.status == "done", Output.hidden.is_(False))
    )


@dataclass
class _Field:
    """One competition as matchmaking reads it: ``output[m, p]`` is the output id of model
    ``model_ids[m]`` for prompt ``prompt_ids[p]`` (0: none), ``prompts[p]`` that prompt's text,
    width and height; the policy's standing; when it was read."""

    model_ids: np.ndarray
    prompt_ids: np.ndarray
    output: np.ndarray
    prompts: list[tuple[str, int, int]]
    standing: policy.Standing
    read_at: float
    lock: threading.Lock = field(default_factory=threading.Lock)


_OUTPUTS = Prepared(
    playable(Output.id, Output.prompt_id, Output.model_id).where(
        Prompt.competition_id == bindparam("c")
    )
)
_LATEST_SNAPSHOT = (
    select(func.max(Snapshot.id))
    .join(Scope, Scope.id == Snapshot.scope_id)
    .where(Scope.kind == "competition", Scope.competition_id == bindparam("c"))
    .scalar_subquery()
)
_RATINGS = Prepared(
    select(SnapshotRow.model_id, SnapshotRow.bt_rating).where(
        SnapshotRow.snapshot_id == _LATEST_SNAPSHOT
    )
)
_SINCE = Prepared(
    # The competition's counted votes after its last snapshot, newest first (then reversed).
    select(Vote.model_a_id, Vote.model_b_id, Vote.winner)
    .where(
        Vote.competition_id == bindparam("c"),
        Vote.id
        > func.coalesce(
            select(Snapshot.last_vote_id).where(Snapshot.id == _LATEST_SNAPSHOT).scalar_subquery(),
            0,
        ),
        counted_votes(),
    )
    .order_by(Vote.id.desc())
    .limit(MAX_REPLAY)
)
_MET = Prepared(
    select(Matchup.model_lo_id, Matchup.model_hi_id, Matchup.battles).where(
        Matchup.competition_id == bindparam("c")
    )
)
_PROMPTS = Prepared(
    select(Prompt.id, Prompt.text, Prompt.width, Prompt.height).where(
        Prompt.competition_id == bindparam("c")
    )
)
_REVEALED = Prepared(
    # The voter's own battles only (the index on battles.voter_id); a best-of-four battle's
    # third and fourth images come from its entries (none for a two-image battle).
    select(Battle.id, Battle.left_output_id, Battle.right_output_id, BattleEntry.output_id)
    .outerjoin(BattleEntry, BattleEntry.battle_id == Battle.id)
    .where(
        Battle.voter_id == bindparam("v"),
        Battle.competition_id == bindparam("c"),
        Battle.voted_at.is_not(None),
    )
)


def _read_field(conn: Connection, competition_id: int) -> _Field:
    rows = np.array(_OUTPUTS.execute(conn, {"c": competition_id}), dtype=np.int64).reshape(-1, 3)
    model_ids = np.unique(rows[:, 2])
    prompt_ids = np.unique(rows[:, 1])
    output = np.zeros((len(model_ids), len(prompt_ids)), dtype=np.int64)
    output[np.searchsorted(model_ids, rows[:, 2]), np.searchsorted(prompt_ids, rows[:, 1])] = rows[
        :, 0
    ]
    n = len(model_ids)
    ratings = np.full(n, bt.ANCHOR)
    for model_id, rating in _RATINGS.execute(conn, {"c": competition_id}):
        at = np.searchsorted(model_ids, model_id)
        if at < n and model_ids[at] == model_id and rating is not None:
            ratings[at] = rating
    met = np.zeros((n, n), dtype=np.int64)
    for lo, hi, battles in _MET.execute(conn, {"c": competition_id}):
        i, j = np.searchsorted(model_ids, (lo, hi))
        if i < n and j < n and model_ids[i] == lo and model_ids[j] == hi:
            met[i, j] = met[j, i] = battles
    texts = {row[0]: tuple(row[1:]) for row in _PROMPTS.execute(conn, {"c": competition_id})}
    prompts = [texts[int(p)] for p in prompt_ids]
    return _Field(
        model_ids,
        prompt_ids,
        output,
        prompts,
        _standing(conn, competition_id, model_ids, ratings, met),
        time.monotonic(),
    )


def _standing(
    conn: Connection,
    competition_id: int,
    model_ids: np.ndarray,
    ratings: np.ndarray,
    met: np.ndarray,
) -> policy.Standing:
    """The published ratings moved on by the counted votes since their snapshot (``met``
    already counts those votes: they are taken out, then learnt from in order)."""
    n = len(model_ids)
    since = _SINCE.execute(conn, {"c": competition_id})[::-1] if n >= 2 else []
    if not since:
        return policy.Standing(ratings, met)
    a_ids = np.array([row[0] for row in since], dtype=np.int64)
    b_ids = np.array([row[1] for row in since], dtype=np.int64)
    a = np.clip(np.searchsorted(model_ids, a_ids), 0, n - 1)
    b = np.clip(np.searchsorted(model_ids, b_ids), 0, n - 1)
    known = (model_ids[a] == a_ids) & (model_ids[b] == b_ids)
    scores = np.array([SCORE_A.get(row[2], 0.5) for row in since], dtype=np.float64)
    a, b, scores = a[known], b[known], scores[known]
    before = met.copy()
    np.subtract.at(before, (a, b), 1)
    np.subtract.at(before, (b, a), 1)
    before = np.maximum(before, 0)
    standing = policy.Standing(ratings, before).with_ratings(ratings)
    return standing.with_outcomes(a, b, scores) if len(a) else standing


def _field(conn: Connection, db: Database, competition_id: int, ttl: float) -> _Field:
    """The competition's field, read again once older than ``ttl`` seconds."""
    key = f"matchmaking:{competition_id}"
    cached = db.cache.get(key)
    if cached is None or time.monotonic() - cached.read_at >= ttl:
        cached = _read_field(conn, competition_id)
        db.cache[key] = cached
    return cached


def forget(db: Database, competition_id: int | None = None) -> None:
    """Drop this process's matchmaking reads (of one competition, or all), e.g. after an
    output is hidden, so its next battle reads the catalogue again."""
    for key in [k for k in db.cache if k.startswith("matchmaking:")]:
        if competition_id is None or key == f"matchmaking:{competition_id}":
            db.cache.pop(key, None)


class _Competitions(NamedTuple):
    """Every competition by slug, the open ones with outputs ready, their battles so far."""

    by_slug: dict[str, Any]
    ready: list[Any]
    battles: dict[int, int]
    read_at: float


def _competitions(conn: Connection, db: Database, ttl: float) -> _Competitions:
    cached = db.cache.get("matchmaking-competitions")
    if cached is not None and time.monotonic() - cached.read_at < ttl:
        return cached
    rows = conn.execute(
        select(Competition.id, Competition.slug, Competition.name, Competition.status)
    ).all()
    # Only competitions where at least two models have a finished, visible output.
    ready_ids = set(
        conn.execute(
            playable(Prompt.competition_id)
            .group_by(Prompt.competition_id)
            .having(func.count(func.distinct(Output.model_id)) >= 2)
        ).scalars()
    )
    # Weight toward competitions that need votes: battles so far from the live records.
    battles = dict(
        conn.execute(
            select(Scope.competition_id, func.coalesce(func.sum(Rating.battles), 0))
            .join(Rating, Rating.scope_id == Scope.id)
            .where(Scope.kind == "competition")
            .group_by(Scope.competition_id)
        ).all()
    )
    cached = _Competitions(
        {row.slug: row for row in rows},
        [row for row in rows if row.status == "open" and row.id in ready_ids],
        battles,
        time.monotonic(),
    )
    db.cache["matchmaking-competitions"] = cached
    return cached


def choose_competition(
    conn: Connection, db: Database, slug: str | None, rng: random.Random, ttl: float = 0.0
) -> Any:
    """The named competition, or an open one with outputs ready, weighted toward fewer votes.

    Raises:
        NotFound: no competition has this slug, or none is open with outputs ready.
        Conflict: the named competition is not open.
    """
    known = _competitions(conn, db, ttl)
    if slug is not None:
        row = known.by_slug.get(slug) if storable(slug) else None
        if row is None:
            raise NotFound(f"no competition with slug {quoted(slug)}", field="competition")
        if row.status != "open":
            raise Conflict(
                f"competition {slug!r} is {row.status}, not open for voting", field="competition"
            )
        return row
    if not known.ready:
        raise NotFound("no competition is open for voting with outputs ready yet")
    weights = [1.0 / (1.0 + known.battles.get(c.id, 0) / 2) for c in known.ready]
    return rng.choices(known.ready, weights=weights, k=1)[0]


class Chosen(NamedTuple):
    """A battle's pair (sides and outputs) and its prompt's text and size; for best-of-four,
    ``extra`` holds the third and fourth images as ``(output, model)``, in the order shown
    (the pair's left and right are the first two)."""

    pair: Pair
    prompt: str
    width: int
    height: int
    extra: tuple[tuple[int, int], ...] = ()


def choose_pair(
    conn: Connection,
    db: Database,
    competition_id: int,
    rng: random.Random,
    voter_id: int | None = None,
    settings: MatchmakingSettings = FRESH,
    size: int = 2,
) -> Chosen | None:
    """The models (two, or four for best-of-four) the policy picks, on a prompt they all have
    an output for that ``voter_id`` has not seen revealed (a pair: else the pair whose
    outputs were revealed least recently; four: else any four sharing a prompt); None when
    no ``size`` models have outputs of a common prompt."""
    f = _field(conn, db, competition_id, settings.ttl)
    if len(f.model_ids) < size:
        return None
    revealed = _revealed(conn, competition_id, voter_id)
    available = f.output > 0
    fresh = available & ~np.isin(f.output, list(revealed)) if revealed else available
    generator = np.random.default_rng(rng.getrandbits(64))
    with f.lock:
        choice = policy.choose(f.standing, fresh, generator, policy=settings.policy, size=size)
        if choice is None:
            choice = (
                _least_recent(f, available, revealed, generator)
                if size == 2
                else policy.choose(
                    f.standing, available, generator, policy=settings.policy, size=size
                )
            )
        if choice is None:
            return None
        first, *others = choice.models
        # Counted as if voted until the next read (see the module docstring); a best-of-four
        # vote is three comparisons, of a pick not yet known: counted from the first image.
        policy.record(f.standing.met, np.array([first] * len(others)), np.array(others))
    p = choice.prompt
    left, right, *extra = choice.models
    return Chosen(
        Pair(
            int(f.prompt_ids[p]),
            int(f.output[left, p]),
            int(f.model_ids[left]),
            int(f.output[right, p]),
            int(f.model_ids[right]),
        ),
        f.prompts[p][0],
        f.prompts[p][1],
        f.prompts[p][2],
        tuple((int(f.output[m, p]), int(f.model_ids[m])) for m in extra),
    )


def _revealed(conn: Connection, competition_id: int, voter_id: int | None) -> dict[int, int]:
    """The outputs revealed to the voter in this competition: output id -> last battle id."""
    if voter_id is None:
        return {}
    last: dict[int, int] = {}
    rows = _REVEALED.execute(conn, {"v": voter_id, "c": competition_id})
    for battle_id, left, right, entry in rows:
        for output_id in (left, right, entry):
            if output_id is not None:
                last[output_id] = max(last.get(output_id, 0), battle_id)
    return last


def _least_recent(
    f: _Field, available: np.ndarray, revealed: dict[int, int], rng: np.random.Generator
) -> policy.Choice | None:
    """The fallback once every pair has a revealed output: the pair and prompt whose more
    recently revealed output was revealed longest ago (then least met, then at random), in a
    random order."""
    last = np.zeros(f.output.shape, dtype=np.int64)
    if revealed:
        ids = np.fromiter(revealed.keys(), dtype=np.int64)
        battles = np.fromiter(revealed.values(), dtype=np.int64)
        flat = f.output.ravel()
        order = np.argsort(flat)
        at = np.clip(np.searchsorted(flat, ids, sorter=order), 0, flat.size - 1)
        hit = flat[order[at]] == ids
        last.ravel()[order[at[hit]]] = battles[hit]
    n = len(f.model_ids)
    both = available[:, None, :] & available[None, :, :]
    both &= np.triu(np.ones((n, n), dtype=bool), 1)[:, :, None]
    if not both.any():
        return None
    key = np.where(both, np.maximum(last[:, None, :], last[None, :, :]), np.iinfo(np.int64).max)
    candidates = np.argwhere(key == key.min())
    met = f.standing.met[candidates[:, 0], candidates[:, 1]]
    candidates = candidates[met == met.min()]
    i, j, p = candidates[rng.integers(len(candidates))]
    models = (int(i), int(j)) if rng.random() < 0.5 else (int(j), int(i))
    return policy.Choice(models, int(p))


def _upsert_matchup(sqlite: bool) -> Prepared:
    if sqlite:
        from sqlalchemy.dialects.sqlite import insert as upsert
    else:
        from sqlalchemy.dialects.postgresql import insert as upsert
    statement = upsert(Matchup).values(
        competition_id=bindparam("c"),
        model_lo_id=bindparam("lo"),
        model_hi_id=bindparam("hi"),
        battles=1,
    )
    return Prepared(
        statement.on_conflict_do_update(
            index_elements=["competition_id", "model_lo_id", "model_hi_id"],
            set_={"battles": Matchup.battles + 1},
        )
    )


_COUNT = {True: _upsert_matchup(True), False: _upsert_matchup(False)}


def count_comparisons(
    conn: Connection, db: Database, competition_id: int, pairs: list[tuple[int, int]]
) -> None:
    """Count counted comparisons between the models of each pair (what the policy's ``met``
    reads), inside the vote's transaction (after its rating rows are locked)."""
    params = [{"c": competition_id, "lo": min(a, b), "hi": max(a, b)} for a, b in pairs]
    if len(params) == 1:
        _COUNT[db.is_sqlite].execute(conn, params[0])
    elif params:
        _COUNT[db.is_sqlite].execute(conn, params)
