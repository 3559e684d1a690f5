"""Bradley-Terry ratings with bootstrap confidence intervals, for the published leaderboard.

The model: ``P(i beats j) = 1 / (1 + BASE**((r_j - r_i) / SCALE))`` on the Elo scale, a tie
counting as half a win for each side, ratings anchored so that their mean is ``ANCHOR``.

Everything works on battles aggregated per unordered pair of models (:class:`Cells`): the
likelihood only depends on each pair's number of battles and score, so a fit costs
``O(pairs)``, never ``O(battles)``. Internally ratings are natural log-odds
``theta = (r - ANCHOR) * ln(BASE) / SCALE``.

**Regulariser.** A model that won (or lost) every battle, or a comparison graph in several
pieces, has no finite maximum-likelihood estimate. Every fit therefore maximises the
log-likelihood minus ``PRIOR / 8 * sum(theta**2)``: a quadratic pull toward the mean whose
curvature is that of ``PRIOR`` virtual tied battles per model against a phantom at the mean
rating (a tie at equal ratings has curvature 1/4 per battle). It makes the problem strictly
concave, so the answer is unique and finite; the ratings' mean is exactly ``ANCHOR`` at the
optimum; a model with no battles stays at ``ANCHOR``; separate pieces of the graph are each
centred on ``ANCHOR``; an undefeated model ends far above the rest but finite (about 840
points above its only opponent after a single win, 1,150 after 10 straight wins). With
``PRIOR = 0.01`` the fit differs from the unregularised MLE by thousandths of a point on a
well-connected leaderboard (0.01 points at 10k battles x 21 models, 0.001 at 1M x 100) and
by a tenth or two on thin data (0.09 at 200 battles x 10 models; 0.16 where a model has 6
losses in 2,000 battles): the pull on a model is about ``PRIOR / 4 * theta / information``.

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
the ``3p`` (pair, outcome) cells from a multinomial with ``n = total`` battles.
:class:`_Multinomial` draws it exactly, several times faster than ``Generator.multinomial``:
independent Poisson counts whose total has a mean two standard deviations below ``n`` (a
round that overshoots ``n`` is redrawn), topped up to exactly ``n`` by categorical draws.
Given its total ``m``, a Poisson vector is multinomial(``m``), and adding ``n - m``
independent draws makes it multinomial(``n``). Poisson and categorical draws invert tables
with guide tables (:class:`_PoissonTable`, :func:`_guide`), fed by 53-bit uniforms from
the generator's bit stream, so a seed gives the same samples everywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SCALE = 400.0
BASE = 10.0
ANCHOR = 1000.0

#: Strength of the regulariser, in virtual tied battles per model against the mean rating.
PRIOR = 0.01
#: Largest Newton step, in rating points (a step is scaled down to it).
MAX_STEP = 350.0

_NAT = math.log(BASE) / SCALE  # log-odds per rating point
_MU = PRIOR / 4.0  # curvature of the penalty, per model, in log-odds units
_CHUNK_ELEMENTS = 1 << 19  # rounds per chunk: about this many elements per working array
_SLACK_SD = 2.0  # Poisson total mean sits this many standard deviations below n
_GUIDE_PER_ENTRY = 8  # guide-table buckets per table entry (at least)
_BOOT_MAX_ITER = 100
_SLOW_RATIO = 0.8  # fixed-Hessian steps must shrink at least this fast, else exact Newton


@dataclass(frozen=True, eq=False)
class Cells:
    """Battles aggregated per unordered pair: ``a < b`` model indices, shape ``(p,)`` each.

    ``wins_a``, ``wins_b`` and ``ties`` are int64 counts of shape ``(p,)``; models are
    ``0 .. n_models - 1``. Compared by identity (``eq=False``): fields are arrays.
    """

    a: np.ndarray
    b: np.ndarray
    wins_a: np.ndarray
    wins_b: np.ndarray
    ties: np.ndarray
    n_models: int

    @property
    def battles(self) -> np.ndarray:
        """Battles per pair, int64 ``(p,)``."""
        return self.wins_a + self.wins_b + self.ties

    @property
    def total(self) -> int:
        """All battles."""
        return int(self.battles.sum())


def aggregate(
    model_a: np.ndarray, model_b: np.ndarray, outcome: np.ndarray, n_models: int
) -> Cells:
    """Count battles per unordered pair of models.

    Args:
        model_a, model_b: int model indices in ``[0, n_models)``, shape ``(n,)``, never equal.
        outcome: int ``(n,)``: 0 = ``model_a`` won, 1 = ``model_b`` won, 2 = tie.
        n_models: number of models.

    Returns:
        :class:`Cells` for the pairs that have at least one battle, sorted by ``(a, b)``;
        a battle listed as ``(b, a)`` is folded onto ``(a, b)`` with its winner swapped.

    Raises:
        ValueError: shapes differ, an index or outcome is out of range, or a model meets
            itself.
    """
    a = np.asarray(model_a, dtype=np.int64).ravel()
    b = np.asarray(model_b, dtype=np.int64).ravel()
    o = np.asarray(outcome).ravel()
    n = int(n_models)
    if not (a.shape == b.shape == o.shape):
        raise ValueError("model_a, model_b and outcome must have the same length")
    if n < 0:
        raise ValueError("n_models must be 0 or more")
    empty = np.zeros(0, dtype=np.int64)
    if a.size == 0:
        return Cells(empty, empty.copy(), empty.copy(), empty.copy(), empty.copy(), n)
    if min(a.min(), b.min()) < 0 or max(a.max(), b.max()) >= n:
        raise ValueError("model indices must be in [0, n_models)")
    if o.min() < 0 or o.max() > 2:
        raise ValueError("outcome must be 0 (a won), 1 (b won) or 2 (tie)")
    if np.any(a == b):
        raise ValueError("a model cannot battle itself")
    swap = a > b
    lo = np.where(swap, b, a)
    hi = np.where(swap, a, b)
    o = o.astype(np.int64)
    # Swapped battles: a win for model_a is a win for the pair's b, and vice versa.
    o = np.where(swap & (o < 2), 1 - o, o)
    key = lo * n + hi
    if 3 * n * n <= max(8 * a.size, 1 << 20):
        counts = np.bincount(key * 3 + o, minlength=3 * n * n).reshape(n * n, 3)
        pairs = np.flatnonzero(counts.any(axis=1))
        counts = counts[pairs]
    else:
        pairs, inverse = np.unique(key, return_inverse=True)
        counts = np.bincount(inverse * 3 + o, minlength=3 * pairs.size).reshape(-1, 3)
    return Cells(
        a=pairs // n,
        b=pairs % n,
        wins_a=np.ascontiguousarray(counts[:, 0]),
        wins_b=np.ascontiguousarray(counts[:, 1]),
        ties=np.ascontiguousarray(counts[:, 2]),
        n_models=n,
    )


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
        if graph.dense:
            versus = graph.to_matrix(score_a, score_b)  # [i, j]: score of i against j
            self.score = versus.sum(axis=2)
            self.battles = versus + versus.transpose(0, 2, 1)
        else:
            self.score = graph.to_models(score_a, score_b)
            self.battles = score_a + score_b

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
        grad -= _MU * theta
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
        flat[:, g.diag] = _MU - h.sum(axis=2)
        return h


def _newton(
    rounds: _Rounds,
    theta: np.ndarray,
    tol: float,
    max_iter: int,
    shared_inverse: np.ndarray | None,
) -> np.ndarray:
    """Maximise the penalised log-likelihood for each row; updates and returns ``theta``.

    ``theta`` is ``(R, n)`` log-odds and ``tol`` is in log-odds. With ``shared_inverse``
    (``(n, n)``), rows start with fixed-Hessian steps and switch to exact Newton steps when
    their size shrinks by less than ``_SLOW_RATIO`` per iteration.
    """
    rows = theta.shape[0]
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
        # Step size without its uniform part: a shift of all ratings is anchored away anyway,
        # and along that direction (curvature _MU only) rounding noise is amplified 1/_MU-fold.
        size = np.abs(step - step.mean(axis=1, keepdims=True)).max(axis=1, initial=0.0)
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
    for each side; see the module docstring for the tiny regulariser.

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

    Returns:
        float64 ``(rounds, n_models)``.
    """
    if rounds < 0:
        raise ValueError("rounds must be 0 or more")
    n, p = cells.n_models, np.size(cells.a)
    total = cells.total
    if rounds == 0 or total == 0:
        return np.full((rounds, n), ANCHOR)
    if start is None:
        start = fit(cells)
    start = np.asarray(start, dtype=np.float64)
    if start.shape != (n,):
        raise ValueError("start must have shape (n_models,)")
    graph = _Graph(cells)
    theta0 = (start - start.mean()) * _NAT
    shared = _shared_inverse(graph, *_scores(cells.wins_a, cells.wins_b, cells.ties), theta0)
    sampler = _Multinomial(np.concatenate([cells.wins_a, cells.wins_b, cells.ties]))
    out = np.empty((rounds, n))
    chunk = _chunk(graph)
    for lo in range(0, rounds, chunk):
        hi = min(rounds, lo + chunk)
        counts = sampler.draw(rng, hi - lo).reshape(hi - lo, 3, p)
        half = counts[:, 2] * 0.5
        score_a, score_b = counts[:, 0] + half, counts[:, 1] + half
        out[lo:hi] = _fit_rows(graph, score_a, score_b, theta0, shared, tol, _BOOT_MAX_ITER)
    return out


