"""Battles per unordered pair of models: aggregation of a vote log, and head-to-head tables."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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

    @property
    def model_battles(self) -> np.ndarray:
        """Battles per model, int64 ``(n_models,)``."""
        out = np.zeros(self.n_models, dtype=np.int64)
        np.add.at(out, self.a, self.battles)
        np.add.at(out, self.b, self.battles)
        return out


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


def model_ties(cells: Cells) -> np.ndarray:
    """Ties per model, int64 ``(n_models,)``."""
    out = np.zeros(cells.n_models, dtype=np.int64)
    np.add.at(out, cells.a, cells.ties)
    np.add.at(out, cells.b, cells.ties)
    return out


def decisive_cells(cells: Cells) -> Cells:
    """``cells`` without their ties (the same pairs, so that counts still line up)."""
    return Cells(
        cells.a, cells.b, cells.wins_a, cells.wins_b, np.zeros_like(cells.ties), cells.n_models
    )


def cell_of(
    model_a: np.ndarray,
    model_b: np.ndarray,
    outcome: np.ndarray,
    cells: Cells,
    *,
    lump_ties: bool = False,
) -> np.ndarray:
    """The cell of each battle among ``cells``' ``3p`` (pair, outcome) cells.

    Cells are laid out as ``wins_a`` (``0 .. p-1``), ``wins_b`` (``p .. 2p-1``), then
    ``ties``: battle ``k`` lies in cell ``outcome' * p + pair``, where ``outcome'`` is its
    outcome as seen from the pair's ``a`` side. With ``lump_ties``, every tie is in one cell,
    ``2p`` (for fits that leave ties out: ``2p + 1`` cells).

    Args:
        model_a, model_b, outcome: the battles (as for :func:`aggregate`), shape ``(m,)``.
        cells: their :func:`aggregate`.
        lump_ties: put all ties in cell ``2p``.

    Returns:
        int64 ``(m,)``.
    """
    a = np.asarray(model_a, dtype=np.int64).ravel()
    b = np.asarray(model_b, dtype=np.int64).ravel()
    o = np.asarray(outcome, dtype=np.int64).ravel()
    n, p = cells.n_models, cells.a.size
    swap = a > b
    key = np.where(swap, b, a) * n + np.where(swap, a, b)
    pair = np.searchsorted(cells.a * n + cells.b, key)
    if lump_ties:
        return np.where(o == 2, 2 * p, np.where(swap, 1 - o, o) * p + pair)
    return np.where(swap & (o < 2), 1 - o, o) * p + pair


def head_to_head(cells: Cells) -> tuple[np.ndarray, np.ndarray]:
    """Battles and win fractions of every model against every other, row model vs column.

    Args:
        cells: battles per pair.

    Returns:
        ``(battles, win_fraction)``: int64 ``(n, n)``, the battles between models ``i`` and
        ``j`` (symmetric, 0 on the diagonal and between models that never met); float64
        ``(n, n)``, the score of ``i`` against ``j`` (wins plus half the ties) divided by
        their battles, NaN where there are none. ``n`` is ``cells.n_models``.
    """
    n = cells.n_models
    battles = np.zeros((n, n), dtype=np.int64)
    score = np.zeros((n, n))
    total = cells.battles
    battles[cells.a, cells.b] = total
    battles[cells.b, cells.a] = total
    half = cells.ties / 2
    score[cells.a, cells.b] = cells.wins_a + half
    score[cells.b, cells.a] = cells.wins_b + half
    met = battles > 0
    win_fraction = np.full((n, n), np.nan)
    np.divide(score, battles, out=win_fraction, where=met)
    return battles, win_fraction
