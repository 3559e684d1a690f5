"""The one place that knows about htmx: is this an htmx request, and Vary on it."""

from __future__ import annotations

from flask import request


def is_htmx() -> bool:
    """True when htmx made the request (it sends ``HX-Request: true``)."""
    return request.headers.get("HX-Request") == "true"


def vary_on_htmx(body: str) -> object:
    """A response for a URL that answers both a page and a fragment: caches must Vary."""
    from flask import make_response

    response = make_response(body)
    response.vary.add("HX-Request")
    return response
