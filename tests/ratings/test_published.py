"""The published rating of a scope: the fit, its bootstrap intervals and rank bounds together."""

from __future__ import annotations

import numpy as np
import pytest

from arena.ratings import bradley_terry as bt
from arena.ratings import pairs
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
