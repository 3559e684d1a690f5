"""The anonymous voter identity, kept in Flask's signed session cookie."""

from __future__ import annotations

from flask import session

from arena.services.voting.voters import VoterIdentity

_KEY = "voter"


def current_voter() -> VoterIdentity | None:
    """The voter named by the signed cookie, or None for a newcomer."""
    value = session.get(_KEY)
    if (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], int)
        and isinstance(value[1], str)
    ):
        return VoterIdentity(value[0], value[1])
    return None


def remember_voter(voter: VoterIdentity) -> None:
    """Store the voter in the cookie (only written when it changes)."""
    if current_voter() != voter:
        session[_KEY] = [voter.id, voter.public_id]
        session.permanent = True
