"""Bradley-Terry ratings for the published leaderboard: the model, its fit and bootstrap fits.

The model: ``P(i beats j) = 1 / (1 + BASE**((r_j - r_i) / SCALE))`` on the Elo scale, a tie
counting as half a win for each side, ratings anchored so that their mean is ``ANCHOR``.

Everything works on battles aggregated per unordered pair of models (:class:`Cells`, from
:func:`arena.ratings.pairs.aggregate`): the likelihood only depends on each pair's number of
battles and score, so a fit costs ``O(pairs)``, never ``O(battles)``. Internally ratings are
natural log-odds ``theta = (r - ANCHOR) * ln(BASE) / SCALE``.

**Prior.** Every fit maximises the log-likelihood plus a normal prior on each model's
log-odds: ``theta ~ N(0, sigma**2)`` with ``sigma`` worth ``PRIOR_SD`` rating points, i.e. a
penalty ``MU / 2 * sum(theta**2)`` with ``MU = 1 / sigma**2``. A model is pulled toward the
mean by about ``MU / (MU + information)`` of its distance, where its information is about a
quarter per battle against a near-equal opponent: with ``PRIOR_SD = 200`` (``MU = 0.75``, as
much as three tied battles against an average model) the pull is 23% at 10 battles, 6% at
50, 1% at 300, and it fades away as votes grow. It keeps thin data finite and honest (the
winner of a single battle sits about 140 points above its opponent, not 840) and
makes the problem strictly concave, so the answer is unique; the ratings' mean is exactly
``ANCHOR`` at the optimum; a model with no battles stays at ``ANCHOR``; separate pieces of
the comparison graph are each centred on ``ANCHOR``.

**Solver.** Newton's method on the penalised log-likelihood with the analytic gradient and
Hessian, steps capped at ``MAX_STEP`` and convergence when the largest step (less its mean:
a uniform shift is anchored away) is below ``tol`` rating points. For many count vectors at
once (bootstrap rounds), every row starts from the full-data fit and iterates with one
shared Hessian (the full data's, at that fit): an iteration is then a gradient and a matrix
product, with linear convergence at a small rate (about 0.02 per iteration at 1M battles,
0.1 at 10k). A row whose steps stop shrinking fast switches to its own exact Newton steps
(batched ``np.linalg.solve``), e.g. when a resample leaves a model undefeated. Gradients
use ``x = exp(theta)``: ``P(a beats b) = x_a / (x_a + x_b)``, one exponential per model;
on a well-filled comparison graph a batch is held as dense ``(R, n, n)`` matrices.

**Bootstrap.** Resampling the battles with replacement is the same as drawing the counts of
the ``3p`` (pair, outcome) cells from a multinomial with ``n = total`` battles:
:func:`bootstrap` draws them exactly (:class:`~arena.ratings.resampling.Multinomial`) and fits
the rounds in batches as above.
"""

from __future__ import annotations

import math

import numpy as np

from arena.ratings.pairs import Cells, decisive_cells
from arena.ratings.resampling import Multinomial, VoteResampler

SCALE = 400.0
BASE = 10.0
ANCHOR = 1000.0

#: Standard deviation of the prior on a model's rating, in rating points (see the docstring).
PRIOR_SD = 200.0
#: Largest Newton step, in rating points (a step is scaled down to it).
MAX_STEP = 350.0

_NAT = math.log(BASE) / SCALE  # log-odds per rating point
MU = 1.0 / (PRIOR_SD * _NAT) ** 2  # curvature of the prior, per model, in log-odds units
_CHUNK_ELEMENTS = 1 << 19  # rounds per chunk: about this many elements per working array
_BOOT_MAX_ITER = 100
# Battles from which a model is in every round: absent with probability about exp(-250 / k)
# when votes of k outcomes are resampled whole (below 1e-18 for k up to 6).
_ALWAYS_PRESENT = 250
_SLOW_RATIO = 0.8  # fixed-Hessian steps must shrink at least this fast, else exact Newton


