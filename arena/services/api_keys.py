"""API keys for the OpenAI-compatible endpoint: create (shown once), revoke, authenticate."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from arena.errors import Conflict, NotFound, Unauthorized, ValidationError
from arena.models import ApiKey, utcnow

PREFIX = "arena-"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, name: str) -> str:
    """Create a key named ``name`` and return it; only its SHA-256 is stored.

    Raises:
        ValidationError: empty or overlong name.
        Conflict: a key with this name exists (revoked ones too: names are never reused).
    """
    name = name.strip()
    if not name or len(name) > 120:
        raise ValidationError("key name must be 1 to 120 characters", field="name")
    key = PREFIX + secrets.token_urlsafe(32)
    session.add(ApiKey(name=name, prefix=key[: len(PREFIX) + 6], key_hash=_digest(key)))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"an API key named {name!r} already exists", field="name") from None
    return key


def revoke_key(session: Session, name: str) -> ApiKey:
    """Revoke the key named ``name`` (idempotent).

    Raises:
        NotFound: no key has this name.
    """
    key = session.scalar(select(ApiKey).where(ApiKey.name == name))
    if key is None:
        raise NotFound(f"no API key named {name!r}", field="name")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.commit()
    return key


def authenticate(session: Session, authorization: str | None) -> ApiKey:
    """The active key behind an ``Authorization: Bearer <key>`` header.

    Raises:
        Unauthorized: no header, not a bearer token, unknown or revoked key.
    """
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized(
            "missing API key: send 'Authorization: Bearer <key>' (create one with "
            "`arena api-key create NAME`)"
        )
    key = session.scalar(
        select(ApiKey).where(ApiKey.key_hash == _digest(authorization[7:].strip()))
    )
    if key is None:
        raise Unauthorized("incorrect API key provided")
    if key.revoked_at is not None:
        raise Unauthorized("this API key has been revoked")
    return key
