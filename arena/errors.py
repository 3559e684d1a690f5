"""Domain errors: what went wrong, which field, and the HTTP status it maps to.

No Flask here: services raise these and ``arena.web.errors`` answers them once, as JSON under
the APIs and as pages elsewhere."""

from __future__ import annotations

import reprlib

_QUOTE = reprlib.Repr()
_QUOTE.maxstring = _QUOTE.maxother = 80


def quoted(value: object) -> str:
    """``repr(value)`` cut to about 80 characters, for messages that quote what they got:
    a client's 1 MB value should not come back in full."""
    return _QUOTE.repr(value)


class ArenaError(Exception):
    """Base of every domain error; ``status`` is the HTTP status it maps to."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationError(ArenaError):
    """Input was malformed; ``field`` names the offending field when there is one."""


class NotFound(ArenaError):
    status = 404
    code = "not_found"


class Forbidden(ArenaError):
    """The resource exists but belongs to someone else (a battle issued to another voter)."""

    status = 403
    code = "forbidden"


class Gone(ArenaError):
    """The resource existed but has expired (a battle past its time to vote)."""

    status = 410
    code = "expired"


class Conflict(ArenaError):
    status = 409
    code = "conflict"


class SeedError(ArenaError):
    """A seed file is malformed; the message names the file and the entry."""


class Unauthorized(ArenaError):
    """A missing, unknown or revoked API key."""

    status = 401
    code = "invalid_api_key"


class CsrfFailed(ArenaError):
    """A form arrived without a valid CSRF token (forged, or a page left open too long)."""

    code = "csrf_failed"


class UnsupportedMediaType(ArenaError):
    """A JSON endpoint received another content type."""

    status = 415
    code = "unsupported_media_type"


class GenerationError(ArenaError):
    """A provider could not make an image."""

    status = 502
    code = "provider_error"
