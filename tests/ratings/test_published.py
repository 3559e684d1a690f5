"""The published rating of a scope: the fit, its bootstrap intervals and rank bounds together."""

from __future__ import annotations

import numpy as np
import pytest

from arena.ratings import bradley_terry as bt
from arena.ratings import davidson, pairs
from arena.ratings.published import publish


def _votes(seed: int, n: int = 8, votes: int = 4000):
    rng = np.random.default_rng(seed)
    truth = np.linspace(-150, 150, n)
    a = rng.integers(0, n, votes)
    b = (a + rng.integers(1, n, votes)) % n
    p_a = 1 / (1 + 10 ** ((truth[b] - truth[a]) / 400))
    outcome = np.where(rng.random(votes) < p_a, 0, 1)
    return a, b, outcome, n


def test_publish_fits_bounds_and_ranks_the_models():
    a, b, outcome, n = _votes(1)
    result = publish(a, b, outcome, n, rounds=300, rng=np.random.default_rng(2))
    assert np.array_equal(result.ratings, bt.fit(pairs.aggregate(a, b, outcome, n)))
    assert np.all(result.low <= result.ratings) and np.all(result.ratings <= result.high)
    assert np.all(result.high - result.low > 10)
    assert result.rank_ub.tolist()[-1] == 1 and result.rank_ub[0] > 1
    assert result.battles.sum() == 2 * len(a)
    assert np.isclose(result.ratings.mean(), bt.ANCHOR)


def test_publish_same_seed_same_intervals_and_no_rounds_no_width():
    a, b, outcome, n = _votes(3)
    first = publish(a, b, outcome, n, rounds=50, rng=np.random.default_rng(9))
    again = publish(a, b, outcome, n, rounds=50, rng=np.random.default_rng(9))
    assert np.array_equal(first.low, again.low) and np.array_equal(first.high, again.high)
    point = publish(a, b, outcome, n, rounds=0, rng=np.random.default_rng(9))
    assert np.array_equal(point.low, point.ratings) and np.array_equal(point.high, point.ratings)


def test_publish_refuses_out_of_range_models():
    with pytest.raises(ValueError):
        publish(np.array([0]), np.array([5]), np.array([0]), 3, rounds=0, rng=None)


def test_publish_tie_models():
    a, b, outcome, n = _votes(4, votes=3000)
    rng = np.random.default_rng(0)
    ties = rng.random(a.size) < 0.2
    outcome = np.where(ties, 2, outcome)
    cells = pairs.aggregate(a, b, outcome, n)
    decisive = publish(a, b, outcome, n, rounds=0, rng=rng)
    # The published default fits the decisive votes: dropping the ties changes nothing.
    keep = outcome < 2
    alone = publish(a[keep], b[keep], outcome[keep], n, rounds=0, rng=rng)
    np.testing.assert_allclose(decisive.ratings, alone.ratings, atol=1e-9)
    assert decisive.tie_rate == pytest.approx(ties.mean())
    model_ties = np.bincount(a[ties], minlength=n) + np.bincount(b[ties], minlength=n)
    np.testing.assert_allclose(decisive.tie_share, model_ties / decisive.battles)
    half = publish(a, b, outcome, n, rounds=0, rng=rng, ties="half")
    np.testing.assert_array_equal(half.ratings, bt.fit(cells))
    assert half.tie_rate is None
    with_davidson = publish(a, b, outcome, n, rounds=0, rng=rng, ties="davidson")
    ratings, nu = davidson.fit(cells)
    np.testing.assert_array_equal(with_davidson.ratings, ratings)
    assert with_davidson.tie_rate == pytest.approx(nu / (2 + nu))
    # Ties pull the half-win ratings together; the tie models keep the scale.
    assert np.ptp(half.ratings) < np.ptp(decisive.ratings)
    with pytest.raises(ValueError, match="ties"):
        publish(a, b, outcome, n, rounds=0, rng=rng, ties="quarter")


def test_thin_data_gives_finite_honest_ratings_and_wide_intervals():
    rng = np.random.default_rng(12)
    n = 21
    truth = rng.normal(0, 100, n)
    a = rng.integers(0, n, 60)
    b = (a + rng.integers(1, n, 60)) % n
    p_a = 1 / (1 + 10 ** ((truth[b] - truth[a]) / 400))
    outcome = np.where(rng.random(60) < p_a, 0, 1)
    result = publish(a, b, outcome, n, rounds=500, rng=np.random.default_rng(3))
    assert np.all(np.abs(result.ratings - 1000) < 400)
    assert np.all(result.low <= result.ratings) and np.all(result.ratings <= result.high)
    assert np.all(np.isfinite(result.low)) and np.all(np.isfinite(result.high))
    least = np.argmin(result.battles)
    # A model seen once or twice is absent from many resamples: its interval is the prior's
    # width, not a point pinned at 1000.
    assert result.battles[least] <= 3
    assert result.high[least] - result.low[least] > 300
    assert np.all(result.high - result.low > 100)


def test_a_vote_with_several_outcomes_is_resampled_whole():
    a, b, outcome, n = _votes(6, votes=2000)
    # Each vote reports its outcome twice (as a ranking of several images would repeat
    # information): resampling outcomes one by one would halve the variance, wrongly.
    a2, b2, o2 = np.repeat(a, 2), np.repeat(b, 2), np.repeat(outcome, 2)
    vote = np.repeat(np.arange(a.size), 2)
    rng = np.random.default_rng
    per_outcome = publish(a2, b2, o2, n, rounds=600, rng=rng(1))
    whole = publish(a2, b2, o2, n, rounds=600, rng=rng(1), vote=vote)
    single = publish(a, b, outcome, n, rounds=600, rng=rng(1))
    np.testing.assert_allclose(whole.ratings, per_outcome.ratings)
    ratio = np.median((whole.high - whole.low) / (per_outcome.high - per_outcome.low))
    assert 1.3 < ratio < 1.55  # about sqrt(2)
    # Resampling whole votes of duplicated outcomes is as wide as the votes themselves
    # (the point estimates differ a little: the prior weighs less against doubled data).
    np.testing.assert_allclose(
        np.median(whole.high - whole.low), np.median(single.high - single.low), rtol=0.1
    )
