"""Request-level defences: CSRF on forms, rate limits on voting, and security headers.

Forms (the voting page, the admin) carry a CSRF token checked by Flask-WTF's CSRFProtect.
The JSON API has its own protections and is exempt: battle tokens are bound to the voter's
``SameSite=Lax`` cookie and its POSTs must be ``application/json`` (which a cross-site form
cannot send), and the image endpoint takes a Bearer API key.

Voting is rate limited per voter (the signed voter cookie) and per client address, and new
voters per client address, with Flask-Limiter. Every worker shares the counts: in Redis when
``ARENA_REDIS_URL`` is set (across machines), else in a SQLite file of this machine
(``arena.web.limit_store``). The same store remembers spent proof-of-work solutions.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError, CSRFProtect
from limits import parse_many
from werkzeug.middleware.proxy_fix import ProxyFix

from arena.errors import ArenaError, CsrfFailed
from arena.web import limit_store
from arena.web.errors import respond

F = TypeVar("F", bound=Callable[..., Any])

csrf = CSRFProtect()

#: No inline script or style anywhere: every script and stylesheet is a file under /static.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


def client_address() -> str:
    """The client's address (the proxy's ``X-Forwarded-For`` once ProxyFix trusts it)."""
    return get_remote_address() or "unknown"


def _voter_id() -> int | None:
    value = session.get("voter")
    if isinstance(value, list) and value and isinstance(value[0], int):
        return value[0]
    return None


def voter_key() -> str:
    """Whom the per-voter limit counts: the voter in the signed cookie."""
    return f"voter:{_voter_id()}"


#: What the limiter parses when a limit is ``off``: the view is exempt then, but Flask-Limiter
#: still parses the value and would drop every limit of the view on a parse error.
_UNUSED_LIMIT = "1/second"


def _voter_limit() -> str:
    value = current_app.config["RATE_LIMIT"]
    return _UNUSED_LIMIT if value == "off" else value


def _ip_limit() -> str:
    value = current_app.config["IP_RATE_LIMIT"]
    return _UNUSED_LIMIT if value == "off" else value


def _voter_limit_configured_off() -> bool:
    return current_app.config["RATE_LIMIT"] == "off"


def _voter_limit_off() -> bool:
    # A newcomer has no voter yet and only meets the address limit. A script that drops its
    # cookie can fetch battles that way but never vote on them: a vote needs the cookie of
    # the voter the battle was issued to, so every vote meets the per-voter limit.
    return _voter_limit_configured_off() or _voter_id() is None


def _ip_limit_off() -> bool:
    return current_app.config["IP_RATE_LIMIT"] == "off"


#: A sliding window estimated from two fixed-window counters: O(1) per request in memory and
#: in Redis, where a true moving window keeps (and scans) one entry per request.
STRATEGY = "sliding-window-counter"

limiter = Limiter(key_func=client_address, headers_enabled=True, strategy=STRATEGY)


def voting_limits(scope: str) -> Callable[[F], F]:
    """Rate limit a view per voter and per client address (``scope`` groups views).

    The limits come from ``ARENA_RATE_LIMIT`` (per voter) and ``ARENA_IP_RATE_LIMIT`` (per
    address, wider because several people may share one); ``off`` disables either.
    """
    per_voter = limiter.shared_limit(
        _voter_limit,
        scope=f"{scope}:voter",
        key_func=voter_key,
        exempt_when=_voter_limit_off,
        error_message=lambda: (
            f"Too many requests: the limit is {_voter_limit()} per voter. "
            "Please wait a little (Retry-After says how long), then go on."
        ),
    )
    per_address = limiter.shared_limit(
        _ip_limit,
        scope=f"{scope}:ip",
        key_func=client_address,
        exempt_when=_ip_limit_off,
        error_message=lambda: (
            f"Too many requests from your address: the limit is {_ip_limit()}. "
            "Please wait a little (Retry-After says how long), then go on."
        ),
    )

    def decorate(view: F) -> F:
        limited = per_address(per_voter(view))

        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            # Both limits off (a proxy limits instead, or tests): skip Flask-Limiter's
            # bookkeeping, about a tenth of a millisecond per request even for exempt limits.
            if _voter_limit_configured_off() and _ip_limit_off():
                return view(*args, **kwargs)
            return limited(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate


class TooManyNewVoters(ArenaError):
    """An address has created its share of new voters; ``retry_after`` is in seconds."""

    status = 429
    code = "too_many_new_voters"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, field=None)
        self.retry_after = retry_after


def admit_new_voter() -> None:
    """Count a new voter against the client address's ``NEW_VOTERS_PER_ADDRESS``.

    Raises:
        TooManyNewVoters: the address is over its limit (nothing is counted then).
    """
    value = current_app.config["NEW_VOTERS_PER_ADDRESS"]
    if value == "off":
        return
    address = client_address()
    for item in parse_many(value):
        if not limiter.limiter.hit(item, "new-voters", address):
            reset = limiter.limiter.get_window_stats(item, "new-voters", address).reset_time
            wait = max(1, math.ceil(reset - time.time()))
            raise TooManyNewVoters(
                f"Too many new voters from your address (the limit is {value}). Keep your "
                f"browser's cookie to go on voting, or try again in {wait} seconds.",
                retry_after=wait,
            )


def first_use(name: str, seconds: int) -> bool:
    """True the first time ``name`` is seen in the shared store within ``seconds``."""
    return limiter.storage.incr(f"arena/once/{name}", seconds) == 1


def _add_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    """Install CSRF protection, the rate limiter, proxy trust and the security headers."""
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid as long as the session
    app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"] or limit_store.storage_uri(
        app.config["LIMITS_DB"]
    )
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "arena")
    csrf.init_app(app)
    limiter.init_app(app)
    app.after_request(_add_headers)

    @app.errorhandler(TooManyNewVoters)
    def _too_many_new_voters(error: TooManyNewVoters) -> Any:
        response = app.make_response(respond(error))
        response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.errorhandler(CSRFError)
    def _csrf_failed(error: CSRFError) -> Any:
        return respond(
            CsrfFailed(
                f"This form could not be accepted: {error.description} "
                "Reload the page and submit it again.",
                field="csrf_token",
            )
        )

    for name in ("api", "openai", "models_api"):
        csrf.exempt(app.blueprints[name])  # a KeyError here: a JSON blueprint was renamed
