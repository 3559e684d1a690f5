"""How an import words the problems it finds: row numbers and values, a few of each."""

from __future__ import annotations

import numpy as np
import pandas as pd

from arena.errors import ValidationError

#: How many row numbers and distinct values a problem lists before "…".
SHOW_ROWS = 5
SHOW_VALUES = 10


def refuse(problems: list[str]) -> None:
    listed = "\n".join(f"- {problem}" for problem in problems)
    raise ValidationError(
        f"nothing imported: {len(problems)} problem{'s' if len(problems) > 1 else ''}"
        f" (rows are data rows, counted from 1):\n{listed}",
        field="file",
    )


def count(mask: np.ndarray) -> str:
    n = int(mask.sum())
    return f"{n} row{'s' if n != 1 else ''}"


def rows_of(mask_or_positions: np.ndarray) -> str:
    """``rows 3, 7, 9, …`` for a boolean mask or 0-based positions."""
    positions = (
        np.flatnonzero(mask_or_positions) if mask_or_positions.dtype == bool else mask_or_positions
    )
    shown = ", ".join(str(p + 1) for p in positions[:SHOW_ROWS])
    more = ", …" if len(positions) > SHOW_ROWS else ""
    return f"row{'s' if len(positions) > 1 else ''} {shown}{more}"


def values_of(values: pd.Series, *, quote: bool = True) -> str:
    """The distinct values, most frequent first, with their counts: ``'x' (3 rows), …``."""
    # Equal counts keep the order of first appearance in the file (index = row).
    ordered = values.sort_index(kind="stable").value_counts(sort=False)
    counts = ordered.sort_values(ascending=False, kind="stable")
    shown = [
        f"{(repr(v) if v else '(blank)') if quote else v} ({n} row{'s' if n != 1 else ''})"
        for v, n in counts.head(SHOW_VALUES).items()
    ]
    if len(counts) > SHOW_VALUES:
        shown.append(f"and {len(counts) - SHOW_VALUES} more")
    return ", ".join(shown)
