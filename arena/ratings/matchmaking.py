"""Active matchmaking: which models (two, or four for best-of-four) a voter is shown next.

Pure policy code (numpy only): the battle service gives it what it knows about a
competition, a :class:`Standing` (the last published ratings and how often each pair has
been compared), and which outputs may be shown, and gets a :class:`Choice` back.

**Policies** (:data:`POLICIES`):

- ``uniform``: a uniformly random pair among the pairs that share an available prompt (for
  four: then random models sharing a prompt with them).
- ``least-met``: the pair compared least often so far (random tie-break): the service's rule
  before this module (for four: then the models least met with those already chosen).
- ``active`` (the default): the pair whose next vote is expected to teach most about the
  *ranking*, below.

**The active rule, in plain words.** The ratings are treated as a Bayesian estimate: the
Bradley-Terry fit's Laplace approximation, in natural log-odds ``theta``, has the precision
``H = MU * I + sum over pairs met_ij * w_ij * (e_i - e_j)(e_i - e_j)^T``, with ``w_ij =
p_ij (1 - p_ij)`` the information of one vote between ``i`` and ``j`` at the current ratings
and ``MU`` the prior of the published fit; its inverse ``C`` is the covariance (one small
inversion, or a rank-one update per vote when the :class:`Standing` carries it; never a
refit). From ``C`` each pair ``(k, l)`` has a standard error of its gap ``s_kl`` and a z-score
``z_kl = |theta_k - theta_l| / s_kl``. A ranking is wrong where pairs are misordered, so what
a vote should buy is certainty about the order of pairs still in doubt (small ``z``); a pair
far apart and well measured needs nothing more. Each pair gets the weight ``g_kl =
exp(-DOUBT * z_kl**2) * (1 + TOP_WEIGHT * max(t_k, t_l))``, where ``t_k`` stands for the chance
that model ``k`` is in the top ``TOP`` (1 for a model ranked there, ``exp(-z**2 / 2)`` of its
gap to the ``TOP``-th model otherwise): the order of the top of the board is what visitors
read first, so doubts there weigh more. One more vote between ``i`` and ``j`` lowers every
``Var(theta_k - theta_l)`` by a rank-one update of ``C``; the score of the candidate pair is
the weighted sum of those reductions, in closed form ``w_ij * d_ij^T C L_g C d_ij / (1 + w_ij
* s_ij**2)`` with ``d_ij = e_i - e_j`` and ``L_g`` the Laplacian of the weights (one ``n x n``
product for all candidates at once). The best pair wins. The rule spends votes on close pairs
whose order is uncertain, on the comparisons that pin a model down indirectly (through a
common opponent) as well as directly, and leaves settled pairs alone (a vote between far-apart
models is nearly foregone, ``w`` small); as ``met`` grows the variances shrink and the choice
moves on, even between two refits of the ratings (``met`` counts every vote, the ratings are
refitted now and then).

**Fresh ratings between refits.** :meth:`Standing.with_outcomes` learns from each counted
vote as it comes: one Bayesian online step (Laplace / extended Kalman) moves the ratings
toward the winner by ``C d (y - p) / (1 + w s**2)`` and shrinks ``C`` by the same rank-one
update as :meth:`Standing.with_votes`, ``O(n**2)`` per vote and no refit; it tracks the
published fit within a few points. The next refit (:meth:`Standing.with_ratings`) puts the
ratings back on the fit.

**Best of four** (``size=4``): the voter picks the best of four images, a multinomial logit
choice among them. To first order its information about ``theta`` lowers the weighted
variance by ``sum over pairs (a, b) of the four of pi_a * pi_b * q_ab``, with ``pi`` the
choice probabilities and ``q_ab`` the pair value above (for two models this is the pairwise
score). The four are built greedily: the best pair, then twice the model that raises that sum
most (all four sharing an available prompt).

**Exploration floor.** With probability ``EXPLORE`` (10%) a call ignores the scores and takes
a uniformly random allowed pair (for ``size=4``: a uniformly random pair sharing a prompt
available to at least four models, completed by the two models that add most, as above).
Every allowed pair is therefore in the choice with probability at least ``EXPLORE / allowed
pairs`` at every call, so no pair is ever starved, whatever the ratings say (a wrong early fit
cannot freeze the board).

**Sides and prompt.** The chosen models are returned in a random order (the sides or
positions shown). The prompt is uniformly random among the prompts available to every chosen
model, so in expectation each pair is balanced over its common prompts.

**What to expect** (``bench/convergence.py``, 18 paired trials per config: 21 or 40 models,
10-25% ties, 0-20% random voters; a config's median ratio is noisy, about +-0.1). Pairwise,
``active`` needs 0.50-0.85x the votes of ``least-met`` to reach a Kendall tau of 0.85 with
the truth and stay there (geometric mean 0.69x over the 8 configs; 0.75x before the online
update and ``DOUBT``): pairwise comparisons leave little to gain, since a vote
between close models teaches at most about 15% more than one between random models and the
best fixed allocation of votes over models saves a few percent more. Its top 3 in order:
0.83-1.05x where ``least-met`` reaches it within the budget (it mostly does not). Best-of-four
needs 0.34-0.58x for Kendall (geometric mean 0.42x; one vote is three decisive comparisons
and never a tie), 0.56-0.75x for the top 3 where ``least-met`` reaches it.

**Cost.** ``choose`` is ``O(n**3)`` with small constants (about 0.1 ms for 40 models with 50
prompts; ``bench/convergence.py`` measures it); ``least-met`` and ``uniform`` are ``O(n**2)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from arena.ratings import bradley_terry as bt

#: The policies :func:`choose` knows, the default last.
POLICIES = ("uniform", "least-met", "active")
#: Models per choice: a pairwise battle, or best-of-four.
SIZES = (2, 4)
#: Share of ``active`` choices taken uniformly at random (the exploration floor).
EXPLORE = 0.1
#: The ``active`` rule weighs doubts about the order of the top ``TOP`` models more ...
TOP = 3
#: ... by this factor (1 + TOP_WEIGHT for a pair with a model surely in the top).
TOP_WEIGHT = 4.0
#: The weight of a pair's doubt is ``exp(-DOUBT * z**2)`` (sharper than the normal density's
#: ``exp(-z**2 / 2)``: measured better for both criteria of ``bench/convergence.py``).
DOUBT = 1.0


@dataclass(frozen=True, eq=False)
class Standing:
    """What the policy knows about one competition's ``n`` models.

    Treat it as immutable: build a new one with :meth:`with_votes` and :meth:`with_ratings`
    (cheap, and they keep ``cov`` up to date) rather than changing ``met`` in place.

    Attributes:
        ratings: float ``(n,)``, Elo scale, e.g. the last published Bradley-Terry fit
            (``ANCHOR`` for a model not yet fitted).
        met: int ``(n, n)``, symmetric with a zero diagonal: pairwise comparisons *voted* so
            far per pair (a tie counts too).
        cov: optional cache, :func:`laplace_covariance` of ``ratings`` and ``met``; None:
            :func:`choose` computes it (one ``n x n`` inversion).
    """

    ratings: np.ndarray
    met: np.ndarray
    cov: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def fresh(cls, n: int) -> Standing:
        """The standing of ``n`` models before any vote: all at ``ANCHOR``, none met."""
        return cls(np.full(n, bt.ANCHOR), np.zeros((n, n), dtype=np.int64), np.eye(n) / bt.MU)

    def with_votes(self, models_a: np.ndarray, models_b: np.ndarray) -> Standing:
        """A copy with the pairwise comparisons ``models_a[k]`` vs ``models_b[k]`` counted.

        A cached ``cov`` is updated by one rank-one (Sherman-Morrison) step per comparison,
        ``O(n**2)`` each, instead of a new inversion.
        """
        pairs = list(zip(np.ravel(models_a).tolist(), np.ravel(models_b).tolist(), strict=True))
        met = self.met.copy()
        for i, j in pairs:
            met[i, j] += 1
            met[j, i] += 1
        cov = self.cov
        if cov is not None:
            cov = cov.copy()
            for i, j in pairs:
                gap = float(self.ratings[j] - self.ratings[i]) * bt._NAT
                p = 1.0 / (1.0 + math.exp(gap))
                w = p * (1.0 - p)
                u = cov[:, i] - cov[:, j]
                cov -= np.multiply.outer(u, u * (w / (1.0 + w * float(u[i] - u[j]))))
        return Standing(self.ratings, met, cov)

    def with_outcomes(
        self, models_a: np.ndarray, models_b: np.ndarray, scores: np.ndarray
    ) -> Standing:
        """A copy with the votes ``models_a[k]`` vs ``models_b[k]`` counted *and learnt from*:
        ``scores[k]`` is 1 when ``models_a[k]`` won, 0 when it lost, 0.5 for a tie.

        Each vote is one step of a Bayesian online (Laplace / extended Kalman) update of the
        log-odds ``theta`` and their covariance ``C``, in order, ``O(n**2)`` each and no
        refit: with ``d = e_a - e_b``, ``p`` the chance that ``a`` wins at the current
        ratings, ``w = p (1 - p)`` and ``s**2 = d^T C d``,
        ``theta += C d (y - p) / (1 + w s**2)`` and ``C -= w C d d^T C / (1 + w s**2)``.
        The ratings therefore follow the votes between two refits of the published fit
        (:meth:`with_ratings` puts them back on it). A tie is counted in ``met`` and ``C``
        as :meth:`with_votes` does (as :func:`laplace_covariance` counts it) but moves no
        rating: the published fit leaves ties out. The ratings' mean does not move.
        """
        a = np.ravel(models_a).tolist()
        b = np.ravel(models_b).tolist()
        y = np.ravel(np.asarray(scores, dtype=np.float64)).tolist()
        if not len(a) == len(b) == len(y):
            raise ValueError("models_a, models_b and scores must have the same length")
        met = self.met.copy()
        theta = np.asarray(self.ratings, dtype=np.float64) * bt._NAT
        cov = laplace_covariance(self.ratings, self.met) if self.cov is None else self.cov.copy()
        for i, j, score in zip(a, b, y, strict=True):
            met[i, j] += 1
            met[j, i] += 1
            p = 1.0 / (1.0 + math.exp(float(theta[j] - theta[i])))
            w = p * (1.0 - p)
            u = cov[:, i] - cov[:, j]  # C d
            k = 1.0 / (1.0 + w * float(u[i] - u[j]))
            if score != 0.5:
                theta += u * ((score - p) * k)
            cov -= np.multiply.outer(u, u * (w * k))
        return Standing(theta / bt._NAT, met, cov)

    def with_ratings(self, ratings: np.ndarray) -> Standing:
        """A copy with refitted ``ratings`` and their covariance (``met`` shared)."""
        ratings = np.asarray(ratings, dtype=np.float64)
        return Standing(ratings, self.met, laplace_covariance(ratings, self.met))


@dataclass(frozen=True)
class Choice:
    """What to show: ``models`` (2 or 4 indices, in the random order of the sides or
    positions shown) on ``prompt`` (an index available to every one of them)."""

    models: tuple[int, ...]
    prompt: int


def record(met: np.ndarray, models_a: np.ndarray, models_b: np.ndarray) -> None:
    """Count pairwise comparisons into ``met`` in place (both triangles).

    Args:
        met: int ``(n, n)`` comparison counts, updated in place.
        models_a, models_b: int model indices, one comparison per position (e.g. a
            best-of-four vote is three comparisons: the pick against each other model).
    """
    a = np.asarray(models_a, dtype=np.int64).ravel()
    b = np.asarray(models_b, dtype=np.int64).ravel()
    np.add.at(met, (a, b), 1)
    np.add.at(met, (b, a), 1)


def laplace_covariance(ratings: np.ndarray, met: np.ndarray) -> np.ndarray:
    """Covariance of the log-odds ``theta`` under the Laplace approximation of the fit.

    Args:
        ratings: float ``(n,)``, Elo scale.
        met: ``(n, n)`` comparisons per pair.

    Returns:
        float64 ``(n, n)``: the inverse of ``MU * I + sum met_ij p_ij (1 - p_ij) L_ij``
        (natural log-odds units; multiply by ``1 / _NAT**2`` for rating points squared).
    """
    theta = np.asarray(ratings, dtype=np.float64) * bt._NAT
    return np.linalg.inv(_precision(theta, np.asarray(met, dtype=np.float64))[0])


def choose(
    standing: Standing,
    available: np.ndarray,
    rng: np.random.Generator,
    *,
    policy: str = "active",
    size: int = 2,
) -> Choice | None:
    """The models and prompt to show next (see the module docstring for the rules).

    Args:
        standing: the competition's ratings and comparison counts.
        available: bool ``(n_models, n_prompts)``, True where the model has an output for
            that prompt the voter may be shown.
        rng: all randomness (exploration, tie-breaks, sides, prompt).
        policy: one of :data:`POLICIES`.
        size: 2 (pairwise battle) or 4 (best-of-four).

    Returns:
        The choice, or None when no ``size`` models share an available prompt.

    Raises:
        ValueError: unknown policy or size, or shapes that do not match.
    """
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, got {size!r}")
    avail = np.asarray(available, dtype=bool)
    n = standing.ratings.shape[0]
    if avail.ndim != 2 or avail.shape[0] != n or standing.met.shape != (n, n):
        raise ValueError("available must be (n_models, n_prompts) and met (n_models, n_models)")
    everywhere = bool(avail.all())  # the common case: no restriction at all
    allowed = None  # pairs sharing a usable prompt (None: every pair)
    if everywhere:
        if n < size or avail.shape[1] == 0:
            return None
        usable = avail
    else:
        usable = avail[:, avail.sum(axis=0) >= size]  # prompts enough models can be shown on
        if usable.shape[1] == 0:
            return None
        f = usable.astype(np.float64)
        allowed = (f @ f.T) > 0.5
    explore = policy == "uniform" or (policy == "active" and rng.random() < EXPLORE)
    value = w = x = None
    if policy == "active" and not (explore and size == 2):
        value, w, x = _pair_values(standing)
    if explore:
        if allowed is None:
            i, j = int(rng.integers(n)), int(rng.integers(n - 1))
            j += j >= i
        else:
            pairs = np.flatnonzero(_upper(n) & allowed)
            i, j = divmod(int(pairs[rng.integers(pairs.size)]), n)
    elif policy == "least-met":
        upper = _upper(n) if allowed is None else _upper(n) & allowed
        met = np.where(upper, standing.met, np.iinfo(np.int64).max)
        fewest = np.flatnonzero(met == met.min())
        i, j = divmod(int(fewest[rng.integers(fewest.size)]), n)
    else:
        assert value is not None and w is not None
        score = value * w  # symmetric
        if allowed is not None:
            score[~allowed] = -np.inf
        score.ravel()[:: n + 1] = -np.inf
        i, j = divmod(_best(score.ravel(), rng), n)
    chosen = [i, j]
    while len(chosen) < size:
        met = standing.met if policy == "least-met" else None
        chosen.append(_extend(chosen, usable, everywhere, met, rng, value, x))
    models = tuple(chosen[k] for k in rng.permutation(size))
    if everywhere:
        return Choice(models, int(rng.integers(avail.shape[1])))
    prompts = np.flatnonzero(avail[list(models)].all(axis=0))
    return Choice(models, int(prompts[rng.integers(prompts.size)]))


@lru_cache(maxsize=64)
def _upper(n: int) -> np.ndarray:
    """Read-only bool ``(n, n)``: True above the diagonal (the pairs ``i < j``)."""
    out = np.triu(np.ones((n, n), dtype=bool), 1)
    out.setflags(write=False)
    return out


def _pair_weight(x: np.ndarray) -> np.ndarray:
    """``p_ij (1 - p_ij)`` for every pair from strengths ``x = exp(theta)`` (``(n, n)``):
    the information of one vote between ``i`` and ``j``."""
    s = x[:, None] + x[None, :]
    return np.multiply.outer(x, x) / (s * s)


def _precision(theta: np.ndarray, met: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Laplace precision ``H`` at log-odds ``theta`` (``(n, n)``), the information
    ``w_ij = p_ij (1 - p_ij)`` of one vote between every pair, and the strengths
    ``x = exp(theta)`` (scaled to a maximum of 1)."""
    n = theta.size
    x = np.exp(theta - theta.max())
    w = _pair_weight(x)
    h = met * w
    h *= -1.0
    h.ravel()[:: n + 1] = bt.MU - h.sum(axis=1)  # met has a zero diagonal
    return h, w, x