class _Graph:
    """Index arithmetic for the pairs of :class:`Cells`, shared by every batch over them.

    A batch is held *dense* (an ``(R, n, n)`` matrix of battles, broadcasting over model
    pairs) when at least about a third of all pairs have battles, as on a typical
    leaderboard; otherwise as ``(R, p)`` pair lists with gathers and segment sums.
    """

    def __init__(self, cells: Cells) -> None:
        self.n = n = int(cells.n_models)
        self.a = a = np.asarray(cells.a, dtype=np.int64)
        self.b = b = np.asarray(cells.b, dtype=np.int64)
        self.p = p = a.size
        if p and (np.any(a < 0) or np.any(a >= b) or np.any(b >= n)):
            raise ValueError("cells need 0 <= a < b < n_models")
        self.off_ab = a * n + b
        self.off_ba = b * n + a
        self.diag = np.arange(n) * (n + 1)
        self.dense = 7 * p >= n * n
        # Sums of per-pair values onto models: a product with dense incidence matrices when
        # models are few, sorted segment sums otherwise.
        self.inc_a: np.ndarray | None = None
        if n <= 160:
            self.inc_a = np.zeros((p, n))
            self.inc_a[np.arange(p), a] = 1.0
            self.inc_b = np.zeros((p, n))
            self.inc_b[np.arange(p), b] = 1.0
            self.inc_ab = self.inc_a + self.inc_b
        else:
            self.order_a = np.argsort(a, kind="stable")
            self.order_b = np.argsort(b, kind="stable")
            self.starts_a, self.models_a = _segments(a[self.order_a])
            self.starts_b, self.models_b = _segments(b[self.order_b])

    def to_models(self, at_a: np.ndarray, at_b: np.ndarray) -> np.ndarray:
        """``(R, n)``: per model, ``at_a`` summed over its pairs as ``a`` plus ``at_b`` as ``b``."""
        if self.inc_a is not None:
            if at_a is at_b:
                return at_a @ self.inc_ab
            return at_a @ self.inc_a + at_b @ self.inc_b
        out = np.zeros((at_a.shape[0], self.n))
        if self.p:
            out[:, self.models_a] += np.add.reduceat(at_a[:, self.order_a], self.starts_a, axis=1)
            out[:, self.models_b] += np.add.reduceat(at_b[:, self.order_b], self.starts_b, axis=1)
        return out

    def scores_and_battles(
        self, score_a: np.ndarray, score_b: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per row: each model's score ``(R, n)``, and the battles per pair, ``(R, n, n)``
        if the graph is dense, else ``(R, p)``, from the pairs' scores ``(R, p)``."""
        if self.dense:
            versus = self.to_matrix(score_a, score_b)  # [i, j]: score of i against j
            return versus.sum(axis=2), versus + versus.transpose(0, 2, 1)
        return self.to_models(score_a, score_b), score_a + score_b

    def to_matrix(self, at_ab: np.ndarray, at_ba: np.ndarray) -> np.ndarray:
        """``(R, n, n)`` matrices: ``at_ab`` ``(R, p)`` at ``(a, b)``, ``at_ba`` at ``(b, a)``."""
        r, n = at_ab.shape[0], self.n
        m = np.zeros((r, n * n))
        m[:, self.off_ab] = at_ab
        m[:, self.off_ba] = at_ba
        return m.reshape(r, n, n)


def _segments(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start positions and values of the runs of equal values in ``sorted_keys``."""
    if sorted_keys.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    return starts, sorted_keys[starts]


class _Rounds:
    """Battles of ``R`` count vectors over a graph's pairs, for gradients and Hessians.

    With ``x = exp(theta)`` (shifted per row, which changes nothing), ``P(a beats b) =
    x_a / (x_a + x_b)``: the gradient of the log-likelihood for model ``i`` is its score
    ``s_i`` minus ``x_i * sum_j N_ij / (x_i + x_j)``, one exponential per model, none per pair.
    """

    def __init__(self, graph: _Graph, score_a: np.ndarray, score_b: np.ndarray) -> None:
        """``score_a``, ``score_b``: float ``(R, p)``, wins of ``a`` (``b``) plus half the ties."""
        self.graph = graph
        self.score: np.ndarray  #: score per row and model (wins + half the ties), ``(R, n)``
        self.battles: np.ndarray  #: battles ``(R, n, n)`` if the graph is dense, else ``(R, p)``
        self.score, self.battles = graph.scores_and_battles(score_a, score_b)

    def subset(self, keep: np.ndarray) -> _Rounds:
        """The rows selected by boolean ``keep``."""
        out = object.__new__(_Rounds)
        out.graph, out.score, out.battles = self.graph, self.score[keep], self.battles[keep]
        return out

    def _x(self, theta: np.ndarray) -> np.ndarray:
        shifted = theta - theta.max(axis=1, keepdims=True)
        np.maximum(shifted, -600.0, out=shifted)  # keeps x_a + x_b > 0 in float64
        return np.exp(shifted, out=shifted)

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        """Gradient ``(R, n)`` of the penalised log-likelihood at log-odds ``theta``."""
        g = self.graph
        x = self._x(theta)
        if g.dense:
            t = x[:, :, None] + x[:, None, :]
            np.divide(self.battles, t, out=t)
            q = t.sum(axis=2)
        else:
            t = x[:, g.a] + x[:, g.b]
            np.divide(self.battles, t, out=t)
            q = g.to_models(t, t)
        q *= x
        grad = self.score - q
        grad -= MU * theta
        return grad

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        """Negative Hessian ``(R, n, n)`` of the penalised log-likelihood at ``theta``."""
        g = self.graph
        x = self._x(theta)
        if g.dense:
            t = x[:, :, None] + x[:, None, :]
            w = x[:, :, None] * x[:, None, :]
            w *= self.battles
        else:
            t = x[:, g.a] + x[:, g.b]
            w = x[:, g.a] * x[:, g.b]
            w *= self.battles
        t *= t
        np.divide(w, t, out=w)  # N P (1 - P)
        h = w if g.dense else g.to_matrix(w, w)
        np.negative(h, out=h)
        flat = h.reshape(h.shape[0], g.n * g.n)
        flat[:, g.diag] = 0.0
        flat[:, g.diag] = MU - h.sum(axis=2)
        return h


def _newton(
    rounds: _Rounds,
    theta: np.ndarray,
    tol: float,
    max_iter: int,
    shared_inverse: np.ndarray | None,
) -> np.ndarray:
    """Maximise the penalised log-likelihood for each row; updates and returns ``theta``.

    ``theta`` is ``(R, n + e)``: ``n = rounds.graph.n`` log-odds, then ``e`` other
    parameters (Davidson's tie parameter), and ``tol`` is in log-odds. With ``shared_inverse``
    (``(n, n)``), rows start with fixed-Hessian steps and switch to exact Newton steps when
    their size shrinks by less than ``_SLOW_RATIO`` per iteration.
    """
    rows, n = theta.shape[0], rounds.graph.n
    active = np.arange(rows)
    exact = np.full(rows, shared_inverse is None)
    last = np.full(rows, np.inf)
    th = theta
    max_step = MAX_STEP * _NAT
    for _ in range(max_iter):
        grad = rounds.gradient(th)
        ex = exact[active]
        if ex.all():
            step = np.linalg.solve(rounds.hessian(th), grad[:, :, None])[:, :, 0]
        else:
            step = grad @ shared_inverse
            if ex.any():
                h = rounds.subset(ex).hessian(th[ex])
                step[ex] = np.linalg.solve(h, grad[ex][:, :, None])[:, :, 0]
        # Step size without its uniform part: a shift of all ratings is anchored away anyway.
        core = step[:, :n]
        size = np.abs(core - core.mean(axis=1, keepdims=True)).max(axis=1, initial=0.0)
        if step.shape[1] > n:
            np.maximum(size, np.abs(step[:, n:]).max(axis=1), out=size)
        slow = ~ex & (size > _SLOW_RATIO * last[active])
        if slow.any():  # fixed-Hessian steps not contracting: redo these rows exactly
            step[slow] = 0.0
            size[slow] = np.inf
            exact[active[slow]] = True
        big = size > max_step
        if big.any():
            step[big] *= (max_step / size[big])[:, None]
        th += step
        last[active] = size
        done = size < tol
        if done.any():
            theta[active] = th
            keep = ~done
            active = active[keep]
            if active.size == 0:
                return theta
            th = th[keep]
            rounds = rounds.subset(keep)
    raise RuntimeError(f"Bradley-Terry fit did not converge in {max_iter} iterations")


def _to_ratings(theta: np.ndarray) -> np.ndarray:
    """Log-odds ``(..., n)`` to ratings with mean ``ANCHOR`` along the last axis."""
    if theta.shape[-1] == 0:
        return theta.copy()
    centred = theta - theta.mean(axis=-1, keepdims=True)
    return ANCHOR + centred / _NAT


def _scores(wins_a, wins_b, ties) -> tuple[np.ndarray, np.ndarray]:
    """Float scores of ``a`` and of ``b`` (wins plus half the ties) from count arrays."""
    wa = np.asarray(wins_a)
    wb = np.asarray(wins_b)
    t = np.asarray(ties)
    if not (wa.shape == wb.shape == t.shape):
        raise ValueError("wins_a, wins_b and ties must have the same shape")
    if np.any(wa < 0) or np.any(wb < 0) or np.any(t < 0):
        raise ValueError("counts must be 0 or more")
    half = 0.5 * t.astype(np.float64)
    return wa + half, wb + half


def _shared_inverse(
    graph: _Graph, score_a: np.ndarray, score_b: np.ndarray, theta: np.ndarray
) -> np.ndarray:
    """Inverse ``(n, n)`` of the negative Hessian for scores ``(p,)`` at log-odds ``theta``."""
    h = _Rounds(graph, score_a[None, :], score_b[None, :]).hessian(theta[None, :])[0]
    return np.linalg.inv(h)


def _chunk(graph: _Graph) -> int:
    """Rows per chunk of a batch: working arrays of about ``_CHUNK_ELEMENTS`` elements."""
    width = graph.n * graph.n if graph.dense else max(graph.p, graph.n)
    return max(1, _CHUNK_ELEMENTS // max(width, 3 * graph.p, 1))


def _fit_rows(
    graph: _Graph,
    score_a: np.ndarray,
    score_b: np.ndarray,
    theta0: np.ndarray,
    shared: np.ndarray | None,
    tol: float,
    max_iter: int,
) -> np.ndarray:
    """Ratings ``(R, n)`` for float scores ``(R, p)`` from log-odds ``theta0`` ``(n,)``."""
    rows, n = score_a.shape[0], graph.n
    out = np.empty((rows, n))
    chunk = _chunk(graph)
    for lo in range(0, rows, chunk):
        hi = min(rows, lo + chunk)
        theta = np.repeat(theta0[None, :], hi - lo, axis=0)
        if graph.p:
            rounds = _Rounds(graph, score_a[lo:hi], score_b[lo:hi])
            theta = _newton(rounds, theta, tol * _NAT, max_iter, shared)
        out[lo:hi] = _to_ratings(theta)
    return out


def fit(cells: Cells, *, max_iter: int = 100, tol: float = 1e-8) -> np.ndarray:
    """Bradley-Terry ratings of ``cells``' models (maximum penalised likelihood).

    ``P(i beats j) = 1 / (1 + BASE**((r_j - r_i) / SCALE))``, a tie counting as half a win
    for each side; see the module docstring for the prior.

    Args:
        cells: battles per pair.
        max_iter: Newton iterations allowed.
        tol: convergence when the largest step (less a uniform shift) is below ``tol``
            rating points.

    Returns:
        float64 ``(n_models,)`` ratings with mean ``ANCHOR``; a model without battles gets
        ``ANCHOR``.

    Raises:
        RuntimeError: no convergence in ``max_iter`` iterations.
    """
    return fit_batch(
        cells.wins_a[None, :],
        cells.wins_b[None, :],
        cells.ties[None, :],
        cells,
        max_iter=max_iter,
        tol=tol,
    )[0]


def fit_batch(
    wins_a: np.ndarray,
    wins_b: np.ndarray,
    ties: np.ndarray,
    cells: Cells,
    *,
    start: np.ndarray | None = None,
    max_iter: int = 100,
    tol: float = 1e-8,
) -> np.ndarray:
    """:func:`fit` for ``R`` count vectors over ``cells``' pairs at once.

    Args:
        wins_a, wins_b, ties: counts ``(R, p)`` for the pairs ``cells.a``, ``cells.b`` (the
            counts stored in ``cells`` are not used, only its pairs and ``n_models``).
        cells: the pairs.
        start: optional ratings ``(n_models,)`` to start every row from (e.g. the full-data
            fit for bootstrap rounds). Rows then share the Hessian of their mean counts at
            ``start`` and fall back to exact Newton steps where that is slow. Without it,
            every row does exact Newton steps from ``ANCHOR``.
        max_iter: iterations allowed per row.
        tol: convergence when a row's largest step is below ``tol`` rating points.

    Returns:
        float64 ``(R, n_models)``: row ``r`` equals ``fit`` of count vector ``r``.

    Raises:
        ValueError: shapes do not match ``cells``.
        RuntimeError: a row did not converge in ``max_iter`` iterations.
    """
    score_a, score_b = _scores(wins_a, wins_b, ties)
    if score_a.ndim != 2 or score_a.shape[1] != np.size(cells.a):
        raise ValueError("counts must have shape (R, p) with p = len(cells.a)")
    graph = _Graph(cells)
    rows, n = score_a.shape[0], graph.n
    shared = None
    if start is None:
        theta0 = np.zeros(n)
    else:
        start = np.asarray(start, dtype=np.float64)
        if start.shape != (n,):
            raise ValueError("start must have shape (n_models,)")
        theta0 = (start - start.mean()) * _NAT if n else start.copy()
        if rows > 1 and graph.p:
            shared = _shared_inverse(graph, score_a.mean(axis=0), score_b.mean(axis=0), theta0)
    return _fit_rows(graph, score_a, score_b, theta0, shared, tol, max_iter)


def bootstrap(
    cells: Cells,
    rounds: int,
    rng: np.random.Generator,
    *,
    start: np.ndarray | None = None,
    tol: float = 1e-4,
    sampler: VoteResampler | Multinomial | None = None,
    decisive: bool = False,
) -> np.ndarray:
    """Bradley-Terry ratings of ``rounds`` resamplings (with replacement) of the battles.

    Each round's counts are multinomial over the ``(pair, outcome)`` cells with
    ``n = cells.total`` battles and the observed frequencies (the same as resampling the
    battles, far faster); rounds are then fitted together (:func:`fit_batch`) starting from
    the full-data fit. Work is done in chunks of rounds to bound memory.

    Args:
        cells: the observed battles.
        rounds: number of bootstrap rounds (0 or more).
        rng: the random generator; the same seed gives the same samples.
        start: the full-data fit if already computed (:func:`fit` of ``cells``).
        tol: convergence of each round, in rating points (a round then sits within about
            ``tol / 10`` of its optimum: far below the Monte Carlo error of any interval).
        sampler: draws the rounds' cell counts (default: battles resampled one by one):
            ``(R, 3p)`` in the layout of :func:`arena.ratings.pairs.cell_of`, or with
            ``decisive``, ``(R, 2p + 1)``, all ties in the last cell.
        decisive: fit each round's decisive battles only (the published default): rounds
            resample every battle, so the number of decisive ones varies as it should, and
            leave the ties out of the fit; ``start`` is then the fit of
            :func:`arena.ratings.pairs.decisive` cells.

    Returns:
        float64 ``(rounds, n_models)``; NaN for a model without battles in that round.

    Raises:
        ValueError: negative ``rounds``, or ``start`` not of shape ``(n_models,)``.
        RuntimeError: a round did not converge.
    """
    if rounds < 0:
        raise ValueError("rounds must be 0 or more")
    n, p = cells.n_models, np.size(cells.a)
    if sampler is None and cells.total:
        observed = _counts(cells)
        sampler = Multinomial(np.r_[observed[: 2 * p], cells.ties.sum()] if decisive else observed)
    if decisive:
        cells = decisive_cells(cells)
    if rounds == 0 or cells.total == 0:
        return np.full((rounds, n), np.nan)  # no battle: no model has a rating
    if start is None:
        start = fit(cells)
    start = np.asarray(start, dtype=np.float64)
    if start.shape != (n,):
        raise ValueError("start must have shape (n_models,)")
    graph = _Graph(cells)
    theta0 = (start - start.mean()) * _NAT
    shared = _shared_inverse(graph, *_scores(cells.wins_a, cells.wins_b, cells.ties), theta0)
    out = np.empty((rounds, n))
    battles = cells.model_battles
    chunk = _chunk(graph)
    for lo in range(0, rounds, chunk):
        hi = min(rounds, lo + chunk)
        drawn = sampler.draw(rng, hi - lo)
        if decisive:
            counts = drawn[:, : 2 * p].reshape(hi - lo, 2, p)
            score_a, score_b = counts[:, 0], counts[:, 1]
        else:
            counts = drawn.reshape(hi - lo, 3, p)
            half = counts[:, 2] * 0.5
            score_a, score_b = counts[:, 0] + half, counts[:, 1] + half
        out[lo:hi] = _fit_rows(graph, score_a, score_b, theta0, shared, tol, _BOOT_MAX_ITER)
        mark_absent(graph, counts, out[lo:hi], battles)
    return out


def _counts(cells: Cells) -> np.ndarray:
    """The ``3p`` cell counts of ``cells``: ``wins_a``, then ``wins_b``, then ``ties``."""
    return np.concatenate([cells.wins_a, cells.wins_b, cells.ties])


def mark_absent(
    graph: _Graph, counts: np.ndarray, ratings: np.ndarray, battles: np.ndarray
) -> None:
    """Set to NaN, in ``ratings`` ``(R, n)``, the models without battles in ``counts``
    ``(R, k, p)`` (``k`` outcomes per pair): a round that never saw a model says nothing
    about it. ``battles`` are the models' battles in the full data (no model is ever missing
    when all have many)."""
    if battles.min(initial=_ALWAYS_PRESENT) >= _ALWAYS_PRESENT:
        return  # every model has so many battles that no round can miss one
    per_pair = counts.sum(axis=1).astype(np.float64)
    ratings[graph.to_models(per_pair, per_pair) == 0] = np.nan
