"""Online Elo: the update applied with every vote, a replay of a vote log, and its history.

Ratings are on the usual scale: initial 1000, a 400-point difference means 10:1 odds. A win
scores 1, a loss 0 and a tie 0.5 for each side.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

INITIAL = 1000.0
SCALE = 400.0
DEFAULT_K = 32.0

#: Score of model A for each winner value of the vote log (``model_a`` is the left model).
SCORE_A = {"model_a": 1.0, "model_b": 0.0, "tie": 0.5, "tie (bothbad)": 0.5}
#: Score of model A for each outcome code of vote arrays: 0 A won, 1 B won, 2 tie.
_SCORE_OF_OUTCOME = np.array([1.0, 0.0, 0.5])


def expected(rating_a: float, rating_b: float, scale: float = SCALE) -> float:
    """Probability-like expected score of A against B: ``1 / (1 + 10**((b - a) / scale))``."""
    return 1.0 / (1.0 + 10.0 ** ((rating_b - rating_a) / scale))


def update(
    rating_a: float, rating_b: float, score_a: float, k: float = DEFAULT_K, scale: float = SCALE
) -> tuple[float, float]:
    """New ``(rating_a, rating_b)`` after one game where A scored ``score_a`` (1, 0.5 or 0).

    The update is zero-sum: A gains exactly what B loses.
    """
    delta = k * (score_a - expected(rating_a, rating_b, scale))
    return rating_a + delta, rating_b - delta


def history(
    model_a: np.ndarray,
    model_b: np.ndarray,
    outcome: np.ndarray,
    n_models: int,
    *,
    points: int,
    k: float = DEFAULT_K,
) -> tuple[np.ndarray, np.ndarray]:
    """Online Elo of every model through a vote log, at ``points + 1`` evenly spaced moments.

    Every model starts at ``INITIAL``; votes are applied in order, exactly as :func:`update`
    applies them (written out in the loop: a call per vote makes it about 1.5x slower).

    Args:
        model_a, model_b: int model indices in ``[0, n_models)``, shape ``(v,)``, in log order.
        outcome: int ``(v,)``: 0 = ``model_a`` won, 1 = ``model_b`` won, 2 = tie.
        n_models: number of models.
        points: number of steps between the first moment (no votes) and the last (all).
        k: the Elo K.

    Returns:
        ``(at, ratings)``: int64 ``(c,)``, the number of votes applied at each moment
        (``round(i * v / points)``, increasing, repeats dropped, so ``c <= points + 1``), and
        float64 ``(c, n_models)``, every model's Elo at those moments.

    Raises:
        ValueError: shapes differ, or an index or outcome is out of range.
    """
    a = np.asarray(model_a, dtype=np.int64).ravel()
    b = np.asarray(model_b, dtype=np.int64).ravel()
    o = np.asarray(outcome, dtype=np.int64).ravel()
    if not (a.shape == b.shape == o.shape):
        raise ValueError("model_a, model_b and outcome must have the same length")
    if a.size and (min(a.min(), b.min()) < 0 or max(a.max(), b.max()) >= n_models):
        raise ValueError("model indices must be in [0, n_models)")
    if o.size and (o.min() < 0 or o.max() > 2):
        raise ValueError("outcome must be 0 (a won), 1 (b won) or 2 (tie)")
    at = np.unique(np.rint(np.linspace(0, a.size, points + 1)).astype(np.int64))
    out = np.empty((at.size, n_models))
    ratings = [INITIAL] * n_models
    a_list, b_list, scores = a.tolist(), b.tolist(), _SCORE_OF_OUTCOME[o].tolist()
    scale = SCALE
    start = 0
    for row, stop in enumerate(at.tolist()):
        votes = zip(a_list[start:stop], b_list[start:stop], scores[start:stop], strict=True)
        for i, j, score in votes:
            ra, rb = ratings[i], ratings[j]
            delta = k * (score - 1.0 / (1.0 + 10.0 ** ((rb - ra) / scale)))
            ratings[i], ratings[j] = ra + delta, rb - delta
        out[row] = ratings
        start = stop
    return at, out


@dataclass
class Record:
    """A model's Elo and record in one scope."""

    elo: float = INITIAL
    wins: int = 0
    losses: int = 0
    ties: int = 0

    @property
    def battles(self) -> int:
        return self.wins + self.losses + self.ties


@dataclass
class Replay:
    """Elo and records per (scope, model), built by applying votes in log order."""

    k: float = DEFAULT_K
    records: dict[tuple[str, str], Record] = field(default_factory=dict)

    def apply(self, scopes: Iterable[str], model_a: str, model_b: str, winner: str) -> None:
        """Apply one vote to each of ``scopes``.

        Raises:
            KeyError: ``winner`` is not a vote-log winner value.
        """
        score = SCORE_A[winner]
        for scope in scopes:
            a = self.records.setdefault((scope, model_a), Record())
            b = self.records.setdefault((scope, model_b), Record())
            a.elo, b.elo = update(a.elo, b.elo, score, self.k)
            if score == 1.0:
                a.wins += 1
                b.losses += 1
            elif score == 0.0:
                a.losses += 1
                b.wins += 1
            else:
                a.ties += 1
                b.ties += 1
