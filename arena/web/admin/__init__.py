"""The operators' admin at /admin: one blueprint, one sign-in guard, one list of pages.

Every admin page is a module of this package that adds its views to ``bp``; the modules
are imported at the bottom of this file (a new page is one more import line, plus an entry
in ``NAV`` if it belongs in the menu). ``_require_admin`` runs before every admin view and
lets nothing but the sign-in page through without a signed-in admin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for

from arena.web.admin import auth
from arena.web.htmx import redirect_to
from arena.web.security import client_address, limiter

bp = Blueprint("admin", __name__, url_prefix="/admin")

#: Views open without signing in.
PUBLIC_ENDPOINTS = frozenset({"admin.login"})


@dataclass(frozen=True)
class NavEntry:
    """A page in the admin menu; ``section`` prefixes the endpoints it stays current on."""

    endpoint: str
    label: str
    section: tuple[str, ...] = ()

    def current(self, endpoint: str | None) -> bool:
        endpoint = endpoint or ""
        return endpoint == self.endpoint or endpoint.startswith(self.section or (self.endpoint,))


#: The admin menu, in order. Entries whose view is not registered are left out, so a page
#: can be listed here before its module exists.
NAV = (
    NavEntry("admin.dashboard", "Dashboard"),
    NavEntry("admin.models", "Models", ("admin.model", "admin.offering")),
    NavEntry("admin.categories", "Categories", ("admin.categor",)),
    NavEntry(
        "admin.competitions",
        "Competitions",
        ("admin.competition", "admin.prompt", "admin.generation"),
    ),
    NavEntry("admin.outputs", "Outputs", ("admin.output",)),
    NavEntry("admin.voters", "Voters", ("admin.voter",)),
    NavEntry("admin.snapshots", "Snapshots", ("admin.snapshot",)),
    NavEntry("admin.audit", "Audit", ("admin.audit",)),
)


def nav_entries() -> list[NavEntry]:
    """The menu entries whose page exists in this app."""
    return [entry for entry in NAV if entry.endpoint in current_app.view_functions]


#: Functions whose dicts are merged into the dashboard's template context, so a module can
#: add a panel (the template includes ``admin/_signals.html`` when it exists).
dashboard_hooks: list[Callable[[], dict[str, Any]]] = []


def dashboard_context(hook: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """Decorator: add ``hook``'s context to the dashboard."""
    dashboard_hooks.append(hook)
    return hook


@bp.before_request
def _require_admin() -> Any:
    """Send anyone not signed in to the sign-in page, with the page they wanted as ``next``."""
    if request.endpoint in PUBLIC_ENDPOINTS or auth.signed_in():
        return None
    wanted = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect_to(url_for("admin.login", next=wanted), status=303, htmx_status=401)


@bp.after_request
def _private(response: Response) -> Response:
    """Admin pages are never stored by caches or indexed."""
    if response.mimetype.startswith("text/") or not response.cache_control.max_age:
        response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.app_context_processor
def _template_helpers() -> dict[str, Any]:
    return {"admin_signed_in": auth.signed_in, "admin_nav": nav_entries}


def _login_limit_off() -> bool:
    return current_app.config["ADMIN_LOGIN_RATE_LIMIT"] == "off"


def _login_limit() -> str:
    # Flask-Limiter parses the limit even when exempt: give it a valid one when "off".
    return "10/minute" if _login_limit_off() else current_app.config["ADMIN_LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    _login_limit,
    key_func=client_address,
    methods=["POST"],
    exempt_when=_login_limit_off,
    error_message=lambda: (
        f"Too many sign-in attempts from your address (the limit is {_login_limit()}). "
        "Wait for the time in Retry-After, then try again."
    ),
)
def login() -> Any:
    """The sign-in form; ``password`` is checked against ``ARENA_ADMIN_PASSWORD``.

    401 for a wrong password, 403 while the admin is disabled (no password configured).
    On success, to ``next`` when it is a path on this site, else to the dashboard.
    """
    next_url = auth.safe_next(request.values.get("next"))
    enabled = auth.admin_password() is not None
    context = {"next_url": next_url, "enabled": enabled}
    if request.method == "GET":
        if auth.signed_in():
            return redirect(next_url or url_for("admin.dashboard"), 303)
        return render_template("admin/login.html", **context)
    if not enabled:
        message = "The admin is disabled: no admin password is configured, so nobody can sign in."
        return render_template("admin/login.html", error=message, **context), 403
    if not auth.password_matches(request.form.get("password", "")):
        message = "That password is not right. Check it and try again."
        return render_template("admin/login.html", error=message, **context), 401
    auth.sign_in()
    return redirect(next_url or url_for("admin.dashboard"), 303)


@bp.post("/logout")
def logout() -> Any:
    """Sign out and go back to the sign-in page."""
    auth.sign_out()
    return redirect(url_for("admin.login", signed_out=1), 303)


# The pages: importing a module registers its views on ``bp``.
from arena.web.admin import (  # noqa: E402, F401
    audit,
    catalog,
    categories,
    competitions,
    dashboard,
    dashboard_signals,
    generation,
    outputs,
    snapshots,
    voters,
)
