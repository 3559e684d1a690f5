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
centred on ``ANCHOR``; an undefeated model ends far above the rest (about 1,100 points above
its opponents after 10 straight wins) but finite. With ``PRIOR = 0.01`` the fit differs
from the unregularised MLE by thousandths of a point on a well-connected leaderboard (the
pull on a model is about ``PRIOR / 4 * theta / information``).

**Solver.** Newton's method on the penalised log-likelihood with the analytic gradient and
Hessian, steps capped at ``MAX_STEP`` and convergence on ``max |step| < tol`` rating points.
For many count vectors at once (bootstrap rounds), every round starts from the full-data fit
and iterates with one shared Hessian (the full data's, at that fit): each iteration is then a
gradient and a matrix product, linear convergence with a small rate. A round whose steps
stop shrinking fast switches to its own exact Newton steps (batched ``np.linalg.solve``).

**Bootstrap.** Resampling the battles with replacement is the same as drawing the counts of
the ``3p`` (pair, outcome) cells from a multinomial with ``n = total`` battles.
:func:`_multinomial` draws it exactly but faster than ``Generator.multinomial``: Poisson
counts with a total mean a few standard deviations below ``n`` (a round that overshoots is
redrawn), topped up to exactly ``n`` by categorical draws (alias method). Given its total
``m``, a Poisson vector is multinomial(``m``), and adding ``n - m`` independent draws makes
it multinomial(``n``).
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
_CLIP = 36.0  # |theta_i - theta_j| beyond this changes nothing in float64
_WORK_BYTES = 16 << 20  # rough budget for one working array of a batch
_SLACK_SD = 3.0  # Poisson total mean sits this many standard deviations below n


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
    """Index arithmetic for the pairs of :class:`Cells` (gradients and Hessians of a batch)."""

    def __init__(self, cells: Cells) -> None:
        self.n = n = cells.n_models
        self.a = a = np.asarray(cells.a, dtype=np.int64)
        self.b = b = np.asarray(cells.b, dtype=np.int64)
        self.p = p = a.size
        if p and (np.any(a < 0) or np.any(a >= b) or np.any(b >= n)):
            raise ValueError("cells need 0 <= a < b < n_models")
        self.off_ab = a * n + b
        self.off_ba = b * n + a
        self.diag = np.arange(n) * (n + 1)
        # Scatter of per-pair values onto models (+ for a, - for b): a matrix product with
        # the dense incidence matrix when models are few, sorted segment sums otherwise.
        self.incidence: np.ndarray | None = None
        if n <= 160:
            inc = np.zeros((p, n))
            inc[np.arange(p), a] = 1.0
            inc[np.arange(p), b] = -1.0
            self.incidence = inc
        else:
            order_a = np.argsort(a, kind="stable")
            order_b = np.argsort(b, kind="stable")
            self.order_a, self.order_b = order_a, order_b
            self.starts_a, self.models_a = _segments(a[order_a])
            self.starts_b, self.models_b = _segments(b[order_b])

    def scatter(self, x: np.ndarray) -> np.ndarray:
        """``g[:, i] = sum of x over pairs with a == i - sum over pairs with b == i``."""
        if self.incidence is not None:
            return x @ self.incidence
        g = np.zeros((x.shape[0], self.n))
        if self.p:
            g[:, self.models_a] += np.add.reduceat(x[:, self.order_a], self.starts_a, axis=1)
            g[:, self.models_b] -= np.add.reduceat(x[:, self.order_b], self.starts_b, axis=1)
        return g

    def hessian(self, w: np.ndarray) -> np.ndarray:
        """Negative Hessian ``(R, n, n)`` of the penalised log-likelihood for weights ``w``."""
        r, n = w.shape[0], self.n
        h = np.zeros((r, n * n))
        h[:, self.off_ab] = -w
        h[:, self.off_ba] = -w
        h = h.reshape(r, n, n)
        degree = -h.sum(axis=2)
        h.reshape(r, n * n)[:, self.diag] = degree + _MU
        return h


def _segments(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start positions and values of the runs of equal values in ``sorted_keys``."""
    if sorted_keys.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    return starts, sorted_keys[starts]


def _probabilities(graph: _Graph, theta: np.ndarray) -> np.ndarray:
    """``P(a beats b)`` per round and pair, ``(R, p)``, for log-odds ratings ``(R, n)``."""
    d = theta[:, graph.b] - theta[:, graph.a]
    np.clip(d, -_CLIP, _CLIP, out=d)
    np.exp(d, out=d)
    d += 1.0
    return np.reciprocal(d, out=d)


def _newton(
    graph: _Graph,
    battles: np.ndarray,
    score: np.ndarray,
    theta: np.ndarray,
    tol: float,
    max_iter: int,
    shared_inverse: np.ndarray | None,
) -> np.ndarray:
    """Maximise the penalised log-likelihood for each row; updates and returns ``theta``.

    ``battles`` and ``score`` (wins of ``a`` plus half the ties) are float ``(R, p)``,
    ``theta`` is ``(R, n)`` log-odds and ``tol`` is in log-odds. With ``shared_inverse``
    (``(n, n)``), rows start with fixed-Hessian steps and switch to exact Newton steps when
    those contract slower than by half per iteration.
    """
    rows = theta.shape[0]
    active = np.arange(rows)
    exact = np.full(rows, shared_inverse is None)
    last = np.full(rows, np.inf)
    th, nb, sc = theta, battles, score
    max_step = MAX_STEP * _NAT
    for _ in range(max_iter):
        prob = _probabilities(graph, th)
        resid = sc - nb * prob
        grad = graph.scatter(resid)
        grad -= _MU * th
        step = np.empty_like(grad)
        ex = exact[active]
        if not ex.all():
            step[~ex] = grad[~ex] @ shared_inverse
        if ex.any():
            pe = prob[ex]
            w = nb[ex] * pe * (1.0 - pe)
            step[ex] = np.linalg.solve(graph.hessian(w), grad[ex][:, :, None])[:, :, 0]
        size = np.abs(step).max(axis=1, initial=0.0)
        slow = ~ex & (size > 0.5 * last[active])
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
            th, nb, sc = th[keep], nb[keep], sc[keep]
    raise RuntimeError(f"Bradley-Terry fit did not converge in {max_iter} iterations")


def _to_ratings(theta: np.ndarray) -> np.ndarray:
    """Log-odds ``(..., n)`` to ratings with mean ``ANCHOR`` along the last axis."""
    if theta.shape[-1] == 0:
        return theta.copy()
    centred = theta - theta.mean(axis=-1, keepdims=True)
    return ANCHOR + centred / _NAT


def _counts(wins_a, wins_b, ties) -> tuple[np.ndarray, np.ndarray]:
    wa = np.asarray(wins_a, dtype=np.float64)
    wb = np.asarray(wins_b, dtype=np.float64)
    t = np.asarray(ties, dtype=np.float64)
    if not (wa.shape == wb.shape == t.shape):
        raise ValueError("wins_a, wins_b and ties must have the same shape")
    if np.any(wa < 0) or np.any(wb < 0) or np.any(t < 0):
        raise ValueError("counts must be 0 or more")
    return wa + wb + t, wa + 0.5 * t


def _shared_inverse(graph: _Graph, battles: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Inverse of the negative Hessian ``(n, n)`` for ``battles`` ``(p,)`` at ``start``."""
    prob = _probabilities(graph, start[None, :])[0]
    h = graph.hessian((battles * prob * (1.0 - prob))[None, :])[0]
    return np.linalg.inv(h)


def fit(cells: Cells, *, max_iter: int = 100, tol: float = 1e-8) -> np.ndarray:
    """Bradley-Terry ratings of ``cells``' models (maximum penalised likelihood).

    ``P(i beats j) = 1 / (1 + BASE**((r_j - r_i) / SCALE))``, a tie counting as half a win
    for each side; see the module docstring for the tiny regulariser.

    Args:
        cells: battles per pair.
        max_iter: Newton iterations allowed.
        tol: convergence when the largest step is below ``tol`` rating points.

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
    battles, score = _counts(wins_a, wins_b, ties)
    if battles.ndim != 2 or battles.shape[1] != np.size(cells.a):
        raise ValueError("counts must have shape (R, p) with p = len(cells.a)")
    graph = _Graph(cells)
    rows, n = battles.shape[0], graph.n
    if start is None:
        theta0 = np.zeros(n)
        shared = None
    else:
        start = np.asarray(start, dtype=np.float64)
        if start.shape != (n,):
            raise ValueError("start must have shape (n_models,)")
        theta0 = (start - start.mean()) * _NAT if n else start.copy()
        shared = _shared_inverse(graph, battles.mean(axis=0), theta0) if rows > 1 else None
    out = np.empty((rows, n))
    chunk = max(1, _WORK_BYTES // (8 * max(graph.p, n * n, 1)))
    for lo in range(0, rows, chunk):
        hi = min(rows, lo + chunk)
        theta = np.repeat(theta0[None, :], hi - lo, axis=0)
        if graph.p:
            theta = _newton(
                graph, battles[lo:hi], score[lo:hi], theta, tol * _NAT, max_iter, shared
            )
        out[lo:hi] = _to_ratings(theta)
    return out


def bootstrap(
    cells: Cells,
    rounds: int,
    rng: np.random.Generator,
    *,
    start: np.ndarray | None = None,
    tol: float = 1e-6,
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
        tol: convergence of each round, in rating points.

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
    observed = np.stack([cells.wins_a, cells.wins_b, cells.ties], axis=1).ravel()
    used = np.flatnonzero(observed)
    sampler = _Multinomial(total, observed[used] / total)
    out = np.empty((rounds, n))
    chunk = max(1, _WORK_BYTES // (8 * max(3 * p, n * n)))
    for lo in range(0, rounds, chunk):
        hi = min(rounds, lo + chunk)
        counts = np.zeros((hi - lo, 3 * p), dtype=np.int64)
        counts[:, used] = sampler.draw(rng, hi - lo)
        counts = counts.reshape(hi - lo, p, 3)
        out[lo:hi] = fit_batch(
            counts[:, :, 0], counts[:, :, 1], counts[:, :, 2], cells, start=start, tol=tol
        )
    return out


class _Multinomial:
    """Exact multinomial(``n``, ``probs``) vectors, drawn as topped-up Poisson vectors."""

    def __init__(self, n: int, probs: np.ndarray) -> None:
        self.n = n
        self.k = k = probs.size
        self.lam = max(n - _SLACK_SD * math.sqrt(n), 0.0) * probs
        # Alias table (Vose) for the categorical top-up draws.
        scaled = (probs * k / probs.sum()).tolist()
        accept = [1.0] * k
        alias = list(range(k))
        small = [i for i, q in enumerate(scaled) if q < 1.0]
        large = [i for i, q in enumerate(scaled) if q >= 1.0]
        while small and large:
            s, g = small.pop(), large.pop()
            accept[s], alias[s] = scaled[s], g
            scaled[g] += scaled[s] - 1.0
            (small if scaled[g] < 1.0 else large).append(g)
        self.accept = np.array(accept)
        self.alias = np.array(alias, dtype=np.int64)

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` independent count vectors, int64 ``(size, k)``, each summing to ``n``."""
        counts = rng.poisson(self.lam, size=(size, self.k))
        totals = counts.sum(axis=1)
        over = np.flatnonzero(totals > self.n)
        while over.size:  # rare: redraw the rounds whose Poisson total overshot n
            counts[over] = rng.poisson(self.lam, size=(over.size, self.k))
            totals[over] = counts[over].sum(axis=1)
            over = over[totals[over] > self.n]
        deficit = self.n - totals
        m = int(deficit.sum())
        if m:
            u = rng.random(m) * self.k
            cell = np.minimum(u.astype(np.int64), self.k - 1)
            cell = np.where(rng.random(m) < self.accept[cell], cell, self.alias[cell])
            rows = np.repeat(np.arange(size, dtype=np.int64), deficit)
            counts += np.bincount(rows * self.k + cell, minlength=size * self.k).reshape(
                size, self.k
            )
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
    """Best rank each model could plausibly hold: ``1 + #{j : low[j] > high[i]}``.

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
