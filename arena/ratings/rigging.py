"""Detectors of targeted rigging (pure numpy): arrays of votes in, scores per voter out.

Every test here is one-sided and asks the same question: is a group of votes (one voter's,
one address's) tilted toward one model far beyond what chance allows? Each group is tested
against every model, so a group's threshold is Bonferroni-corrected over the models
(:func:`z_threshold`): an honest group passes all of them with probability at least
``1 - alpha``.

- **Favouritism** (:func:`favouritism`): in a group's decisive votes that include model
  ``m``, the picks of ``m`` against what the ratings expected (``expected_a`` recorded with
  each vote): ``z = (picks - 1/2 - sum p) / sqrt(sum p (1 - p))`` (with a continuity
  correction, as the picks are counts).
- **Selective voting** (:func:`selective_voting`): of the battles issued to a voter, the
  share voted when ``m`` is in the battle against when it is not (a two-proportion z-test).
  A bot that fetches battles until its target appears votes all of the first and none of
  the second.
- **Bursts** (:func:`bursts`): the most voters created by one address (or network) within
  any window of a given length.

**Influence** (:func:`influence`): how far removing a group's votes would move each rating,
for every group at once, by one Newton step of the published Bradley-Terry fit (the
influence function): ``delta theta = -H^-1 g_v``, with ``H`` the negative Hessian of the
penalised log-likelihood at the fit (prior included) and ``g_v`` the gradient of the group's
decisive votes. Ties are left out, as in the published (``decisive``) fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from arena.ratings import bradley_terry as bt

#: A group's family-wise false-positive rate over the models it is tested against.
ALPHA = 1e-4
#: Battles with a model a group needs before its favouritism toward it is tested.
MIN_BATTLES = 10
#: Voted battles with (and issued battles without) a model before selective voting is tested.
MIN_SELECTIVE = 5


def z_threshold(tests: int, alpha: float = ALPHA) -> float:
    """The one-sided z a statistic must reach for ``tests`` tests at family-wise ``alpha``.

    Args:
        tests: how many tests a group takes (e.g. the models); at least 1.
        alpha: the chance that an honest group passes any of them.

    Returns:
        The Bonferroni-corrected normal quantile ``Phi^-1(1 - alpha / tests)``.
    """
    return NormalDist().inv_cdf(1.0 - alpha / max(1, tests))


@dataclass(frozen=True)
class Tilt:
    """Per group and model, ``(n_groups, n_models)`` arrays: battles, picks, expected, z.

    ``z`` is NaN where a group has fewer than the minimum battles with a model.
    """

    battles: np.ndarray
    picks: np.ndarray
    expected: np.ndarray
    z: np.ndarray

    def strongest(self) -> tuple[np.ndarray, np.ndarray]:
        """Per group: the model it leans to most and that z (-inf without any test)."""
        z = np.where(np.isnan(self.z), -np.inf, self.z)
        if z.shape[1] == 0:
            return np.zeros(z.shape[0], dtype=np.int64), np.full(z.shape[0], -np.inf)
        model = z.argmax(axis=1)
        return model, z[np.arange(z.shape[0]), model]


@dataclass(frozen=True)
class Choices:
    """Best-of-four ballots as trials: one entry per (ballot, model shown), parallel ``(k,)``
    arrays: the ``group``, the ``model``, whether it was ``picked`` (bool) and its ``chance``
    of being picked by the ratings (the Plackett-Luce first choice among the four, see
    :func:`first_choice`)."""

    group: np.ndarray
    model: np.ndarray
    picked: np.ndarray
    chance: np.ndarray


def first_choice(p: np.ndarray) -> np.ndarray:
    """Each model's chance of being picked first among several, by Bradley-Terry-Luce.

    Args:
        p: float ``(k, n, n)``: ``p[b, i, j]`` is model ``i``'s chance of beating ``j`` in
            ballot ``b`` (the diagonal is ignored).

    Returns:
        float ``(k, n)``: ``1 / (1 + sum over j != i of p_ji / p_ij)``, which is
        ``exp(theta_i) / sum_j exp(theta_j)`` when ``p`` comes from ratings ``theta``.
    """
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-9, 1 - 1e-9)
    odds = (1.0 - p) / p  # exp(theta_j - theta_i)
    n = p.shape[-1]
    odds[:, np.arange(n), np.arange(n)] = 0.0
    return 1.0 / (1.0 + odds.sum(axis=2))


def favouritism(
    group: np.ndarray,
    model_a: np.ndarray,
    model_b: np.ndarray,
    a_won: np.ndarray,
    expected_a: np.ndarray,
    n_groups: int,
    n_models: int,
    *,
    min_battles: int = MIN_BATTLES,
    choices: Choices | None = None,
) -> Tilt:
    """Each group's picks of each model against the ratings' expectation.

    Args:
        group: int ``(n,)``, the group (voter, address) of each decisive vote.
        model_a, model_b: int ``(n,)``, the two models of each vote, in ``[0, n_models)``.
        a_won: bool ``(n,)``, True when model A won the vote.
        expected_a: float ``(n,)``, model A's expected score before the vote.
        n_groups, n_models: sizes of the result.
        min_battles: battles a group needs with a model before its z is given.
        choices: best-of-four ballots, one trial per model shown (see :class:`Choices`):
            a pick is one success, not the three pairwise wins the log holds (those move
            together, and counting them as three independent trials would overstate z).

    Returns:
        The :class:`Tilt` of every (group, model).
    """
    group = np.asarray(group, dtype=np.int64)
    a = np.asarray(model_a, dtype=np.int64)
    b = np.asarray(model_b, dtype=np.int64)
    won = np.asarray(a_won, dtype=np.float64)
    p = np.clip(np.asarray(expected_a, dtype=np.float64), 0.0, 1.0)
    size = n_groups * n_models
    cell_a = group * n_models + a
    cell_b = group * n_models + b

    def total(weights_a: np.ndarray | None, weights_b: np.ndarray | None) -> np.ndarray:
        out = np.bincount(cell_a, weights=weights_a, minlength=size)
        out = out + np.bincount(cell_b, weights=weights_b, minlength=size)
        return out.reshape(n_groups, n_models)

    battles = total(None, None)
    picks = total(won, 1.0 - won)
    expected = total(p, 1.0 - p)
    variance = total(p * (1.0 - p), p * (1.0 - p))
    if choices is not None and len(choices.group):
        cell = np.asarray(choices.group, dtype=np.int64) * n_models + np.asarray(
            choices.model, dtype=np.int64
        )
        pi = np.clip(np.asarray(choices.chance, dtype=np.float64), 0.0, 1.0)

        def add(weights: np.ndarray | None) -> np.ndarray:
            return np.bincount(cell, weights=weights, minlength=size).reshape(n_groups, n_models)

        battles = battles + add(None)
        picks = picks + add(np.asarray(choices.picked, dtype=np.float64))
        expected = expected + add(pi)
        variance = variance + add(pi * (1.0 - pi))
    z = np.full((n_groups, n_models), np.nan)
    tested = (battles >= min_battles) & (variance > 0)
    z[tested] = (picks[tested] - 0.5 - expected[tested]) / np.sqrt(variance[tested])
    return Tilt(battles.astype(np.int64), picks.astype(np.int64), expected, z)


@dataclass(frozen=True)
class Selectivity:
    """Per voter and model, ``(n_voters, n_models)``: battles issued and voted with the model,
    issued and voted without it, and the two-proportion z (NaN where too few)."""

    issued_with: np.ndarray
    voted_with: np.ndarray
    issued_without: np.ndarray
    voted_without: np.ndarray
    z: np.ndarray


def selective_voting(
    voter: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    voted: np.ndarray,
    n_voters: int,
    n_models: int,
    *,
    min_count: int = MIN_SELECTIVE,
) -> Selectivity:
    """Whether each voter votes more often when a model is in the battle.

    Args:
        voter: int ``(n,)``, the voter each battle was issued to.
        left, right: int ``(n,)``, the battle's two models in ``[0, n_models)``.
        voted: bool ``(n,)``, whether the battle got its vote.
        n_voters, n_models: sizes of the result.
        min_count: voted battles with the model, and issued battles without it, a voter
            needs before the test is made.

    Returns:
        The :class:`Selectivity` of every (voter, model): ``z > 0`` when the voter votes
        more often with the model than without it.
    """
    voter = np.asarray(voter, dtype=np.int64)
    done = np.asarray(voted, dtype=np.float64)
    size = n_voters * n_models
    cells = np.concatenate([voter * n_models + left, voter * n_models + right])
    issued_with = np.bincount(cells, minlength=size).reshape(n_voters, n_models)
    voted_with = np.bincount(cells, weights=np.tile(done, 2), minlength=size)
    voted_with = voted_with.reshape(n_voters, n_models).astype(np.int64)
    issued = np.bincount(voter, minlength=n_voters)[:, None]
    voted_all = np.bincount(voter, weights=done, minlength=n_voters).astype(np.int64)[:, None]
    issued_without = issued - issued_with
    voted_without = voted_all - voted_with
    pooled = voted_all / np.maximum(issued, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = np.sqrt(
            pooled
            * (1 - pooled)
            * (1 / np.maximum(issued_with, 1) + 1 / np.maximum(issued_without, 1))
        )
        diff = voted_with / np.maximum(issued_with, 1) - voted_without / np.maximum(
            issued_without, 1
        )
        z = np.where(spread > 0, diff / spread, np.nan)
    z[(voted_with < min_count) | (issued_without < min_count)] = np.nan
    return Selectivity(issued_with, voted_with, issued_without, voted_without, z)


@dataclass(frozen=True)
class Burst:
    """Per group: the most members created within one window, and when that window began."""

    count: np.ndarray
    start: np.ndarray


def bursts(group: np.ndarray, seconds: np.ndarray, n_groups: int, window: float) -> Burst:
    """The largest number of members each group created within any ``window`` seconds.

    Args:
        group: int ``(n,)``, the group (address, network) of each member.
        seconds: float ``(n,)``, when each member was created (seconds since any epoch).
        n_groups: size of the result.
        window: the window's length in seconds.

    Returns:
        The :class:`Burst` of every group (count 0 and start NaN for a group without members).
    """
    group = np.asarray(group, dtype=np.int64)
    t = np.asarray(seconds, dtype=np.float64)
    count = np.zeros(n_groups, dtype=np.int64)
    start = np.full(n_groups, np.nan)
    if group.size == 0:
        return Burst(count, start)
    order = np.lexsort((t, group))
    group, t = group[order], t[order]
    # Each member opens a window; members of its group created within it are counted by a
    # search in the sorted times, groups kept apart by a gap wider than any window.
    span = float(t.max() - t.min()) + window + 1.0
    key = group * span + (t - t.min())
    ends = np.searchsorted(key, key + window, side="right")
    inside = ends - np.arange(group.size)
    best = np.zeros(n_groups, dtype=np.int64)
    np.maximum.at(best, group, inside)
    first = np.flatnonzero(inside == best[group])  # sorted by time within each group
    groups, at = np.unique(group[first], return_index=True)
    start[groups] = t[first[at]]
    count[:] = best
    return Burst(count, start)


_NAT = np.log(bt.BASE) / bt.SCALE  # log-odds per rating point


def _decisive(
    model_a: np.ndarray, model_b: np.ndarray, outcome: np.ndarray, ratings: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Winner, loser and the fit's probability that the winner won, per decisive vote."""
    outcome = np.asarray(outcome)
    decisive = outcome != 2
    a = np.asarray(model_a, dtype=np.int64)[decisive]
    b = np.asarray(model_b, dtype=np.int64)[decisive]
    a_won = outcome[decisive] == 0
    winner, loser = np.where(a_won, a, b), np.where(a_won, b, a)
    theta = (np.asarray(ratings, dtype=np.float64) - bt.ANCHOR) * _NAT
    p_won = 1.0 / (1.0 + np.exp(theta[loser] - theta[winner]))
    return winner, loser, p_won


