"""Admin generation: start a competition's missing outputs, and watch the progress live.

The progress panel (``admin/_generation.html``) is one fragment serving the page and the
htmx poll: while a run is going on it asks for itself again every second, and once the run
is over it comes back without the trigger, so the polling stops.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, request

from arena.errors import ArenaError
from arena.generation import registry
from arena.services.admin import generation as admin_generation
from arena.web.admin import bp
from arena.web.admin.forms import FORM_ERRORS, done
from arena.web.db import get_db, get_session
from arena.web.htmx import is_htmx, vary_on_htmx


def _render(slug: str, *, error: ArenaError | None = None) -> Any:
    progress = admin_generation.progress(get_session(), get_db(), slug)
    context = {
        "progress": progress,
        "providers": registry.provider_names(),
        "error": error,
        "errors": {error.field: error.message} if error is not None and error.field else {},
    }
    template = "admin/_generation.html" if is_htmx() else "admin/generation.html"
    response = vary_on_htmx(render_template(template, **context))
    return response, error.status if error is not None else 200


@bp.get("/competitions/<slug>/generation")
def generation(slug: str) -> Any:
    """The competition's generation progress and failures (a fragment for htmx)."""
    return _render(slug)


@bp.post("/competitions/<slug>/generation")
def generation_start(slug: str) -> Any:
    """Start making the missing outputs (``failed_only=1``: retry only the failed ones)."""
    failed_only = request.form.get("failed_only") == "1"
    try:
        started = admin_generation.start(
            get_session(),
            get_db(),
            current_app.config,
            slug,
            provider=request.form.get("provider", "").strip() or None,
            failed_only=failed_only,
        )
    except FORM_ERRORS as error:
        return _render(slug, error=error)
    if started.planned:
        what = "failed outputs" if failed_only else "outputs"
        message = f"Generating {started.planned} {what} in the background."
    else:
        message = (
            "Nothing to generate: no " + ("failed " if failed_only else "missing ") + "outputs."
        )
    if started.unserved:
        message += f" Not offered by that provider: {', '.join(started.unserved)}."
    return done(message, "admin.generation", slug=slug)