class _Multinomial:
    """Multinomial count vectors with the observed frequencies, ``(size, k)`` per draw.

    Args:
        observed: int counts ``(k,)``; draws are multinomial(``n = observed.sum()``,
            ``observed / n``).
    """

    def __init__(self, observed: np.ndarray) -> None:
        observed = np.asarray(observed, dtype=np.int64)
        self.n = n = int(observed.sum())
        self.k = k = observed.size
        scale = max(n - _SLACK_SD * math.sqrt(n), 0.0) / n
        values, classes = np.unique(observed, return_inverse=True)
        self.table = _PoissonTable.build(values * scale, classes, n)
        self.lam = observed * scale
        # Guide table over the cells for the categorical top-up draws.
        cdf = np.cumsum(observed) / n
        cdf[np.flatnonzero(observed)[-1] :] = np.inf  # never past the last observed cell
        self.cell_bits = max(2, math.ceil(math.log2(_GUIDE_PER_ENTRY * k)))
        self.cell_cdf = cdf
        self.cell_guide = _guide(cdf, self.cell_bits, 0, 0)

    def _poisson(self, rng: np.random.Generator, size: int) -> np.ndarray:
        if self.table is not None:
            return self.table.draw(rng, size)
        return rng.poisson(self.lam, size=(size, self.k))

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` independent count vectors, integer ``(size, k)``, each summing to ``n``."""
        counts = self._poisson(rng, size)
        totals = counts.sum(axis=1)
        over = np.flatnonzero(totals > self.n)
        while over.size:  # now and then: redraw the rounds whose Poisson total overshot n
            counts[over] = self._poisson(rng, over.size)
            totals[over] = counts[over].sum(axis=1)
            over = over[totals[over] > self.n]
        deficit = self.n - totals
        m = int(deficit.sum())
        if m:
            uniform = _uniform_bits(rng, m)
            cell = self.cell_guide[uniform >> (53 - self.cell_bits)]
            _refine(cell, uniform, self.cell_cdf, np.zeros(1, dtype=np.int64))
            cell += np.repeat(np.arange(size, dtype=np.int64) * self.k, deficit)
            np.add.at(counts.reshape(-1), cell, np.ones(1, dtype=counts.dtype)[0])
        return counts


def _uniform_bits(rng: np.random.Generator, shape) -> np.ndarray:
    """int64 array of 53 random bits each: ``u * 2**53`` for uniforms ``u`` in ``[0, 1)``."""
    raw = rng.bit_generator.random_raw(shape)
    raw >>= np.uint64(11)
    return raw.view(np.int64)


def _guide(cdf: np.ndarray, bits: int, value_offset: int, index_offset: int) -> np.ndarray:
    """Guide table (Chen and Asau) of ``2**bits`` buckets for inversion of ``cdf``.

    ``cdf`` is nondecreasing and ends with +inf; the answer for a uniform ``u`` is the first
    index whose CDF exceeds ``u``. A bucket's entry is that answer plus ``value_offset`` when
    it is the same for the whole bucket, else ``-1 -`` (the first candidate + ``index_offset``)
    for :func:`_refine`. Bucket edges are exact (a power of two), so is the bucket of ``u``.
    """
    edges = np.arange((1 << bits) + 1) / (1 << bits)
    first = np.searchsorted(cdf, edges[:-1], side="right")
    single = cdf[first] >= edges[1:]
    return np.where(single, first + value_offset, -1 - (first + index_offset))


def _refine(values: np.ndarray, uniform: np.ndarray, cdf: np.ndarray, shift: np.ndarray) -> None:
    """Finish, in place, the guide lookups of flat ``values`` that need a search in ``cdf``.

    ``uniform`` holds the 53-bit uniforms of ``values``; the answer found at CDF index ``i``
    becomes ``i + shift[j % shift.size]`` for flat position ``j``.
    """
    flat_values, flat_uniform = values.reshape(-1), uniform.reshape(-1)
    search = np.flatnonzero(flat_values < 0)
    if not search.size:
        return
    at = -1 - flat_values[search].astype(np.int64)
    u = flat_uniform[search] * 2.0**-53
    todo = np.flatnonzero(cdf[at] <= u)
    while todo.size:  # the answer is the first index whose CDF exceeds u
        at[todo] += 1
        todo = todo[cdf[at[todo]] <= u[todo]]
    flat_values[search] = at + shift[search % shift.size]


class _PoissonTable:
    """Poisson draws by table inversion, for columns that share a few distinct means.

    Each distinct mean gets its CDF over ``mean +- _WIDTH * (sqrt(mean) + 1)`` (the mass
    outside, below 1e-20, is far under the 2**-53 resolution of a uniform variate; it goes to
    the extreme values) and a guide table of ``2**s`` buckets (:func:`_guide`): the top
    ``s`` bits of a 53-bit uniform pick a bucket, which holds the count for most draws.
    """

    _WIDTH = 10.0
    _MAX_ENTRIES = 1 << 21

    cdf: np.ndarray  # all CDFs, concatenated; each ends with +inf
    guide: np.ndarray  # all guide tables, concatenated
    bits_col: np.ndarray  # int64 (k,): 53 - s, the shift giving a column's bucket
    guide_col: np.ndarray  # int64 (k,): where each column's guide table starts
    shift_col: np.ndarray  # int64 (k,): count = cdf index + shift

    @classmethod
    def build(cls, means: np.ndarray, classes: np.ndarray, total: int) -> _PoissonTable | None:
        """Tables for distinct ``means`` ``(m,)``; column ``c`` has mean ``means[classes[c]]``.

        ``total`` bounds the counts the caller will add up (it picks the integer width).
        Returns None when the tables would be too big (then use ``Generator.poisson``).
        """
        spans = []
        for lam in means.tolist():
            half = cls._WIDTH * (math.sqrt(lam) + 1.0)
            lo, hi = (max(0, math.floor(lam - half)), math.ceil(lam + half)) if lam else (0, 0)
            bits = max(2, math.ceil(math.log2(_GUIDE_PER_ENTRY * (hi - lo + 1))))
            spans.append((lo, hi, bits))
        if sum((hi - lo + 1) + (1 << bits) for lo, hi, bits in spans) > cls._MAX_ENTRIES:
            return None
        cdfs, guides, guide_at, bits_of, shifts = [], [], [], [], []
        offset = guide_offset = 0
        for lam, (lo, hi, bits) in zip(means.tolist(), spans, strict=True):
            ks = np.arange(lo, hi + 1, dtype=np.float64)
            # log pmf relative to the mode, from the ratios pmf(k) / pmf(k - 1) = lam / k
            mode = min(max(math.floor(lam), lo), hi) - lo
            log_ratio = np.log(lam / ks[1:]) if lam > 0.0 else np.zeros(0)
            log_pmf = np.concatenate([[0.0], np.cumsum(log_ratio)])
            pmf = np.exp(log_pmf - log_pmf[mode])
            cdf = np.cumsum(pmf) / pmf.sum()
            cdf[-1] = np.inf
            guides.append(_guide(cdf, bits, lo, offset))
            cdfs.append(cdf)
            guide_at.append(guide_offset)
            bits_of.append(53 - bits)
            shifts.append(lo - offset)
            offset += ks.size
            guide_offset += 1 << bits
        table = cls()
        table.cdf = np.concatenate(cdfs)
        small = max(offset, total) < 1 << 31  # then int32: a smaller table, faster lookups
        table.guide = np.concatenate(guides).astype(np.int32 if small else np.int64)
        table.bits_col = np.asarray(bits_of, dtype=np.int64)[classes]
        table.guide_col = np.asarray(guide_at, dtype=np.int64)[classes]
        table.shift_col = np.asarray(shifts, dtype=np.int64)[classes]
        return table

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Integer ``(size, k)`` Poisson counts (int32 when they fit), one row per draw."""
        uniform = _uniform_bits(rng, (size, self.bits_col.size))
        bucket = uniform >> self.bits_col
        bucket += self.guide_col
        counts = self.guide[bucket]
        _refine(counts, uniform, self.cdf, self.shift_col)
        return counts


def intervals(samples: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Per-model percentile interval of bootstrap samples.

    Args:
        samples: ``(R, n)`` ratings, one row per bootstrap round.
        level: coverage, e.g. 0.95 for the 2.5% and 97.5% quantiles.

    Returns:
        ``(low, high)``, two float64 ``(n,)`` arrays.
    """
    if not 0.0 < level < 1.0:
        raise ValueError("level must be between 0 and 1")
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim != 2 or samples.shape[0] == 0:
        raise ValueError("samples must have shape (R, n) with R >= 1")
    low, high = np.quantile(samples, [(1.0 - level) / 2.0, (1.0 + level) / 2.0], axis=0)
    return low, high


def rank_upper_bounds(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Best (lowest) rank each model can plausibly hold: ``1 + #{j : low[j] > high[i]}``,
    the number of models surely better (whole interval above) plus one.

    Args:
        low, high: interval bounds ``(n,)``.

    Returns:
        int64 ``(n,)``.
    """
    low = np.asarray(low, dtype=np.float64)
    high = np.asarray(high, dtype=np.float64)
    if low.shape != high.shape or low.ndim != 1:
        raise ValueError("low and high must be 1-D arrays of the same length")
    ordered = np.sort(low)
    return 1 + (low.size - np.searchsorted(ordered, high, side="right")).astype(np.int64)
