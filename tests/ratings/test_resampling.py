"""Bootstrap resamples of vote counts: exact multinomial draws."""

from __future__ import annotations

import numpy as np

from arena.ratings.resampling import Multinomial, VoteResampler


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


def test_vote_resampler_draws_votes_whole():
    # Three kinds of votes: one outcome in cell 0; two outcomes in cells 1 and 2; and two
    # outcomes both in cell 3. Cells 1 and 2 always move together; cell 3 in steps of two.
    cell = np.array([0, 0, 0, 1, 2, 1, 2, 3, 3])
    vote = np.array([0, 1, 2, 3, 3, 4, 4, 5, 5])
    sampler = VoteResampler(cell, vote, 5)
    counts = sampler.draw(np.random.default_rng(1), 4000)
    assert counts.shape == (4000, 5)
    np.testing.assert_array_equal(counts[:, 1], counts[:, 2])
    assert np.all(counts[:, 3] % 2 == 0)
    assert np.all(counts[:, 4] == 0)
    # Six votes drawn per round, each with its outcomes.
    np.testing.assert_array_equal(counts[:, 0] + counts[:, 1] + counts[:, 3] // 2, 6)
    np.testing.assert_allclose(counts.mean(axis=0), [3, 2, 2, 2, 0], atol=0.1)


def test_vote_resampler_without_groups_is_the_cell_multinomial():
    cell = np.array([0, 2, 2, 1, 2])
    one = VoteResampler(cell, None, 4).draw(np.random.default_rng(5), 50)
    same = VoteResampler(cell, np.arange(5), 4).draw(np.random.default_rng(5), 50)
    direct = Multinomial(np.array([1, 1, 3, 0])).draw(np.random.default_rng(5), 50)
    np.testing.assert_array_equal(one, direct)
    np.testing.assert_array_equal(same, direct)
