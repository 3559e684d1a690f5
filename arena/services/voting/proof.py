"""The new voter's proof of work: ALTCHA challenges (v1: SHA-256), made and checked here.

A challenge is ``sha256(salt + number)`` for a secret number up to ``maxnumber``, signed with
an HMAC key derived from the app's secret; the salt carries its expiry. The solver tries
numbers until the hash matches and sends back the number with the challenge. A solution is
good once: ``first_use`` (a shared store's counter) refuses a replayed signature until the
challenge has expired. Challenges are bound to nothing else, so one may be fetched before the
voter exists.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any

import altcha

from arena.errors import Conflict, Gone, ValidationError

#: How long a challenge may be solved and sent back.
CHALLENGE_TTL = dt.timedelta(minutes=10)
ALGORITHM = "SHA-256"
#: The largest base64 payload accepted (a real one is about 300 characters).
MAX_PAYLOAD_LENGTH = 2000
_FIELDS = {"algorithm": str, "challenge": str, "number": int, "salt": str, "signature": str}


def create_challenge(key: bytes, maxnumber: int, now: dt.datetime) -> dict[str, Any]:
    """A new challenge, as JSON: ``{algorithm, challenge, salt, signature, maxnumber}``."""
    challenge = altcha.create_challenge_v1(
        altcha.ChallengeOptionsV1(
            algorithm=ALGORITHM,
            max_number=maxnumber,
            hmac_key=key,
            expires=now + CHALLENGE_TTL,
        )
    )
    return {
        "algorithm": challenge.algorithm,
        "challenge": challenge.challenge,
        "salt": challenge.salt,
        "signature": challenge.signature,
        "maxnumber": challenge.max_number,
    }


def _decode(payload: object) -> dict[str, Any]:
    """The payload's fields, checked for shape.

    Raises:
        ValidationError: not a base64 JSON object with the ALTCHA fields and types.
    """
    problem = (
        "altcha must be the base64 JSON solution of a challenge from GET /api/v1/voters/challenge"
    )
    if not isinstance(payload, str) or not payload or len(payload) > MAX_PAYLOAD_LENGTH:
        raise ValidationError(problem, field="altcha")
    try:
        data = json.loads(base64.b64decode(payload, validate=True).decode())
    except (binascii.Error, ValueError):
        raise ValidationError(problem, field="altcha") from None
    if not isinstance(data, dict) or any(
        type(data.get(name)) is not kind for name, kind in _FIELDS.items()
    ):
        raise ValidationError(
            problem + " (fields algorithm, challenge, number, salt, signature)", field="altcha"
        )
    return data


def _expires(salt: str) -> float | None:
    _, expires, _ = altcha.PayloadV1("SHA-256", "", 0, salt, "").parse_salt()
    return expires


def verify_solution(
    key: bytes, payload: object, first_use: Callable[[str, int], bool], now: float | None = None
) -> None:
    """Check a solution and spend it.

    Args:
        key: the HMAC key the challenge was signed with.
        payload: the base64 JSON solution (as the ALTCHA widget sends it).
        first_use: called with the challenge's signature and the seconds it must be
            remembered; True the first time only (across every worker).
        now: the current Unix time (the clock by default).

    Raises:
        ValidationError: malformed, or not a solution of one of our challenges.
        Gone: the challenge has expired; fetch a new one.
        Conflict: this solution was used already.
    """
    data = _decode(payload)
    now = time.time() if now is None else now
    expires = _expires(data["salt"])
    if data["algorithm"] != ALGORITHM or expires is None:
        raise ValidationError(
            "altcha is not a solution of one of this arena's challenges", field="altcha"
        )
    ok, _ = altcha.verify_solution_v1(data, key, check_expires=False)
    if not ok:
        raise ValidationError(
            "altcha does not solve its challenge (or the challenge is not this arena's)",
            field="altcha",
        )
    if expires <= now:
        raise Gone("this challenge has expired; fetch a new one and solve it", field="altcha")
    if not first_use(data["signature"], int(expires - now) + 1):
        raise Conflict("this solution was used already; fetch a new challenge", field="altcha")
