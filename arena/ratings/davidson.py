"""Davidson's tie model for the published rating: fit and bootstrap fits, on the Elo scale.

The model: with strengths ``x = exp(theta)`` (``theta`` the log-odds of a rating, as in
:mod:`arena.ratings.bradley_terry`) and a tie parameter ``nu > 0``,

    P(i beats j) = x_i / D,   P(tie) = nu * sqrt(x_i * x_j) / D,
    D = x_i + x_j + nu * sqrt(x_i * x_j)

so that in a *decisive* vote ``P(i beats j) = x_i / (x_i + x_j)``: 400 points are 10:1 odds,
as on the half-win scale, but ties no longer shrink the ratings toward each other. The tie
rate between two equal models is ``nu / (2 + nu)``, fitted with the ratings. Ties carry a
little information too: they are likeliest between equal models.

**Fit.** Maximum a posteriori over ``(theta, lambda = log nu)`` with the normal prior of
:mod:`arena.ratings.bradley_terry` on ``theta`` (the same ``PRIOR_SD``) and, on ``lambda``,
one virtual tie and one virtual decisive vote between equal models (it keeps ``nu`` finite
when a resample has no tie at all and weighs nothing against real votes). The log-posterior
is concave in these coordinates; Newton's method runs on the ``n + 1`` parameters with the
analytic gradient and Hessian below and the solver of ``bradley_terry`` (a shared Hessian
for bootstrap rounds, exact steps where that is slow).

With ``s = sqrt(x)``, per pair ``(i, j)`` with ``N`` battles the log-likelihood is
``score_i * theta_i + score_j * theta_j + t * lambda - N * log D`` (``score`` = wins plus half
the ties, as for the half-win fit), so

- ``d/d theta_i = score_i - sum_j N_ij (x_i + nu/2 s_i s_j) / D_ij``,
- ``d/d lambda = T - nu * sum_pairs N s_i s_j / D``,
- the negative Hessian in ``theta`` is a graph Laplacian with weights
  ``N (x_i x_j + nu/4 s_i s_j (x_i + x_j)) / D**2``; the cross term for model ``i`` is
  ``sum_j N nu s_i s_j (x_j - x_i) / (2 D**2)``; the ``lambda`` term is
  ``nu * sum_pairs N s_i s_j (x_i + x_j) / D**2``.
"""

from __future__ import annotations

import math

import numpy as np

from arena.ratings import bradley_terry as bt
from arena.ratings.bradley_terry import MU, _chunk, _Graph, _newton, _to_ratings
from arena.ratings.pairs import Cells
from arena.ratings.resampling import Multinomial, VoteResampler

#: Virtual votes between equal models in the prior on ``nu``: ties, then decisive votes.
PRIOR_TIES, PRIOR_DECISIVE = 1.0, 1.0
_PRIOR_VOTES = PRIOR_TIES + PRIOR_DECISIVE
_NAT = bt._NAT


