"""Bradley-Terry fit and bootstrap: hand examples, an independent MLE, synthetic known truth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from arena.ratings import bradley_terry as bt
from arena.ratings import confidence, pairs

NAT = math.log(10.0) / 400.0  # log-odds per rating point


def battles(
    rng: np.random.Generator, truth: np.ndarray, n: int, tie: float = 0.3
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` random battles between models rated ``truth``, consistent with the model.

    A pair with win probability ``p`` ties with probability ``2 * tie * min(p, 1 - p)`` (ties
    are likelier between close models) and ``a`` wins with ``p - ties / 2``, so that the
    expected score of ``a`` is exactly ``p``.
    """
    m = truth.size
    a = rng.integers(0, m, n)
    b = rng.integers(0, m - 1, n)
    b = np.where(b >= a, b + 1, b)
    p = 1.0 / (1.0 + 10.0 ** ((truth[b] - truth[a]) / 400.0))
    t = 2.0 * tie * np.minimum(p, 1.0 - p)
    u = rng.random(n)
    outcome = np.where(u < p - t / 2.0, 0, np.where(u < 1.0 - t, 1, 2)).astype(np.int8)
    return a, b, outcome


def optimize_scalar(f, lo: float = 0.0, hi: float = 5.0) -> float:
    """The root of a decreasing ``f`` in ``[lo, hi]``, by bisection."""
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if f(mid) > 0 else (lo, mid)
    return 0.5 * (lo + hi)


def centred(ratings: np.ndarray) -> np.ndarray:
    return ratings - ratings.mean() + 1000.0


def fisher_se(cells: pairs.Cells, ratings: np.ndarray) -> np.ndarray:
    """Standard errors (rating points) of mean-anchored ratings from the inverse Hessian."""
    n = cells.n_models
    p = 1.0 / (1.0 + 10.0 ** ((ratings[cells.b] - ratings[cells.a]) / 400.0))
    w = cells.battles * p * (1.0 - p) * NAT**2
    h = np.zeros((n, n))
    np.add.at(h, (cells.a, cells.b), -w)
    np.add.at(h, (cells.b, cells.a), -w)
    h[np.diag_indices(n)] = -h.sum(axis=1)
    return np.sqrt(np.diag(np.linalg.pinv(h)))


def test_aggregate_empty_log_gives_anchor_ratings():
    empty = np.zeros(0, dtype=np.int64)
    cells = pairs.aggregate(empty, empty, empty.astype(np.int8), 3)
    assert cells.total == 0
    assert bt.fit(cells).tolist() == [1000.0] * 3
    assert bt.bootstrap(cells, 4, np.random.default_rng(0)).shape == (4, 3)


def test_fit_agrees_with_an_independent_map_estimate():
    optimize = pytest.importorskip("scipy.optimize")
    rng = np.random.default_rng(11)
    truth = rng.normal(1000.0, 150.0, 8)
    a, b, outcome = battles(rng, truth, 600)
    # One row per battle (winner, loser, weight); a tie is two rows of weight 1/2.
    tie = outcome == 2
    winner = np.concatenate([np.where(outcome == 0, a, b)[~tie], a[tie], b[tie]])
    loser = np.concatenate([np.where(outcome == 0, b, a)[~tie], b[tie], a[tie]])
    weight = np.concatenate(
        [np.ones((~tie).sum()), np.full(tie.sum(), 0.5), np.full(tie.sum(), 0.5)]
    )
    assert np.all(np.bincount(winner, minlength=8) > 0)  # finite MLE: every model won ...
    assert np.all(np.bincount(loser, minlength=8) > 0)  # ... and lost

    def nll(r: np.ndarray) -> tuple[float, np.ndarray]:
        """Negative log-posterior: the likelihood and the normal prior of PRIOR_SD points."""
        d = (r[loser] - r[winner]) * NAT
        value = float(np.sum(weight * np.logaddexp(0.0, d)))
        dd = weight * NAT / (1.0 + np.exp(-d))  # derivative with respect to d, per row
        grad = np.bincount(loser, dd, 8) - np.bincount(winner, dd, 8)
        z = r / bt.PRIOR_SD
        return value + 0.5 * float(z @ z), grad + z / bt.PRIOR_SD

    result = optimize.minimize(nll, np.zeros(8), jac=True, method="BFGS", options={"gtol": 1e-10})
    reference = result.x + 1000.0

    ratings = bt.fit(pairs.aggregate(a, b, outcome, 8))
    assert ratings.dtype == np.float64
    assert ratings.mean() == pytest.approx(1000.0, abs=1e-9)
    assert np.max(np.abs(ratings - reference)) < 0.01
    assert np.max(np.abs(ratings - reference)) < 0.05  # the regulariser is far smaller still


