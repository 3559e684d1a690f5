"""The published rating of one scope: the fit of its votes, bootstrap intervals, rank bounds.

One function, :func:`publish`, used by ``arena recompute`` and by the simulations in
``bench/``, so that what a benchmark measures is what the leaderboard shows.

**Tie model.** By default (``davidson``) ties are fitted by Davidson's model on the Elo
scale (:mod:`arena.ratings.davidson`): a 400-point gap is 10:1 odds in a decisive vote, and
the tie rate between two equal models is fitted and published. ``half`` is FastChat's fit
(:mod:`arena.ratings.bradley_terry`, a tie is half a win), kept to compare with public boards.

**Prior.** Both fits put the same normal prior on every model's rating: mean the scope's
mean (``ANCHOR``), standard deviation :data:`~arena.ratings.bradley_terry.PRIOR_SD` points.

**Thin data.** A bootstrap round in which a model has no battle says nothing about it: its
rating in that round is drawn from the prior instead of sitting at the mean, so a model seen
a few times gets a wide, finite interval. A point estimate is always inside its interval (on
very thin data a skewed bootstrap can leave it just outside; the interval is then widened to
it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arena.ratings import bradley_terry as bt
from arena.ratings import confidence, davidson, pairs
from arena.ratings.resampling import VoteResampler

DECISIVE = "decisive"
DAVIDSON = "davidson"
HALF = "half"
#: The tie models ``publish`` knows, the published default first.
TIE_MODELS = (DECISIVE, DAVIDSON, HALF)


@dataclass(frozen=True)
class PublishedRatings:
    """Per model (index ``0..n-1``): rating, 95% interval, best plausible rank, battles.

    ``cells`` are the battles aggregated per pair, as fitted (the charts draw them).
    ``tie_share`` is the share of each model's battles that were ties (0 without battles);
    ``tie_rate`` the fitted probability of a tie between two equally rated models (Davidson;
    None for ``half`` or without votes).
    """

    ratings: np.ndarray
    low: np.ndarray
    high: np.ndarray
    rank_ub: np.ndarray
    battles: np.ndarray
    tie_share: np.ndarray
    tie_rate: float | None
    cells: pairs.Cells


def publish(
    model_a: np.ndarray,
    model_b: np.ndarray,
    outcome: np.ndarray,
    n_models: int,
    *,
    rounds: int,
    rng: np.random.Generator,
    ties: str = DECISIVE,
    vote: np.ndarray | None = None,
) -> PublishedRatings:
    """Fit a scope's votes and bound each rating with a bootstrap 95% interval.

    Args:
        model_a, model_b: int model indices in ``[0, n_models)``, shape ``(m,)``: one
            pairwise outcome each.
        outcome: int ``(m,)``: 0 = ``model_a`` won, 1 = ``model_b`` won, 2 = tie.
        n_models: number of models.
        rounds: bootstrap rounds (0: no resampling, each interval is the point itself).
        rng: the randomness of the resampling; the same seed gives the same intervals.
        ties: ``davidson`` or ``half`` (see the module docstring).
        vote: int ``(m,)``, the vote each outcome belongs to, when one vote yields several
            outcomes (e.g. a ranking of four images): the bootstrap resamples votes whole.
            None: every outcome is its own vote.

    Returns:
        The ratings, intervals and rank bounds (float64 / int64 ``(n_models,)`` arrays).

    Raises:
        ValueError: mismatched shapes or out-of-range indices or outcomes, negative rounds,
            an unknown ``ties``.
    """
    if ties not in TIE_MODELS:
        raise ValueError(f"ties must be one of {TIE_MODELS}, got {ties!r}")
    if rounds < 0:
        raise ValueError("rounds must be 0 or more")
    cells = pairs.aggregate(model_a, model_b, outcome, n_models)
    battles = cells.model_battles
    tie_share = np.zeros(n_models)
    model_ties = pairs.model_ties(cells)
    np.divide(model_ties, battles, out=tie_share, where=battles > 0)
    tie_rate = None
    if ties == DAVIDSON:
        ratings, nu = davidson.fit(cells)
        if cells.total:
            tie_rate = float(nu / (2.0 + nu))
    elif ties == DECISIVE:
        ratings, nu = bt.fit(pairs.decisive_cells(cells)), None
        if cells.total:
            tie_rate = float(cells.ties.sum() / cells.total)
    else:
        ratings, nu = bt.fit(cells), None
    if rounds > 0 and cells.total:
        lump = ties == DECISIVE  # where a tie falls does not matter, only that it is one
        cell = pairs.cell_of(model_a, model_b, outcome, cells, lump_ties=lump)
        sampler = VoteResampler(cell, vote, (2 * cells.a.size + 1) if lump else 3 * cells.a.size)
        if ties == DAVIDSON:
            samples = davidson.bootstrap(cells, sampler, rounds, rng, start=(ratings, nu))
        else:
            samples = bt.bootstrap(
                cells, rounds, rng, start=ratings, sampler=sampler, decisive=lump
            )
        absent = np.isnan(samples)
        if absent.any():  # no battle in that round: the prior is all we know
            samples[absent] = bt.ANCHOR + bt.PRIOR_SD * rng.standard_normal(int(absent.sum()))
        low, high = confidence.intervals(samples)
        np.minimum(low, ratings, out=low)
        np.maximum(high, ratings, out=high)
    else:
        low, high = ratings.copy(), ratings.copy()
    return PublishedRatings(
        ratings=ratings,
        low=low,
        high=high,
        rank_ub=confidence.rank_upper_bounds(low, high),
        battles=battles,
        tie_share=tie_share,
        tie_rate=tie_rate,
        cells=cells,
    )
