"""The admin dashboard: the arena's figures and a way into every admin page."""

from __future__ import annotations

from typing import Any

from flask import render_template

from arena.services.admin import dashboard as admin_dashboard
from arena.web.admin import bp, dashboard_hooks
from arena.web.db import get_session


@bp.get("/")
def dashboard() -> Any:
    """Counts of models, competitions, outputs, votes, voters and snapshots."""
    context: dict[str, Any] = {}
    for hook in dashboard_hooks:
        context.update(hook())
    overview = admin_dashboard.overview(get_session())
    return render_template("admin/dashboard.html", overview=overview, **context)
