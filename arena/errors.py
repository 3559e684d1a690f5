"""Domain errors, and their one mapping to HTTP: JSON under /api and /openai, pages elsewhere."""

from __future__ import annotations

import reprlib
from typing import Any

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

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


def _wants_json() -> bool:
    path = request.path
    return path.startswith(("/api/", "/openai/", "/v1/"))


#: OpenAI's error ``type`` for each status, so OpenAI clients raise the right exception.
_OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    409: "invalid_request_error",
    429: "rate_limit_error",
}


def _respond(status: int, code: str, message: str, field: str | None = None) -> Any:
    if _wants_json():
        # One shape for every JSON error: OpenAI's ``{message, type, param, code}``, plus
        # ``field`` (the same as ``param``) that the /api clients read.
        error: dict[str, Any] = {
            "message": message,
            "type": _OPENAI_TYPES.get(status, "api_error"),
            "param": field,
            "code": code,
        }
        if field:
            error["field"] = field
        return jsonify({"error": error}), status
    return (
        render_template("errors/error.html", status=status, message=message, field=field),
        status,
    )


def respond(error: ArenaError) -> Any:
    """The response for a domain error: JSON under the APIs, a page elsewhere."""
    return _respond(error.status, error.code, error.message, error.field)


def init_app(app: Flask) -> None:
    """Register the handlers that turn errors into JSON or pages."""

    @app.errorhandler(ArenaError)
    def _domain_error(error: ArenaError) -> Any:
        return respond(error)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        code = (error.name or "error").lower().replace(" ", "_")
        return _respond(error.code or 500, code, error.description or error.name)
