"""How admin views answer a form: re-render it with the error beside its field, or move on.

A service raises ``ValidationError`` (400) or ``Conflict`` (409) naming the field at fault;
the view catches those (``FORM_ERRORS``) and renders the same form again with what was
typed, the message beside the field and in a summary at the top, and the error's status.
After a successful POST the view redirects (303) with a one-line notice.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for

from arena.errors import ArenaError, Conflict, ValidationError

#: The errors a form shows to the operator instead of an error page.
FORM_ERRORS = (ValidationError, Conflict)


def render_form(template: str, *, error: ArenaError | None = None, **context: Any) -> Any:
    """The page with the form; with ``error``, its message by the field and its status."""
    errors = {error.field: error.message} if error is not None and error.field else {}
    body = render_template(template, error=error, errors=errors, **context)
    return body, error.status if error is not None else 200


def done(message: str, endpoint: str, **values: Any) -> Any:
    """A 303 redirect to ``endpoint`` that shows ``message`` on the next page."""
    flash(message)
    return redirect(url_for(endpoint, **values), 303)
