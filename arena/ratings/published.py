"""The published rating of one scope: the fit of its votes, bootstrap intervals, rank bounds.

One function, :func:`publish`, used by ``arena recompute`` and by the simulations in
``bench/``, so that what a benchmark measures is what the leaderboard shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arena.ratings import bradley_terry as bt
from arena.ratings import confidence, pairs


@dataclass(frozen=True)
class PublishedRatings:
    """Per model (index ``0..n-1``): rating, 95% interval, best plausible rank, battles.

    ``cells`` are the battles aggregated per pair, as fitted (the charts draw them).
    """

    ratings: np.ndarray
    low: np.ndarray
    high: np.ndarray
    rank_ub: np.ndarray
    battles: np.ndarray
    cells: pairs.Cells


def publish(
    model_a: np.ndarray,
    model_b: np.ndarray,
    outcome: np.ndarray,
    n_models: int,
    *,
    rounds: int,
    rng: np.random.Generator,
) -> PublishedRatings:
    """Fit a scope's votes and bound each rating with a bootstrap 95% interval.

    Args:
        model_a, model_b: int model indices in ``[0, n_models)``, shape ``(v,)``.
        outcome: int ``(v,)``: 0 = ``model_a`` won, 1 = ``model_b`` won, 2 = tie.
        n_models: number of models.
        rounds: bootstrap rounds (0: no resampling, each interval is the point itself).
        rng: the randomness of the resampling; the same seed gives the same intervals.

    Returns:
        The ratings, intervals and rank bounds (float64 / int64 ``(n_models,)`` arrays).

    Raises:
        ValueError: mismatched shapes or out-of-range indices or outcomes, negative rounds.
    """
    cells = pairs.aggregate(model_a, model_b, outcome, n_models)
    ratings = bt.fit(cells)
    if rounds > 0:
        low, high = confidence.intervals(bt.bootstrap(cells, rounds, rng, start=ratings))
    else:
        low, high = ratings.copy(), ratings.copy()
    return PublishedRatings(
        ratings=ratings,
        low=low,
        high=high,
        rank_ub=confidence.rank_upper_bounds(low, high),
        battles=cells.model_battles,
        cells=cells,
    )