class _Rounds:
    """Battles of ``R`` count vectors over a graph's pairs: gradient and Hessian of the
    log-posterior in ``(theta, lambda)``, shape ``(R, n + 1)`` / ``(R, n + 1, n + 1)``."""

    def __init__(
        self, graph: _Graph, wins_a: np.ndarray, wins_b: np.ndarray, ties: np.ndarray
    ) -> None:
        """Float counts ``(R, p)`` per pair: wins of ``a``, wins of ``b``, ties."""
        self.graph = graph
        half = 0.5 * ties
        score_a, score_b = wins_a + half, wins_b + half
        self.ties = ties.sum(axis=1)  #: ties per row ``(R,)``
        self.score, self.battles = graph.scores_and_battles(score_a, score_b)

    def subset(self, keep: np.ndarray) -> _Rounds:
        """The rows selected by boolean ``keep``."""
        out = object.__new__(_Rounds)
        out.graph = self.graph
        out.score, out.battles, out.ties = self.score[keep], self.battles[keep], self.ties[keep]
        return out

    def _terms(self, params: np.ndarray):
        """Per pair (dense: per ordered pair): ``x_i``, ``x_j``, ``nu s_i s_j``, ``D``; ``nu``."""
        g, n = self.graph, self.graph.n
        theta = params[:, :n]
        shifted = theta - theta.max(axis=1, keepdims=True)
        np.maximum(shifted, -600.0, out=shifted)
        x = np.exp(shifted)
        s = np.exp(0.5 * shifted)
        nu = np.exp(params[:, n])
        if g.dense:
            xi, xj = x[:, :, None], x[:, None, :]
            tie = s[:, :, None] * s[:, None, :]
            tie *= nu[:, None, None]
        else:
            xi, xj = x[:, g.a], x[:, g.b]
            tie = s[:, g.a] * s[:, g.b]
            tie *= nu[:, None]
        d = xi + xj
        d += tie
        return x, xi, xj, tie, d, nu

    def gradient(self, params: np.ndarray) -> np.ndarray:
        """Gradient ``(R, n + 1)`` of the log-posterior."""
        g, n = self.graph, self.graph.n
        x, _, _, tie, d, nu = self._terms(params)
        q = self.battles / d  # N / D
        tq = tie * q  # N nu s_i s_j / D
        out = np.empty_like(params)
        if g.dense:
            out[:, :n] = self.score - x * q.sum(axis=2) - 0.5 * tq.sum(axis=2)
            expected_ties = 0.5 * tq.sum(axis=(1, 2))
        else:
            out[:, :n] = self.score - x * g.to_models(q, q) - 0.5 * g.to_models(tq, tq)
            expected_ties = tq.sum(axis=1)
        out[:, :n] -= MU * params[:, :n]
        out[:, n] = self.ties - expected_ties + PRIOR_TIES - _PRIOR_VOTES * nu / (2.0 + nu)
        return out

    def hessian(self, params: np.ndarray) -> np.ndarray:
        """Negative Hessian ``(R, n + 1, n + 1)`` of the log-posterior."""
        g, n = self.graph, self.graph.n
        _, xi, xj, tie, d, nu = self._terms(params)
        d *= d
        q2 = self.battles / d  # N / D^2
        w = xi * xj + 0.25 * tie * (xi + xj)
        w *= q2
        cross = 0.5 * tie * q2  # times (x_j - x_i) for model i's row
        h = np.zeros((params.shape[0], n + 1, n + 1))
        if g.dense:
            laplacian = -w
            cross_i = (cross * (xj - xi)).sum(axis=2)
            lam = 0.5 * (tie * q2 * (xi + xj)).sum(axis=(1, 2))
        else:
            laplacian = -g.to_matrix(w, w)
            cross_i = g.to_models(cross * (xj - xi), cross * (xi - xj))
            lam = (tie * q2 * (xi + xj)).sum(axis=1)
        flat = laplacian.reshape(laplacian.shape[0], n * n)
        flat[:, g.diag] = 0.0
        flat[:, g.diag] = MU - laplacian.sum(axis=2)
        h[:, :n, :n] = laplacian
        h[:, :n, n] = cross_i
        h[:, n, :n] = cross_i
        h[:, n, n] = lam + _PRIOR_VOTES * 2.0 * nu / (2.0 + nu) ** 2
        return h


def _start_lambda(ties: float, total: float) -> float:
    """``log nu`` whose tie rate between equal models is the observed one (with the prior)."""
    rate = (ties + PRIOR_TIES) / (total + _PRIOR_VOTES)
    return math.log(2.0 * rate / (1.0 - rate))