def _pair_values(standing: Standing) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every pair: the value ``q_ij / (1 + w_ij s_ij**2)`` of one more vote between them,
    before its weight ``w_ij`` (see the module docstring), and ``w_ij``, both ``(n, n)``;
    and the strengths ``x = exp(theta)`` (scaled to a maximum of 1)."""
    theta = np.asarray(standing.ratings, dtype=np.float64) * bt._NAT
    n = theta.size
    if standing.cov is None:
        h, w, x = _precision(theta, standing.met)
        cov = np.linalg.inv(h)
    else:
        cov = standing.cov
        x = np.exp(theta - theta.max())
        w = _pair_weight(x)
    dc = cov.diagonal()
    var = np.add.outer(dc, dc)
    var -= cov
    var -= cov  # Var(theta_i - theta_j), 0 on the diagonal
    np.maximum(var, 1e-12, out=var)
    g = np.subtract.outer(theta, theta)
    g *= g
    g /= var
    g *= -DOUBT
    g = np.exp(g, out=g)  # exp(-DOUBT z**2): doubt about the pair's order
    if n > TOP:  # doubts about the top weigh more
        ref = int(np.argpartition(-theta, TOP - 1)[TOP - 1])  # the TOP-th model
        below = np.maximum(theta[ref] - theta, 0.0)
        top = np.exp(-0.5 * below * below / var[ref])  # 1 at or above the TOP-th model
        top *= TOP_WEIGHT
        top += 1.0
        g *= np.maximum.outer(top, top)
    g.ravel()[:: n + 1] = 0.0
    lap = -g
    lap.ravel()[:: n + 1] = g.sum(axis=1)
    m = cov @ lap @ cov
    dm = m.diagonal()
    q = np.add.outer(dm, dm)
    q -= m
    q -= m
    var *= w
    var += 1.0
    q /= var
    return q, w, x


def _extend(
    chosen: list[int],
    usable: np.ndarray,
    everywhere: bool,
    met: np.ndarray | None,
    rng: np.random.Generator,
    value: np.ndarray | None,
    x: np.ndarray | None,
) -> int:
    """One more model for a best-of-four set, sharing a usable prompt with ``chosen``: the
    one that adds most value to the multinomial choice (``active``: ``value`` and ``x``
    given), else the least met with the set (``met`` given), else one at random."""
    if everywhere:
        fits = np.ones(usable.shape[0], dtype=bool)
    else:
        fits = usable[:, usable[chosen].all(axis=0)].any(axis=1)
    fits[chosen] = False
    if value is None or x is None:
        if met is None:
            candidates = np.flatnonzero(fits)
            return int(candidates[rng.integers(candidates.size)])
        total = met[:, chosen].sum(axis=1)
        fewest = np.flatnonzero(fits & (total == total[fits].min()))
        return int(fewest[rng.integers(fewest.size)])
    xs = x[chosen]
    within = value[:, chosen] @ xs  # per model: sum over the set of q_ka x_a
    base = 0.5 * float(xs @ within[chosen])  # sum over the set's pairs of x_a x_b q_ab
    total = xs.sum() + x
    gain = (base + x * within) / (total * total)
    gain[~fits] = -np.inf
    return _best(gain, rng)


def _best(score: np.ndarray, rng: np.random.Generator) -> int:
    """The index of the highest score, ties (within rounding) broken at random: before any
    vote every pair scores the same, and a fixed first pair would be shown to everyone."""
    top = score.max()
    best = np.flatnonzero(score >= top - 1e-9 * abs(top))
    return int(best[rng.integers(best.size)]) if best.size > 1 else int(best[0])