def test_fit_recovers_truth_on_large_synthetic_data():
    rng = np.random.default_rng(7)
    truth = rng.normal(1000.0, 150.0, 20)
    a, b, outcome = battles(rng, truth, 1_000_000)
    cells = pairs.aggregate(a, b, outcome, 20)
    ratings = bt.fit(cells)
    error = np.abs(ratings - centred(truth))
    assert error.max() < 5.0
    assert np.all(error < 4.5 * fisher_se(cells, ratings))


def test_fit_is_invariant_to_battle_order_and_label_swaps():
    rng = np.random.default_rng(5)
    truth = rng.normal(1000.0, 200.0, 12)
    a, b, outcome = battles(rng, truth, 5000)
    ratings = bt.fit(pairs.aggregate(a, b, outcome, 12))

    order = rng.permutation(a.size)
    shuffled = bt.fit(pairs.aggregate(a[order], b[order], outcome[order], 12))
    np.testing.assert_allclose(shuffled, ratings, rtol=0, atol=1e-9)

    flip = rng.random(a.size) < 0.5  # present half of the battles the other way round
    swapped_outcome = np.where(flip & (outcome < 2), 1 - outcome, outcome).astype(np.int8)
    swapped_cells = pairs.aggregate(np.where(flip, b, a), np.where(flip, a, b), swapped_outcome, 12)
    swapped = bt.fit(swapped_cells)
    np.testing.assert_allclose(swapped, ratings, rtol=0, atol=1e-9)

    relabel = rng.permutation(12)  # model i becomes model relabel[i]
    renamed = bt.fit(pairs.aggregate(relabel[a], relabel[b], outcome, 12))
    np.testing.assert_allclose(renamed[relabel], ratings, rtol=0, atol=1e-8)


@pytest.mark.parametrize(
    ("models", "n_battles"),
    [(15, 4000), (40, 300), (120, 500), (170, 400)],  # dense, thin dense, sparse, sparse
)
def test_fit_batch_equals_fit_row_by_row(models, n_battles):
    rng = np.random.default_rng(models)
    truth = rng.normal(1000.0, 150.0, models)
    cells = pairs.aggregate(*battles(rng, truth, n_battles), models)
    p = cells.a.size
    counts = rng.multinomial(
        n_battles,
        np.concatenate([cells.wins_a, cells.wins_b, cells.ties]) / cells.total,
        size=6,
    ).reshape(6, 3, p)
    one_by_one = np.array([bt.fit(pairs.Cells(cells.a, cells.b, *c, models)) for c in counts])
    cold = bt.fit_batch(counts[:, 0], counts[:, 1], counts[:, 2], cells)
    warm = bt.fit_batch(counts[:, 0], counts[:, 1], counts[:, 2], cells, start=bt.fit(cells))
    assert cold.shape == (6, models)
    np.testing.assert_allclose(cold, one_by_one, rtol=0, atol=1e-6)
    np.testing.assert_allclose(warm, one_by_one, rtol=0, atol=1e-6)


def test_fit_undefeated_model_is_finite_and_first():
    # Model 0 won all its 10 battles; models 1 and 2 split theirs.
    a = np.array([0] * 10 + [1, 1, 2, 2])
    b = np.array([1, 2] * 5 + [2, 2, 1, 1])
    outcome = np.array([0] * 10 + [0, 2, 0, 1], dtype=np.int8)
    ratings = bt.fit(pairs.aggregate(a, b, outcome, 3))
    assert np.all(np.isfinite(ratings))
    # Ahead, but the prior keeps ten wins from meaning "infinitely better".
    assert 150.0 < ratings[0] - ratings[1:].max() < 400.0
    assert ratings.mean() == pytest.approx(1000.0, abs=1e-9)


def test_fit_model_without_battles_stays_at_anchor():
    rng = np.random.default_rng(2)
    truth = rng.normal(1000.0, 150.0, 5)
    a, b, outcome = battles(rng, truth, 500)
    ratings = bt.fit(pairs.aggregate(a, b, outcome, 6))  # model 5 never played
    assert ratings[5] == pytest.approx(1000.0, abs=1e-9)
    assert ratings.mean() == pytest.approx(1000.0, abs=1e-9)
    samples = bt.bootstrap(pairs.aggregate(a, b, outcome, 6), 50, np.random.default_rng(1))
    assert np.all(np.isnan(samples[:, 5]))  # no battle in any round: no rating, not 1000
    assert np.all(np.isfinite(samples[:, :5]))