def _split(counts: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Float ``wins_a``, ``wins_b``, ``ties`` ``(R, p)`` from cell counts ``(R, 3p)``."""
    c = counts.reshape(counts.shape[0], 3, p).astype(np.float64)
    return c[:, 0], c[:, 1], c[:, 2]


def _fit_rows(
    graph: _Graph,
    counts: np.ndarray,
    start: np.ndarray,
    shared: np.ndarray | None,
    tol: float,
    max_iter: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Ratings ``(R, n)`` and ``nu`` ``(R,)`` for cell counts ``(R, 3p)`` from ``start``
    ``(n + 1,)`` (log-odds, then ``log nu``)."""
    rows, n = counts.shape[0], graph.n
    ratings, nu = np.empty((rows, n)), np.empty(rows)
    chunk = _chunk(graph)
    for lo in range(0, rows, chunk):
        hi = min(rows, lo + chunk)
        params = np.repeat(start[None, :], hi - lo, axis=0)
        if graph.p:
            rounds = _Rounds(graph, *_split(counts[lo:hi], graph.p))
            params = _newton(rounds, params, tol * _NAT, max_iter, shared)
        ratings[lo:hi] = _to_ratings(params[:, :n])
        nu[lo:hi] = np.exp(params[:, n])
    return ratings, nu


def _counts(cells: Cells) -> np.ndarray:
    return np.concatenate([cells.wins_a, cells.wins_b, cells.ties])[None, :]


def fit(cells: Cells, *, max_iter: int = 100, tol: float = 1e-8) -> tuple[np.ndarray, float]:
    """Davidson ratings of ``cells``' models and the tie parameter ``nu`` (MAP, see above).

    Args:
        cells: battles per pair.
        max_iter: Newton iterations allowed.
        tol: convergence when the largest step (less a uniform shift of the ratings) is below
            ``tol`` rating points.

    Returns:
        ``(ratings, nu)``: float64 ``(n_models,)`` ratings with mean ``ANCHOR`` (a model
        without battles gets ``ANCHOR``) and ``nu`` (the tie rate between equal models is
        ``nu / (2 + nu)``).

    Raises:
        RuntimeError: no convergence in ``max_iter`` iterations.
    """
    graph = _Graph(cells)
    start = np.zeros(graph.n + 1)
    start[graph.n] = _start_lambda(float(cells.ties.sum()), float(cells.total))
    ratings, nu = _fit_rows(graph, _counts(cells), start, None, tol, max_iter)
    return ratings[0], float(nu[0])


def bootstrap(
    cells: Cells,
    sampler: VoteResampler | Multinomial,
    rounds: int,
    rng: np.random.Generator,
    *,
    start: tuple[np.ndarray, float],
    tol: float = 1e-4,
) -> np.ndarray:
    """Davidson ratings of ``rounds`` bootstrap resamples of the votes.

    Rounds start from the full-data fit and share its Hessian (see
    :mod:`arena.ratings.bradley_terry`); work is done in chunks of rounds to bound memory.

    Args:
        cells: the observed battles.
        sampler: draws each round's cell counts (``wins_a``, ``wins_b``, ``ties`` cells).
        rounds: number of rounds (0 or more).
        rng: the random generator; the same seed gives the same samples.
        start: the full-data :func:`fit` ``(ratings, nu)``.
        tol: convergence of each round, in rating points.

    Returns:
        float64 ``(rounds, n_models)``; NaN for a model without battles in that round.

    Raises:
        RuntimeError: a round did not converge.
    """
    graph, p = _Graph(cells), np.size(cells.a)
    n = graph.n
    if rounds == 0 or cells.total == 0:
        return np.full((rounds, n), np.nan)  # no battle: no model has a rating
    ratings, nu = start
    params = np.empty(n + 1)
    params[:n] = (ratings - ratings.mean()) * _NAT
    params[n] = math.log(nu)
    full = _Rounds(graph, *_split(_counts(cells), p))
    shared = np.linalg.inv(full.hessian(params[None, :])[0])
    out = np.empty((rounds, n))
    battles = cells.model_battles
    chunk = _chunk(graph)
    for lo in range(0, rounds, chunk):
        hi = min(rounds, lo + chunk)
        counts = sampler.draw(rng, hi - lo)
        out[lo:hi] = _fit_rows(graph, counts, params, shared, tol, bt._BOOT_MAX_ITER)[0]
        bt.mark_absent(graph, counts.reshape(hi - lo, 3, p), out[lo:hi], battles)
    return out
