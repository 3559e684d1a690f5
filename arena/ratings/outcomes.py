"""Vote outcomes: what a voter may answer, how it lands in the vote log, and what it scores."""

from __future__ import annotations

from arena.ratings.elo import SCORE_A

#: What a voter may answer on a two-image battle, and the vote log's ``winner`` value for it
#: (``model_a`` is the left image's model).
CHOICES = {"left": "model_a", "right": "model_b", "tie": "tie", "both_bad": "tie (bothbad)"}

#: Model A's (wins, losses, ties) added by one vote, by A's score; B's are (losses, wins, ties).
_TALLY = {1.0: (1, 0, 0), 0.0: (0, 1, 0), 0.5: (0, 0, 1)}


def score_a(winner: str) -> float:
    """Model A's score (1, 0.5 or 0) for a vote-log ``winner`` value.

    Raises:
        KeyError: ``winner`` is not one of the vote log's winner values.
    """
    return SCORE_A[winner]


def tally(score: float) -> tuple[int, int, int]:
    """Model A's (wins, losses, ties) from one vote in which A scored ``score``.

    Raises:
        KeyError: ``score`` is not 1, 0.5 or 0.
    """
    return _TALLY[score]


def ranking_outcomes(tiers: list[list[int]], size: int) -> list[tuple[int, int, str]]:
    """The pairwise outcomes of a ranking of ``size`` images, best tier first.

    Images in one tier tie; an image in an earlier tier beats every image in a later one.
    Images left out of every tier (a best pick is ``[[best]]``) are compared only with the
    ranked ones, as losers to each: a best pick is three wins over the other three, nothing
    between them. Each pair comes once, earlier position first (``model_a``), in position
    order, so the log reads the same however the ranking was written.

    Returns:
        ``(position a, position b, winner)`` with ``winner`` a vote-log value of A's view.

    Raises:
        ValueError: a position outside ``[0, size)``, or one listed twice, or no position.
    """
    tier_of: dict[int, int] = {}
    for rank, tier in enumerate(tiers):
        for position in tier:
            if not isinstance(position, int) or isinstance(position, bool):
                raise ValueError(f"positions are whole numbers 0 to {size - 1}")
            if not 0 <= position < size:
                raise ValueError(f"position {position} is not between 0 and {size - 1}")
            if position in tier_of:
                raise ValueError(f"position {position} is ranked twice")
            tier_of[position] = rank
    if not tier_of:
        raise ValueError("the ranking names no image")
    unranked = len(tiers)  # below every tier, and not compared among themselves
    outcomes = []
    for a in range(size):
        for b in range(a + 1, size):
            ta, tb = tier_of.get(a, unranked), tier_of.get(b, unranked)
            if ta == tb == unranked:
                continue
            outcomes.append((a, b, "tie" if ta == tb else ("model_a" if ta < tb else "model_b")))
    return outcomes
