"""Who is signed in to the admin: the password check and the mark in the signed session cookie.

The mark holds the sign-in time and a fingerprint of the admin password (an HMAC under the
app's secret key), so a sign-in lapses after ``MAX_AGE`` and every sign-in ends when the
password changes. There is one operator password (``ARENA_ADMIN_PASSWORD``); without it
the admin is disabled and nobody can sign in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import time
from urllib.parse import urlsplit

from flask import current_app, session

SESSION_KEY = "admin"
MAX_AGE = dt.timedelta(hours=12)


def now() -> float:
    """The current time in seconds (a function, so tests can move the clock)."""
    return time.time()


def admin_password() -> str | None:
    """The configured admin password, or None when the admin is disabled."""
    return current_app.config.get("ADMIN_PASSWORD") or None


def _fingerprint(password: str) -> str:
    key = current_app.secret_key
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, b"arena-admin\0" + password.encode(), hashlib.sha256).hexdigest()


def password_matches(given: str) -> bool:
    """True when ``given`` is the admin password (compared in constant time)."""
    password = admin_password()
    if password is None:
        return False
    return hmac.compare_digest(given.encode(), password.encode())


def signed_in() -> bool:
    """True when this browser signed in less than ``MAX_AGE`` ago with the current password."""
    mark = session.get(SESSION_KEY)
    password = admin_password()
    if not isinstance(mark, dict) or password is None:
        return False
    at, key = mark.get("at"), mark.get("key")
    if not isinstance(at, int | float) or not isinstance(key, str):
        return False
    age = now() - at
    if not -60 <= age <= MAX_AGE.total_seconds():
        return False
    return hmac.compare_digest(key, _fingerprint(password))


def sign_in() -> None:
    """Mark this browser as signed in (the password must have been checked)."""
    password = admin_password()
    assert password is not None, "sign_in() needs ARENA_ADMIN_PASSWORD"
    session[SESSION_KEY] = {"at": int(now()), "key": _fingerprint(password)}
    session.permanent = True


def sign_out() -> None:
    """Forget the sign-in."""
    session.pop(SESSION_KEY, None)


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirects).

    Refuses absolute URLs, scheme-relative ``//host`` ones, backslashes (which browsers
    read as slashes) and control characters.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
