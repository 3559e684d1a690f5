"""Online Elo: the update applied with every vote, and a replay of a whole vote log.

Ratings are on the usual scale: initial 1000, a 400-point difference means 10:1 odds. A win
scores 1, a loss 0 and a tie 0.5 for each side.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

INITIAL = 1000.0
SCALE = 400.0
DEFAULT_K = 32.0

#: Score of model A for each winner value of the vote log (``model_a`` is the left model).
SCORE_A = {"model_a": 1.0, "model_b": 0.0, "tie": 0.5, "tie (bothbad)": 0.5}


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
