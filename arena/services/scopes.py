"""Leaderboard scopes: overall, each category and each competition, and their public keys."""

from __future__ import annotations

OVERALL = "overall"


def scope_key(kind: str, slug: str | None = None) -> str:
    """The public key of a scope: ``overall``, ``category:<slug>``, ``competition:<slug>``."""
    return OVERALL if kind == OVERALL else f"{kind}:{slug}"
