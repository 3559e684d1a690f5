"""Ranks: 1-based position by rating, equal ratings sharing the better rank."""

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
