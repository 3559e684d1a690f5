"""Per-voter anomaly scores: how far a voter's choices stray from the consensus (pure numpy).

Each decided vote (a win, not a tie) carries ``expected_a``, model A's expected score from
the competition's Elo just before the vote. A voter who judges like the crowd picks the
favourite with probability ``q = max(p, 1 - p)``. Over a voter's votes the number of
favourites picked is a sum of independent Bernoulli(q) draws, so

    z = (sum(q) - favourites picked) / sqrt(sum(q * (1 - q)))

is approximately standard normal for an honest voter (a one-sided test in the spirit of
FastChat's anomalous-user check): a large positive ``z`` means the voter sides with the
underdog far more often than chance allows, as a bot voting at random or a fan pushing one
model does. Votes with no information (``p == 0.5``) add nothing to either side.
"""

from __future__ import annotations

import numpy as np

#: Voters with fewer decided, informative votes get no score (too little evidence).
MIN_VOTES = 10


def anomaly_scores(
    voter: np.ndarray,
    a_won: np.ndarray,
    expected_a: np.ndarray,
    n_voters: int,
    *,
    min_votes: int = MIN_VOTES,
) -> np.ndarray:
    """One z-score per voter (NaN where there is too little evidence).

    Args:
        voter: shape (n,), int, the voter index 0..n_voters-1 of each decided vote.
        a_won: shape (n,), bool, True when model A won the vote, False when model B did.
        expected_a: shape (n,), float in [0, 1], model A's expected score before the vote.
        n_voters: number of voters (length of the result).
        min_votes: informative votes a voter needs before a score is given.

    Returns:
        shape (n_voters,), float: the z-score above, NaN for voters under ``min_votes``.
    """
    voter = np.asarray(voter, dtype=np.int64)
    p = np.clip(np.asarray(expected_a, dtype=np.float64), 0.0, 1.0)
    a_won = np.asarray(a_won, dtype=bool)
    informative = p != 0.5
    voter, p, a_won = voter[informative], p[informative], a_won[informative]
    favourite_a = p > 0.5
    q = np.where(favourite_a, p, 1.0 - p)
    picked_favourite = (a_won == favourite_a).astype(np.float64)
    counts = np.bincount(voter, minlength=n_voters)
    expected = np.bincount(voter, weights=q, minlength=n_voters)
    observed = np.bincount(voter, weights=picked_favourite, minlength=n_voters)
    variance = np.bincount(voter, weights=q * (1.0 - q), minlength=n_voters)
    scores = np.full(n_voters, np.nan)
    enough = (counts >= min_votes) & (variance > 0)
    scores[enough] = (expected[enough] - observed[enough]) / np.sqrt(variance[enough])
    return scores
