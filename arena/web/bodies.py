"""Request bodies: a size limit per route, and JSON bodies parsed so that no malformed or
unexpected body becomes a server error or passes unnoticed.

Every request has a body limit sized to its route (``BODY_LIMITS``, by blueprint; anything
else gets ``DEFAULT_BODY_LIMIT``, the app's ``MAX_CONTENT_LENGTH``). A body that declares a
larger ``Content-Length`` is refused with ``413`` before a byte of it is read; one sent
without a length (``Transfer-Encoding: chunked``) is cut off with ``413`` once the limit is
read. So a worker never holds more than the limit of a body (plus a byte) in memory,
whatever is sent.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from arena.errors import ValidationError, quoted

KIB = 1024

#: Body limits in bytes by blueprint. The JSON API's bodies are a few dozen bytes; the image
#: endpoint's prompt may be long: 32,000 characters (OpenAI's longest prompt) of even 4-byte
#: UTF-8 fit in 128 KiB. The voting page's forms carry a token and a choice; the admin's
#: forms (no uploads) carry descriptions and prompts typed by an operator.
BODY_LIMITS: Mapping[str, int] = {
    "api": 16 * KIB,
    "openai": 128 * KIB,
    "arena": 16 * KIB,
    "admin": 256 * KIB,
}
#: Every other route (pages, documents, models): none of them reads a body.
DEFAULT_BODY_LIMIT = 64 * KIB

#: Deepest nesting of arrays and objects a body may have; real requests use two or three.
MAX_DEPTH = 32
#: Unknown field names quoted in an error message: a client's thousand fields (or one field
#: name of ten kilobytes) should not come back in full.
MAX_NAMED_FIELDS = 10


def body_limit() -> int:
    """The body limit of this request's route, in bytes."""
    limit = BODY_LIMITS.get(request.blueprint or "")
    if limit is None:
        return int(current_app.config["MAX_CONTENT_LENGTH"] or DEFAULT_BODY_LIMIT)
    return limit


def _describe(size: int) -> str:
    return f"{size // KIB} KiB ({size} bytes)" if size % KIB == 0 else f"{size} bytes"


def too_large_message() -> str:
    """The 413 message: the limit of this request's route."""
    return (
        f"The request body is too large: {request.method} {request.path} takes at most "
        f"{_describe(request.max_content_length or body_limit())}."
    )


def _limit_body() -> None:
    """Set this request's body limit, and refuse a body over it before any view reads it.

    A declared ``Content-Length`` over the limit is refused at once, unread (Werkzeug would
    refuse it too, but only on routes that read their body). A chunked body is read here,
    up to one byte past the limit: Werkzeug's limited stream hands a longer one to the view
    cut silently at the limit (it raises only on a read after that), which a view would take
    for a malformed body. Within the limit it is kept for the view (``get_data`` and form
    parsing use the cached bytes).
    """
    limit = body_limit()
    request.max_content_length = limit
    length = request.content_length
    if length is not None and length > limit:
        raise RequestEntityTooLarge()
    if length is None and "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        request.max_content_length = limit + 1
        if len(request.get_data(cache=True)) > limit:
            raise RequestEntityTooLarge()
        request.max_content_length = limit


def init_app(app: Flask) -> None:
    """Apply the body limits before any other request hook (CSRF reads form bodies)."""
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = DEFAULT_BODY_LIMIT
    app.before_request_funcs.setdefault(None, []).insert(0, _limit_body)


def _too_deep(value: Any) -> bool:
    # An explicit stack: walking a deep value recursively is what must not happen.
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        elif not isinstance(item, list):
            continue
        if depth > MAX_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in item)
    return False


def request_json() -> Any:
    """The request body parsed as JSON whatever its Content-Type, or None if it is not JSON.

    Raises:
        ValidationError: arrays and objects nested deeper than ``MAX_DEPTH``. Python's
            parser raises RecursionError at about a thousand ``[``, and a merely deep value
            would break whatever later walks it (error messages, schema validation).
        werkzeug.exceptions.RequestEntityTooLarge: the body is over the route's limit.
    """
    too_deep = ValidationError(
        f"the request body is nested too deeply: at most {MAX_DEPTH} levels of arrays and objects"
    )
    try:
        body = request.get_json(silent=True, force=True)
    except RecursionError:
        raise too_deep from None
    if _too_deep(body):
        raise too_deep
    return body


def refuse_unknown_fields(
    body: Mapping[str, Any], known: Collection[str], *, taker: str = "this endpoint"
) -> None:
    """Refuse a body with fields the route does not know: a misspelt field silently ignored
    would make a client believe it was heard.

    Raises:
        ValidationError: naming the first unknown field (in the body's order) in ``field``,
            and every unknown field, then the known ones (what ``taker`` takes), in the
            message.
    """
    unknown = [name for name in body if name not in known]
    if not unknown:
        return
    named = ", ".join(quoted(name).strip("'\"") for name in unknown[:MAX_NAMED_FIELDS])
    if len(unknown) > MAX_NAMED_FIELDS:
        named += f" and {len(unknown) - MAX_NAMED_FIELDS} more"
    field = unknown[0] if len(unknown[0]) <= 100 else quoted(unknown[0]).strip("'\"")
    raise ValidationError(
        f"unknown field(s): {named}; {taker} takes {', '.join(known)}", field=field
    )
