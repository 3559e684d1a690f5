"""The one mapping of errors to HTTP: JSON under /api, /openai and /v1, pages elsewhere."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from arena.errors import ArenaError
from arena.web import bodies


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
    413: "invalid_request_error",
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
    """Register the handlers that turn errors into JSON or pages, and the body limits whose
    413 they answer (``arena.web.bodies``)."""
    bodies.init_app(app)

    @app.errorhandler(ArenaError)
    def _domain_error(error: ArenaError) -> Any:
        return respond(error)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(error: RequestEntityTooLarge) -> Any:
        # Werkzeug's own text ("exceeds the capacity limit") does not say what the limit is.
        return _respond(413, "request_entity_too_large", bodies.too_large_message())

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        code = (error.name or "error").lower().replace(" ", "_")
        return _respond(error.code or 500, code, error.description or error.name)
