"""Davidson's tie model: analytic derivatives, an independent optimiser, a known truth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from arena.ratings import bradley_terry as bt
from arena.ratings import davidson, pairs
from arena.ratings.resampling import Multinomial

NAT = math.log(10.0) / 400.0


def davidson_votes(rng: np.random.Generator, truth: np.ndarray, votes: int, nu: float):
    """``votes`` votes on random pairs drawn from Davidson's model at ratings ``truth``."""
    n = truth.size
    a = rng.integers(0, n, votes)
    b = (a + rng.integers(1, n, votes)) % n
    xa, xb = 10.0 ** (truth[a] / 400.0), 10.0 ** (truth[b] / 400.0)
    tie = nu * np.sqrt(xa * xb)
    u = rng.random(votes) * (xa + xb + tie)
    return a, b, np.where(u < xa, 0, np.where(u < xa + tie, 2, 1))


def log_posterior(params: np.ndarray, cells: pairs.Cells) -> float:
    """The log-posterior written out plainly, per pair (the module docstring's formula)."""
    n = cells.n_models
    theta, lam = params[:n], params[n]
    ta, tb = theta[cells.a], theta[cells.b]
    log_d = np.logaddexp(np.logaddexp(ta, tb), lam + 0.5 * (ta + tb))
    value = np.sum(
        cells.wins_a * ta
        + cells.wins_b * tb
        + cells.ties * (lam + 0.5 * (ta + tb))
        - cells.battles * log_d
    )
    value -= 0.5 * bt.MU * float(theta @ theta)
    value += davidson.PRIOR_TIES * lam - (davidson.PRIOR_TIES + davidson.PRIOR_DECISIVE) * math.log(
        2.0 + math.exp(lam)
    )
    return float(value)


@pytest.mark.parametrize("dense", [True, False])
def test_gradient_and_hessian_match_finite_differences(dense):
    rng = np.random.default_rng(3)
    cells = pairs.aggregate(*davidson_votes(rng, rng.normal(1000, 120, 6), 400, 0.6), 6)
    graph = bt._Graph(cells)
    graph.dense = dense
    rounds = davidson._Rounds(graph, *davidson._split(davidson._counts(cells), graph.p))
    params = np.r_[rng.normal(0, 0.5, 6), -0.3]
    eps = 1e-6
    unit = np.eye(7)
    numeric = [
        (log_posterior(params + eps * e, cells) - log_posterior(params - eps * e, cells))
        / (2 * eps)
        for e in unit
    ]
    np.testing.assert_allclose(rounds.gradient(params[None])[0], numeric, atol=1e-6)
    numeric_h = [
        (
            rounds.gradient((params + eps * e)[None])[0]
            - rounds.gradient((params - eps * e)[None])[0]
        )
        / (2 * eps)
        for e in unit
    ]
    np.testing.assert_allclose(rounds.hessian(params[None])[0], -np.array(numeric_h), atol=1e-6)


def test_fit_agrees_with_an_independent_optimiser():
    optimize = pytest.importorskip("scipy.optimize")
    rng = np.random.default_rng(5)
    cells = pairs.aggregate(*davidson_votes(rng, rng.normal(1000, 150, 7), 900, 0.8), 7)
    ratings, nu = davidson.fit(cells)
    result = optimize.minimize(
        lambda p: -log_posterior(p, cells), np.zeros(8), method="BFGS", options={"gtol": 1e-9}
    )
    reference = 1000.0 + (result.x[:7] - result.x[:7].mean()) / NAT
    np.testing.assert_allclose(ratings, reference, atol=0.01)
    assert nu == pytest.approx(math.exp(result.x[7]), rel=1e-4)
    assert ratings.mean() == pytest.approx(1000.0, abs=1e-9)


def test_fit_recovers_the_truth_and_the_tie_rate_without_shrinking_the_scale():
    rng = np.random.default_rng(8)
    truth = np.linspace(850, 1150, 6)
    nu = 2 * 0.3 / 0.7  # 30% ties between equal models
    cells = pairs.aggregate(*davidson_votes(rng, truth, 200_000, nu), 6)
    ratings, fitted_nu = davidson.fit(cells)
    np.testing.assert_allclose(ratings, truth, atol=6.0)
    assert fitted_nu / (2 + fitted_nu) == pytest.approx(0.3, abs=0.01)
    # The half-win fit of the same votes squeezes the scale: ties pull ratings together.
    half = bt.fit(cells)
    assert np.ptp(half) < 0.85 * np.ptp(truth)
    assert np.ptp(ratings) == pytest.approx(np.ptp(truth), rel=0.03)


def test_no_ties_keeps_nu_small_and_finite():
    rng = np.random.default_rng(1)
    a, b, outcome = davidson_votes(rng, np.linspace(900, 1100, 5), 2000, 0.0)
    assert not np.any(outcome == 2)
    cells = pairs.aggregate(a, b, outcome, 5)
    ratings, nu = davidson.fit(cells)
    assert 0 < nu < 0.01
    np.testing.assert_allclose(ratings, bt.fit(cells), atol=1.0)  # all but plain BT


def test_bootstrap_is_reproducible_and_marks_absent_models():
    rng = np.random.default_rng(4)
    a, b, outcome = davidson_votes(rng, np.linspace(900, 1100, 5), 60, 0.5)
    cells = pairs.aggregate(a, b, outcome, 6)  # model 5 never played
    start = davidson.fit(cells)
    sampler = Multinomial(davidson._counts(cells)[0])
    first = davidson.bootstrap(cells, sampler, 300, np.random.default_rng(7), start=start)
    again = davidson.bootstrap(cells, sampler, 300, np.random.default_rng(7), start=start)
    np.testing.assert_array_equal(first, again)
    assert np.all(np.isnan(first[:, 5]))
    assert np.all(np.isfinite(first[:, :5]))
    spread = np.nanstd(first[:, :5], axis=0)
    assert np.all((spread > 20) & (spread < 300))  # 60 votes: wide but finite
