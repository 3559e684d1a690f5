"""Matchmaking: which competition, prompt and pair of models a voter is shown next.

Today's rule: an open competition weighted toward those with fewer votes, then the pair of
its models that has met least often (counted when a battle is issued), on a prompt both have
a finished, visible output for, sides at random — leaving out the outputs already revealed to
the voter (least recently revealed first once nothing unrevealed is left).
"""

from __future__ import annotations

import random
from typing import Any, NamedTuple

from sqlalchemy import Connection, Select, and_, func, select

from arena.db import Database, storable
from arena.errors import Conflict, NotFound, quoted
from arena.models import (
    Battle,
    Competition,
    CompetitionModel,
    Matchup,
    Output,
    Prompt,
    Rating,
    Scope,
)


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


def choose_competition(conn: Connection, slug: str | None, rng: random.Random) -> Any:
    """The named competition, or an open one with outputs ready, weighted toward fewer votes.

    Raises:
        NotFound: no competition has this slug, or none is open with outputs ready.
        Conflict: the named competition is not open.
    """
    columns = (Competition.id, Competition.slug, Competition.name, Competition.status)
    if slug is not None:
        row = (
            conn.execute(select(*columns).where(Competition.slug == slug)).first()
            if storable(slug)
            else None
        )
        if row is None:
            raise NotFound(f"no competition with slug {quoted(slug)}", field="competition")
        if row.status != "open":
            raise Conflict(
                f"competition {slug!r} is {row.status}, not open for voting", field="competition"
            )
        return row
    # Only competitions where at least two models have a finished, visible output.
    ready = (
        select(Prompt.competition_id)
        .join(Output, Output.prompt_id == Prompt.id)
        .where(Output.status == "done", Output.hidden.is_(False))
        .group_by(Prompt.competition_id)
        .having(func.count(func.distinct(Output.model_id)) >= 2)
    )
    candidates = conn.execute(
        select(*columns).where(Competition.status == "open", Competition.id.in_(ready))
    ).all()
    if not candidates:
        raise NotFound("no competition is open for voting with outputs ready yet")
    # Weight toward competitions that need votes: battles so far from the live records.
    counts = dict(
        conn.execute(
            select(Scope.competition_id, func.coalesce(func.sum(Rating.battles), 0))
            .join(Rating, Rating.scope_id == Scope.id)
            .where(Scope.kind == "competition")
            .group_by(Scope.competition_id)
        ).all()
    )
    weights = [1.0 / (1.0 + counts.get(c.id, 0) / 2) for c in candidates]
    return rng.choices(candidates, weights=weights, k=1)[0]


def choose_pair(
    conn: Connection, competition_id: int, rng: random.Random, voter_id: int | None = None
) -> Pair | None:
    """The least-met pair of the competition's models on a prompt both have an output for,
    sides at random; None when no two models have outputs of a common prompt.

    Outputs already revealed to ``voter_id`` (in a battle they voted on) are never shown
    again while any pair of unrevealed outputs remains; once every pair has one, the pair
    and prompt whose outputs were revealed least recently are chosen.
    """
    outputs = conn.execute(
        playable(Output.id, Output.prompt_id, Output.model_id).where(
            Prompt.competition_id == competition_id
        )
    ).all()
    by_model: dict[int, dict[int, int]] = {}
    for output_id, prompt_id, model_id in outputs:
        by_model.setdefault(model_id, {})[prompt_id] = output_id
    if len(by_model) < 2:
        return None
    met = {
        (lo, hi): n
        for lo, hi, n in conn.execute(
            select(Matchup.model_lo_id, Matchup.model_hi_id, Matchup.battles).where(
                Matchup.competition_id == competition_id
            )
        )
    }
    revealed = _revealed(conn, competition_id, voter_id)
    fresh = {
        model: {p for p, o in prompts.items() if o not in revealed}
        for model, prompts in by_model.items()
    }
    choice = _least_met(fresh, met, rng) or _least_recent(by_model, revealed, met, rng)
    if choice is None:
        return None
    a, b, prompt_id = choice
    if rng.random() < 0.5:
        a, b = b, a
    return Pair(prompt_id, by_model[a][prompt_id], a, by_model[b][prompt_id], b)


def _revealed(conn: Connection, competition_id: int, voter_id: int | None) -> dict[int, int]:
    """The outputs revealed to the voter in this competition: output id -> last battle id
    (uses the index on ``battles.voter_id``: a voter's own battles only)."""
    if voter_id is None:
        return {}
    last: dict[int, int] = {}
    for battle_id, left, right in conn.execute(
        select(Battle.id, Battle.left_output_id, Battle.right_output_id).where(
            Battle.voter_id == voter_id,
            Battle.competition_id == competition_id,
            Battle.voted_at.is_not(None),
        )
    ):
        for output_id in (left, right):
            last[output_id] = max(last.get(output_id, 0), battle_id)
    return last


def _least_met(
    prompts_of: dict[int, set[int]], met: dict[tuple[int, int], int], rng: random.Random
) -> tuple[int, int, int] | None:
    """Among pairs with a common prompt in ``prompts_of``, the least-met (random tie-break),
    with one of their common prompts at random."""
    models = sorted(prompts_of)
    best: list[tuple[int, int, set[int]]] = []
    fewest = None
    for i, lo in enumerate(models):
        for hi in models[i + 1 :]:
            common = prompts_of[lo] & prompts_of[hi]
            if not common:
                continue
            n = met.get((lo, hi), 0)
            if fewest is None or n < fewest:
                fewest, best = n, [(lo, hi, common)]
            elif n == fewest:
                best.append((lo, hi, common))
    if not best:
        return None
    lo, hi, common = rng.choice(best)
    return lo, hi, rng.choice(sorted(common))


def _least_recent(
    by_model: dict[int, dict[int, int]],
    revealed: dict[int, int],
    met: dict[tuple[int, int], int],
    rng: random.Random,
) -> tuple[int, int, int] | None:
    """The fallback once every pair has a revealed output: the pair and prompt whose more
    recently revealed output was revealed longest ago (then least met, then at random)."""
    models = sorted(by_model)
    best: list[tuple[int, int, int]] = []
    best_key = None
    for i, lo in enumerate(models):
        for hi in models[i + 1 :]:
            for prompt_id in by_model[lo].keys() & by_model[hi].keys():
                key = (
                    max(
                        revealed.get(by_model[lo][prompt_id], 0),
                        revealed.get(by_model[hi][prompt_id], 0),
                    ),
                    met.get((lo, hi), 0),
                )
                if best_key is None or key < best_key:
                    best_key, best = key, [(lo, hi, prompt_id)]
                elif key == best_key:
                    best.append((lo, hi, prompt_id))
    return rng.choice(sorted(best)) if best else None


def count_matchup(conn: Connection, db: Database, competition_id: int, pair: Pair) -> None:
    """Count one more battle between the pair's models (what ``choose_pair`` balances)."""
    lo, hi = sorted((pair.left_model, pair.right_model))
    if db.is_sqlite:
        from sqlalchemy.dialects.sqlite import insert as upsert
    else:
        from sqlalchemy.dialects.postgresql import insert as upsert
    statement = upsert(Matchup).values(
        competition_id=competition_id, model_lo_id=lo, model_hi_id=hi, battles=1
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["competition_id", "model_lo_id", "model_hi_id"],
            set_={"battles": Matchup.battles + 1},
        )
    )
