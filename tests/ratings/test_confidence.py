"""Percentile intervals of bootstrap samples, and the best rank each model can hold."""

from __future__ import annotations

import numpy as np

from arena.ratings import confidence


def test_intervals_are_per_model_quantiles():
    samples = np.stack([np.arange(101.0), 1000.0 - np.arange(101.0)], axis=1)
    low, high = confidence.intervals(samples, level=0.9)
    np.testing.assert_allclose(low, [5.0, 905.0])
    np.testing.assert_allclose(high, [95.0, 995.0])


def test_rank_upper_bounds_counts_models_surely_better():
    low = np.array([1100.0, 1050.0, 1000.0, 900.0, 1040.0])
    high = np.array([1200.0, 1120.0, 1060.0, 1000.0, 1045.0])
    # Model 2 (high 1060) is surely behind model 0 only (low 1100); model 3 (high 1000)
    # behind models 0, 1, 4; model 4 (high 1045) behind model 0 and model 1 (low 1050).
    assert confidence.rank_upper_bounds(low, high).tolist() == [1, 1, 2, 4, 3]
