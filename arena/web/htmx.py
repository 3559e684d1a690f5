"""The one place that knows about htmx: is this an htmx request, and Vary on it."""

from __future__ import annotations

from flask import request


def is_htmx() -> bool:
    """True when htmx asked for a fragment (``HX-Request: true``).

    A history restore after a cache miss also carries ``HX-Request`` but needs the whole
    page, so it does not count.
    """
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def vary_on_htmx(body: str) -> object:
    """A response for a URL that answers both a page and a fragment: caches must Vary."""
    from flask import make_response

    response = make_response(body)
    response.vary.add("HX-Request")
    return response


def redirect_to(url: str, *, status: int = 303, htmx_status: int = 200) -> object:
    """Send the browser to ``url``: a redirect, or for htmx ``HX-Redirect`` with ``htmx_status``.

    htmx follows plain redirects inside its request and would swap the page it lands on
    into the fragment; ``HX-Redirect`` makes it load ``url`` as a whole page instead.
    """
    from flask import make_response
    from flask import redirect as flask_redirect

    if is_htmx():
        response = make_response("", htmx_status)
        response.headers["HX-Redirect"] = url
        return response
    return flask_redirect(url, status)
