"""JSON request bodies for the APIs, parsed so that no malformed body becomes a server error."""

from __future__ import annotations

from typing import Any

from flask import request

from arena.errors import ValidationError

#: Deepest nesting of arrays and objects a body may have; real requests use two or three.
MAX_DEPTH = 32


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
