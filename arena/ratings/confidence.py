"""Confidence from bootstrap samples: percentile intervals, the best rank a model can hold."""

from __future__ import annotations

import numpy as np


def intervals(samples: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Per-model percentile interval of bootstrap samples.

    Args:
        samples: ``(R, n)`` ratings, one row per bootstrap round.
        level: coverage, e.g. 0.95 for the 2.5% and 97.5% quantiles.

    Returns:
        ``(low, high)``, two float64 ``(n,)`` arrays.

    Raises:
        ValueError: ``level`` not strictly between 0 and 1, or no samples.
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

    Raises:
        ValueError: ``low`` and ``high`` are not 1-D arrays of one length.
    """
    low = np.asarray(low, dtype=np.float64)
    high = np.asarray(high, dtype=np.float64)
    if low.shape != high.shape or low.ndim != 1:
        raise ValueError("low and high must be 1-D arrays of the same length")
    ordered = np.sort(low)
    return 1 + (low.size - np.searchsorted(ordered, high, side="right")).astype(np.int64)
