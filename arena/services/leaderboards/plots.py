"""What a board's charts show: its snapshot's plot data with model names, best model first."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from arena.models import Model, SnapshotRow
from arena.ratings import bradley_terry as bt
from arena.ratings.pairs import Cells, head_to_head
from arena.ratings.ranks import best_first
from arena.services.leaderboards.boards import Board
from arena.services.leaderboards.facts import model_facts

#: Models drawn on the Elo-over-time chart (the best by final Elo).
HISTORY_MODELS = 10


def predicted_wins(ratings: list[float]) -> list[list[float | None]]:
    """P(row model beats column model) in a decisive vote, from published ratings on the Elo
    scale: ``1 / (1 + 10 ** ((r_col - r_row) / 400))``, the Bradley-Terry model every tie model
    of ``arena.ratings.published`` shares for decisive votes; None on the diagonal."""
    r = np.asarray(ratings, dtype=float)
    p = 1.0 / (1.0 + bt.BASE ** ((r[None, :] - r[:, None]) / bt.SCALE))
    return [[None if i == j else float(p[i, j]) for j in range(r.size)] for i in range(r.size)]


def chart_data(session: Session, b: Board) -> dict[str, Any] | None:
    """What the charts of a board need, with model names, or None without a snapshot.

    Models are ordered by Bradley-Terry rating (best first); matrices are row vs column, None
    where two models never met.

    Returns:
        ``model_ids`` (primary keys), ``names``, ``ratings``, ``low``, ``high``,
        ``provisional``: one entry per model; ``win_fraction``, ``battle_counts`` and
        ``predicted`` (see :func:`predicted_wins`): lists of rows; ``history_names``,
        ``history_at`` and ``history_series``: the Elo-over-time lines of the best models by
        final Elo; ``min_battles`` (below it a model is provisional), ``ties_model`` and
        ``tie_rate``: the snapshot's, for captions; ``facts``: ``{model pk: ModelFacts}``
        of the plotted models (``arena.services.leaderboards.facts``).
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
    order = best_first(np.array([by_pk[pk].bt_rating for pk in pks], dtype=float)).tolist()
    pairs = plots["pairs"]
    cells = Cells(
        a=np.asarray(pairs["a"], dtype=np.int64),
        b=np.asarray(pairs["b"], dtype=np.int64),
        wins_a=np.asarray(pairs["wins_a"], dtype=np.int64),
        wins_b=np.asarray(pairs["wins_b"], dtype=np.int64),
        ties=np.asarray(pairs["ties"], dtype=np.int64),
        n_models=len(pks),
    )
    battles, win_fraction = head_to_head(cells)
    in_order = np.ix_(order, order)
    history = plots["history"]
    top = best_first(np.array(history["elo"][-1], dtype=float))[:HISTORY_MODELS].tolist()
    ratings = [by_pk[pks[i]].bt_rating for i in order]
    # The board already read its models' facts; only a model the snapshot ranks but the live
    # rows left out (no counted battle left) needs reading here.
    facts = {pk: b.facts[pk] for pk in pks if pk in b.facts}
    missing = [pk for pk in pks if pk not in facts]
    if missing:
        facts.update(model_facts(session, missing))
    return {
        "model_ids": [pks[i] for i in order],
        "names": [names[pks[i]] for i in order],
        "ratings": ratings,
        "low": [by_pk[pks[i]].ci_low for i in order],
        "high": [by_pk[pks[i]].ci_high for i in order],
        "provisional": [by_pk[pks[i]].provisional for i in order],
        "win_fraction": [
            [None if math.isnan(f) else f for f in row] for row in win_fraction[in_order].tolist()
        ],
        "battle_counts": [[c or None for c in row] for row in battles[in_order].tolist()],
        "predicted": predicted_wins(ratings),
        "history_names": [names[pks[i]] for i in top],
        "history_at": history["at"],
        "history_series": [[point[i] for point in history["elo"]] for i in top],
        "min_battles": b.snapshot.min_battles,
        "ties_model": b.snapshot.ties_model,
        "tie_rate": b.snapshot.tie_rate,
        "facts": facts,
    }
