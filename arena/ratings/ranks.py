"""Ranks and orderings by rating: 1-based positions (ties share the better rank), best first."""

from __future__ import annotations

import numpy as np


def competition_ranks(ratings: np.ndarray) -> np.ndarray:
    """Standard competition ranking ("1224") of ``ratings`` (shape ``(n,)``), best = 1.

    Returns an int array of shape ``(n,)``: 1 + the number of strictly higher ratings.
    """
    ratings = np.asarray(ratings, dtype=float)
    ordered = np.sort(ratings)[::-1]
    # For each rating, how many are strictly greater: the insertion point in descending order.
    return 1 + np.searchsorted(-ordered, -ratings, side="left")


def best_first(ratings: np.ndarray) -> np.ndarray:
    """Indices that order ``ratings`` (shape ``(n,)``) from highest to lowest.

    Returns an int64 array of shape ``(n,)``; equal ratings keep their index order.
    """
    return np.argsort(-np.asarray(ratings, dtype=float), kind="stable")
