"""Battles per pair: aggregation of a vote log, battles per model, head-to-head tables."""

from __future__ import annotations

import numpy as np
import pytest

from arena.ratings import pairs


def test_aggregate_folds_pairs_and_counts():
    model_a = np.array([0, 1, 1, 2, 0, 2, 1, 0])
    model_b = np.array([1, 0, 0, 0, 1, 1, 2, 2])
    outcome = np.array([0, 0, 2, 1, 1, 0, 2, 0], dtype=np.int8)
    cells = pairs.aggregate(model_a, model_b, outcome, 4)
    # (0, 1): 0 beat 1; 1 beat 0 twice (once listed as (1, 0), once as (0, 1)); one tie.
    # (0, 2): 0 beat 2 (listed as (2, 0) with b winning) and 0 beat 2 again.
    # (1, 2): 2 beat 1 (listed as (2, 1) with a winning); one tie.
    assert cells.a.tolist() == [0, 0, 1]
    assert cells.b.tolist() == [1, 2, 2]
    assert cells.wins_a.tolist() == [1, 2, 0]
    assert cells.wins_b.tolist() == [2, 0, 1]
    assert cells.ties.tolist() == [1, 0, 1]
    assert cells.battles.tolist() == [4, 2, 2]
    assert cells.total == 8
    assert cells.n_models == 4
    assert cells.a.dtype == np.int64
    assert cells.wins_a.dtype == np.int64


def test_aggregate_many_models_uses_the_same_counts():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 3000, 5000)
    b = (a + rng.integers(1, 3000, 5000)) % 3000
    outcome = rng.integers(0, 3, 5000).astype(np.int8)
    cells = pairs.aggregate(a, b, outcome, 3000)
    assert cells.total == 5000
    assert np.all(cells.a < cells.b)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    i = 17
    mask = (lo == cells.a[i]) & (hi == cells.b[i])
    won_lo = ((outcome == 0) & (a < b)) | ((outcome == 1) & (a > b))
    assert cells.wins_a[i] == np.sum(mask & won_lo)
    assert cells.ties[i] == np.sum(mask & (outcome == 2))


def test_aggregate_rejects_bad_battles():
    with pytest.raises(ValueError, match="itself"):
        pairs.aggregate(np.array([1]), np.array([1]), np.array([0]), 3)
    with pytest.raises(ValueError, match="indices"):
        pairs.aggregate(np.array([0]), np.array([3]), np.array([0]), 3)
    with pytest.raises(ValueError, match="outcome"):
        pairs.aggregate(np.array([0]), np.array([1]), np.array([3]), 3)
    with pytest.raises(ValueError, match="length"):
        pairs.aggregate(np.array([0, 1]), np.array([1]), np.array([0]), 3)


def three_models() -> pairs.Cells:
    """0 met 1 four times (2 wins, 1 loss, 1 tie); 1 lost to 2 three times; 0 never met 2."""
    return pairs.Cells(
        a=np.array([0, 1]),
        b=np.array([1, 2]),
        wins_a=np.array([2, 0]),
        wins_b=np.array([1, 3]),
        ties=np.array([1, 0]),
        n_models=4,
    )


def test_cells_model_battles_sums_each_models_pairs():
    assert three_models().model_battles.tolist() == [4, 7, 3, 0]


def test_head_to_head_counts_battles_and_scores_ties_as_half():
    battles, win_fraction = pairs.head_to_head(three_models())
    assert battles.dtype == np.int64
    assert battles.tolist() == [[0, 4, 0, 0], [4, 0, 3, 0], [0, 3, 0, 0], [0, 0, 0, 0]]
    # 0 vs 1: (2 wins + 1 tie / 2) / 4 battles; 1 vs 0: (1 + 1 / 2) / 4.
    assert win_fraction[0, 1] == 0.625
    assert win_fraction[1, 0] == 0.375
    assert win_fraction[1, 2] == 0.0
    assert win_fraction[2, 1] == 1.0


def test_head_to_head_leaves_pairs_that_never_met_as_nan():
    _, win_fraction = pairs.head_to_head(three_models())
    met = ~np.isnan(win_fraction)
    assert np.argwhere(met).tolist() == [[0, 1], [1, 0], [1, 2], [2, 1]]


def test_head_to_head_of_no_models_is_empty():
    empty = np.zeros(0, dtype=np.int64)
    battles, win_fraction = pairs.head_to_head(pairs.aggregate(empty, empty, empty, 0))
    assert battles.shape == win_fraction.shape == (0, 0)
