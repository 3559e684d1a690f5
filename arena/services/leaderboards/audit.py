"""The influence audit stored with every snapshot: who moves a scope's published ratings most.

For one scope's fitted votes: every voter's (and every address's) influence is estimated at
once by one Newton step (``arena.ratings.rigging.influence``); the ``TOP`` most influential
voters are then left out together and the scope refitted exactly, and separately the ``TOP``
most influential addresses; per model the audit records how far the rating and the rank
move. The result is plain JSON (``Snapshot.audit``), read by the admin's audit page.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from arena.ratings import published, rigging
from arena.ratings.ranks import competition_ranks

#: Voters (and addresses) left out by the exact refit.
TOP = 5


def _leaders(shifts: np.ndarray) -> np.ndarray:
    """Indices of the ``TOP`` groups whose removal moves some rating most, most first."""
    size = np.abs(shifts).max(axis=1) if shifts.size else np.zeros(shifts.shape[0])
    order = np.argsort(-size, kind="stable")[:TOP]
    return order[size[order] > 0]


def _refit_without(
    scope_votes: pd.DataFrame,
    leave_out: np.ndarray,
    n: int,
    fit: published.PublishedRatings,
    ties: str,
) -> dict[str, Any]:
    """Refit without the votes in ``leave_out`` (bool per vote); per model rating/rank moves."""
    keep = ~leave_out
    a = scope_votes["ai"].to_numpy()[keep]
    b = scope_votes["bi"].to_numpy()[keep]
    outcome = scope_votes["outcome"].to_numpy()[keep]
    refit = published.publish(a, b, outcome, n, rounds=0, rng=np.random.default_rng(0), ties=ties)
    before, after = competition_ranks(fit.ratings), competition_ranks(refit.ratings)
    moves = refit.ratings - fit.ratings
    return {
        "votes_left_out": int(leave_out.sum()),
        "max_shift": round(float(np.abs(moves).max()), 2) if n else 0.0,
        "max_rank_move": int(np.abs(after - before).max()) if n else 0,
        "models": [
            {
                "model": i,
                "shift": round(float(moves[i]), 2),
                "rank": int(before[i]),
                "rank_without": int(after[i]),
            }
            for i in range(n)
        ],
    }


def audit_scope(
    scope_votes: pd.DataFrame,
    model_ids: np.ndarray,
    fit: published.PublishedRatings,
    ties: str,
    addresses: list[str | None],
) -> dict[str, Any]:
    """The influence audit of one scope (model indices mapped back to model ids).

    Args:
        scope_votes: the fitted votes with ``ai``, ``bi`` (model indices), ``outcome``,
            ``voter_id`` (0: none) and ``address`` (index into ``addresses``; -1: none).
        model_ids: the model id of each index.
        fit: the scope's published fit of exactly these votes.
        ties: the tie model it was fitted with.
        addresses: the address hash of each address code.

    Returns:
        ``{"top", "voters", "addresses", "without_voters", "without_addresses"}`` (the last
        two None when there is nobody to leave out).
    """
    n = len(model_ids)
    ai, bi = scope_votes["ai"].to_numpy(), scope_votes["bi"].to_numpy()
    outcome = scope_votes["outcome"].to_numpy()
    result: dict[str, Any] = {"top": TOP}
    for name, column in (("voters", "voter_id"), ("addresses", "address")):
        ids = scope_votes[column].to_numpy()
        present = ids > 0 if column == "voter_id" else ids >= 0
        keys, group = np.unique(ids[present], return_inverse=True)
        shifts = rigging.influence(
            group, ai[present], bi[present], outcome[present], fit.ratings, len(keys)
        )
        votes = np.bincount(group, minlength=len(keys))
        members = scope_votes.loc[present].groupby(column)["voter_id"].nunique()
        leaders = _leaders(shifts)
        rows = []
        for i in leaders:
            row: dict[str, Any] = {
                "votes": int(votes[i]),
                "shift": round(float(np.abs(shifts[i]).max()), 2),
                "model": int(model_ids[int(np.abs(shifts[i]).argmax())]),
            }
            if column == "voter_id":
                row["voter_id"] = int(keys[i])
            else:
                row["address_hash"] = addresses[int(keys[i])]
                row["voters"] = int(members.get(int(keys[i]), 0))
            rows.append(row)
        result[name] = rows
        moved = None
        if len(leaders):
            left_out = present & np.isin(ids, keys[leaders])
            moved = _refit_without(scope_votes, left_out, n, fit, ties)
            for row in moved["models"]:
                row["model"] = int(model_ids[row["model"]])
        result[f"without_{name}"] = moved
    return result