def test_fit_disconnected_groups_are_each_centred_on_anchor():
    # Models {0, 1} and {2, 3} never met: each group is centred on the anchor.
    a = np.array([0, 0, 1, 2, 2, 3, 3])
    b = np.array([1, 1, 0, 3, 3, 2, 2])
    outcome = np.array([0, 0, 0, 0, 2, 0, 1], dtype=np.int8)
    ratings = bt.fit(pairs.aggregate(a, b, outcome, 4))
    assert ratings[0] > ratings[1]
    assert ratings[:2].mean() == pytest.approx(1000.0, abs=1e-6)
    assert ratings[2:].mean() == pytest.approx(1000.0, abs=1e-6)


def test_fit_two_models_match_the_closed_form():
    # 30 wins, 10 losses and 10 ties: score 35 of 50, so P = 0.7 and the gap is
    # 400 * log10(0.7 / 0.3), pulled toward the mean by the prior: with gap g = 2t in
    # log-odds, the optimum solves 50 * (0.7 - sigmoid(2t)) = MU * t.
    cells = pairs.Cells(
        np.array([0]), np.array([1]), np.array([30]), np.array([10]), np.array([10]), 2
    )
    ratings = bt.fit(cells)
    t = optimize_scalar(lambda t: 50 * (0.7 - 1 / (1 + math.exp(-2 * t))) - bt.MU * t)
    assert ratings[0] - ratings[1] == pytest.approx(2 * t / NAT, abs=1e-6)
    gap = 400.0 * math.log10(0.7 / 0.3)
    assert gap - 10.0 < ratings[0] - ratings[1] < gap


def test_bootstrap_is_reproducible_with_the_same_seed():
    rng = np.random.default_rng(9)
    truth = rng.normal(1000.0, 150.0, 10)
    cells = pairs.aggregate(*battles(rng, truth, 3000), 10)
    first = bt.bootstrap(cells, 200, np.random.default_rng(42))
    second = bt.bootstrap(cells, 200, np.random.default_rng(42))
    other = bt.bootstrap(cells, 200, np.random.default_rng(43))
    assert first.shape == (200, 10)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)
    np.testing.assert_allclose(first.mean(axis=1), 1000.0, atol=1e-9)


def test_bootstrap_intervals_cover_the_truth():
    covered = total = 0
    for seed in range(3):
        rng = np.random.default_rng(100 + seed)
        truth = rng.normal(1000.0, 150.0, 20)
        cells = pairs.aggregate(*battles(rng, truth, 20_000), 20)
        low, high = confidence.intervals(bt.bootstrap(cells, 500, rng))
        target = centred(truth)
        covered += int(np.sum((low <= target) & (target <= high)))
        total += truth.size
    assert covered / total >= 0.85


def test_bootstrap_widths_match_fisher_standard_errors():
    # Without ties: with ties the half-win likelihood's Hessian overstates the variance
    # (a tie scores 1/2 with no spread), while the bootstrap sees the actual, smaller one.
    rng = np.random.default_rng(21)
    truth = rng.normal(1000.0, 150.0, 15)
    cells = pairs.aggregate(*battles(rng, truth, 30_000, tie=0.0), 15)
    ratings = bt.fit(cells)
    low, high = confidence.intervals(bt.bootstrap(cells, 1000, rng, start=ratings))
    expected = 2.0 * 1.959964 * fisher_se(cells, ratings)
    np.testing.assert_allclose(high - low, expected, rtol=0.15)
    assert np.all((low < ratings) & (ratings < high))


def test_decisive_bootstrap_resamples_ties_but_fits_decisive_battles():
    rng = np.random.default_rng(21)
    truth = rng.normal(1000.0, 150.0, 6)
    a, b, outcome = battles(rng, truth, 4000, tie=0.4)
    cells = pairs.aggregate(a, b, outcome, 6)
    point = bt.fit(pairs.decisive_cells(cells))
    samples = bt.bootstrap(cells, 400, np.random.default_rng(2), decisive=True)
    assert samples.shape == (400, 6)
    np.testing.assert_allclose(samples.mean(axis=0), point, atol=4.0)
    # The same decisive battles without any tie give the same point and similar spreads.
    keep = outcome < 2
    alone = pairs.aggregate(a[keep], b[keep], outcome[keep], 6)
    np.testing.assert_allclose(bt.fit(alone), point, atol=1e-9)
    spread = samples.std(axis=0) / bt.bootstrap(alone, 400, np.random.default_rng(3)).std(axis=0)
    assert np.all((spread > 0.8) & (spread < 1.25))
