"""Anonymous voters: the identity carried in the signed cookie, created on first visit.

A voter row records, when it is created, keyed hashes of the client's address and network
(:func:`address_hashes`), never the address itself. A new voter proves some work once
(``verified_at``, see ``arena.services.voting.proof``); until then, where the app asks for it,
its votes are refused with :class:`VoterUnverified`. A verified voter's votes enter the
published fit only past probation (:func:`past_probation`); the live Elo counts them at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, insert, select, update

from arena.db import Database
from arena.errors import Forbidden
from arena.models import Battle, Vote, Voter, utcnow

#: Probation: a voter's votes enter the published fit once the voter is verified, was
#: verified at least ``PROBATION_MINUTES`` ago and has cast at least ``PROBATION_VOTES`` votes.
PROBATION_VOTES = 10
PROBATION_MINUTES = 10

#: Hex characters kept of each HMAC-SHA256 address hash.
ADDRESS_HASH_LENGTH = 32
#: The network an address belongs to: IPv4 /24, IPv6 /48.
IPV4_NETWORK_PREFIX = 24
IPV6_NETWORK_PREFIX = 48


class VoterUnverified(Forbidden):
    """A vote from a voter who has not yet proved the new-voter work."""

    code = "voter_unverified"


@dataclass(frozen=True)
class VoterIdentity:
    """A voter as carried in the signed cookie: database id and public pseudonym."""

    id: int
    public_id: str


def derive_key(secret: str | bytes, purpose: str) -> bytes:
    """A key for one ``purpose`` derived from the app's secret (HMAC-SHA256), so the secret
    itself never keys two different things."""
    raw = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(raw, b"arena\0" + purpose.encode(), hashlib.sha256).digest()


def _network(address: str) -> str:
    """The /24 (IPv4) or /48 (IPv6) network of ``address``; the text itself if unparsable."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = IPV4_NETWORK_PREFIX if ip.version == 4 else IPV6_NETWORK_PREFIX
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def address_hashes(secret: bytes, address: str) -> tuple[str, str]:
    """Keyed hashes of a client address and of its network (IPv4 /24, IPv6 /48).

    Args:
        secret: the HMAC key (derived from the app's secret, e.g. ``derive_key(…, "address")``).
        address: the client address as text (IPv4, IPv6, or anything else as given).

    Returns:
        (address hash, network hash): HMAC-SHA256 hex digests cut to 32 characters.
    """

    def digest(label: bytes, value: str) -> str:
        return hmac.new(secret, label + value.encode(), hashlib.sha256).hexdigest()[
            :ADDRESS_HASH_LENGTH
        ]

    return digest(b"address\0", address), digest(b"network\0", _network(address))


def voter_exists(db: Database, voter: VoterIdentity) -> bool:
    """Whether the cookie's voter still has its row."""
    with db.engine.connect() as conn:
        found = conn.execute(
            select(Voter.id).where(Voter.id == voter.id, Voter.public_id == voter.public_id)
        ).first()
    return found is not None


def create_voter(db: Database, hashes: tuple[str, str] | None = None) -> VoterIdentity:
    """A new anonymous voter, with its address and network hashes when given."""
    public_id = secrets.token_hex(16)
    address_hash, network_hash = hashes or (None, None)

    def create() -> VoterIdentity:
        with db.write_transaction() as conn:
            voter_id = conn.execute(
                insert(Voter)
                .values(
                    public_id=public_id,
                    created_at=utcnow(),
                    flagged=False,
                    address_hash=address_hash,
                    network_hash=network_hash,
                )
                .returning(Voter.id)
            ).scalar_one()
        return VoterIdentity(voter_id, public_id)

    return db.retry_when_busy(create)


def ensure_voter(db: Database, voter: VoterIdentity | None) -> VoterIdentity:
    """The voter from the cookie if it still exists, else a new anonymous voter."""
    if voter is not None and voter_exists(db, voter):
        return voter
    return create_voter(db)


def mark_verified(db: Database, voter: VoterIdentity) -> dt.datetime:
    """Record that ``voter`` proved the new-voter work (the first time counts); returns
    when the voter was verified."""

    def write() -> dt.datetime:
        with db.write_transaction() as conn:
            conn.execute(
                update(Voter)
                .where(Voter.id == voter.id, Voter.verified_at.is_(None))
                .values(verified_at=utcnow())
            )
            return conn.execute(select(Voter.verified_at).where(Voter.id == voter.id)).scalar_one()

    return db.retry_when_busy(write)


def is_verified(db: Database, voter: VoterIdentity | None) -> bool:
    """Whether the voter has proved the new-voter work (False without a voter)."""
    if voter is None:
        return False
    with db.engine.connect() as conn:
        verified = conn.execute(select(Voter.verified_at).where(Voter.id == voter.id)).first()
    return verified is not None and verified.verified_at is not None


def past_probation(now: dt.datetime) -> ColumnElement[bool]:
    """A SQL condition on ``Voter``: the voter's votes may enter the published fit.

    True once the voter is verified, was verified at least ``PROBATION_MINUTES`` before
    ``now`` and has cast at least ``PROBATION_VOTES`` votes (a count on the votes' voter
    index: the voter row keeps only today's count; a best-of-four vote's rows are one vote).
    """
    votes = (
        select(func.count(func.distinct(func.coalesce(Vote.battle_id, -Vote.id))))
        .where(Vote.voter_id == Voter.id)
        .scalar_subquery()
    )
    return and_(
        Voter.verified_at.is_not(None),
        Voter.verified_at <= now - dt.timedelta(minutes=PROBATION_MINUTES),
        votes >= PROBATION_VOTES,
    )


def voter_vote_count(db: Database, voter: VoterIdentity | None) -> int:
    """How many votes this voter has given (0 without a voter): battles voted on, so a
    best-of-four vote (several rows of the log) is one vote."""
    if voter is None:
        return 0
    with db.engine.connect() as conn:
        return conn.execute(
            select(func.count())
            .select_from(Battle)
            .where(Battle.voter_id == voter.id, Battle.voted_at.is_not(None))
        ).scalar_one()
