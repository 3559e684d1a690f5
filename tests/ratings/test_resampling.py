"""Bootstrap resamples of vote counts: exact multinomial draws."""

from __future__ import annotations

import numpy as np

from arena.ratings.resampling import Multinomial


def test_multinomial_draws_have_multinomial_moments():
    observed = np.array([50, 30, 0, 15, 4, 1])
    sampler = Multinomial(observed)
    counts = sampler.draw(np.random.default_rng(4), 100_000)
    n, p = observed.sum(), observed / observed.sum()
    assert np.issubdtype(counts.dtype, np.integer)
    assert np.all(counts.sum(axis=1) == n)
    assert np.all(counts[:, 2] == 0)
    se_mean = np.sqrt(n * p * (1 - p) / counts.shape[0])
    assert np.all(np.abs(counts.mean(axis=0) - n * p) <= 4 * se_mean + 1e-12)
    covariance = n * (np.diag(p) - np.outer(p, p))
    np.testing.assert_allclose(np.cov(counts.T), covariance, atol=0.03 * covariance.max())
