"""The anonymous voter identity, kept in Flask's signed session cookie.

A request without a voter that needs one gets a new voter row (:func:`request_voter`): limited
per client address (``ARENA_NEW_VOTERS_PER_ADDRESS``) and stamped with the keyed hashes of
the address and its network. Votes carry the address hash too (:func:`request_address_hash`).
"""

from __future__ import annotations

import functools

from flask import current_app, session

from arena.services.voting import voters
from arena.services.voting.voters import VoterIdentity
from arena.web.db import get_db
from arena.web.security import admit_new_voter, client_address

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


@functools.lru_cache(maxsize=4096)
def _hashes(key: bytes, address: str) -> tuple[str, str]:
    return voters.address_hashes(key, address)


def _address_key() -> bytes:
    app = current_app
    key = app.extensions.get("arena.address_key")
    if key is None:
        key = app.extensions["arena.address_key"] = voters.derive_key(
            app.config["SECRET_KEY"], "address-hash"
        )
    return key


def request_address_hashes() -> tuple[str, str]:
    """The keyed hashes of this request's client address and network."""
    return _hashes(_address_key(), client_address())


def request_address_hash() -> str:
    """The keyed hash of this request's client address (stored on each vote)."""
    return request_address_hashes()[0]


def request_voter(*, check_row: bool = False) -> VoterIdentity:
    """The cookie's voter, or a new one remembered in the cookie.

    A new voter counts against its address's ``ARENA_NEW_VOTERS_PER_ADDRESS`` and records the
    address and network hashes. ``check_row``: also replace a cookie whose voter row is gone
    (otherwise the services' ``ensure_voter`` does that when it issues a battle).

    Raises:
        TooManyNewVoters: the address has created its share of new voters (429).
    """
    voter = current_voter()
    if voter is not None and (not check_row or voters.voter_exists(get_db(), voter)):
        return voter
    admit_new_voter()
    voter = voters.create_voter(get_db(), request_address_hashes())
    remember_voter(voter)
    return voter
