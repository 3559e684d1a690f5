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