def information(
    model_a: np.ndarray, model_b: np.ndarray, outcome: np.ndarray, ratings: np.ndarray
) -> np.ndarray:
    """The negative Hessian ``(n, n)`` of the penalised decisive log-likelihood at ``ratings``.

    Args:
        model_a, model_b: int ``(m,)`` model indices; outcome: int ``(m,)`` (0 a won, 1 b
            won, 2 tie; ties add nothing).
        ratings: float ``(n,)``, the fitted ratings on the Elo scale.
    """
    n = len(ratings)
    winner, loser, p = _decisive(model_a, model_b, outcome, ratings)
    w = p * (1.0 - p)
    h = np.bincount(winner * n + loser, weights=w, minlength=n * n).astype(np.float64)
    h = h.reshape(n, n)
    h = -(h + h.T)
    h[np.diag_indices(n)] = -h.sum(axis=1) + bt.MU
    return h


def influence(
    group: np.ndarray,
    model_a: np.ndarray,
    model_b: np.ndarray,
    outcome: np.ndarray,
    ratings: np.ndarray,
    n_groups: int,
) -> np.ndarray:
    """Rating shifts ``(n_groups, n)``, in points, if each group's votes were left out.

    Args:
        group: int ``(m,)``, the group (voter, address) of each vote in ``[0, n_groups)``.
        model_a, model_b, outcome: the votes, as fitted (0 a won, 1 b won, 2 tie).
        ratings: float ``(n,)``, the published fit of these votes.
        n_groups: number of groups.

    Returns:
        One Newton step from the fit without the group's votes: ``-H^-1 g`` per group, on
        the rating scale (each row sums to 0: the anchor stays put).
    """
    n = len(ratings)
    outcome = np.asarray(outcome)
    group = np.asarray(group, dtype=np.int64)[outcome != 2]
    winner, loser, p_won = _decisive(model_a, model_b, outcome, ratings)
    surprise = 1.0 - p_won
    size = n_groups * n
    g = np.bincount(group * n + winner, weights=surprise, minlength=size).astype(np.float64)
    g -= np.bincount(group * n + loser, weights=surprise, minlength=size)
    inverse = np.linalg.inv(information(model_a, model_b, outcome, ratings))
    return -(g.reshape(n_groups, n) @ inverse) / _NAT
