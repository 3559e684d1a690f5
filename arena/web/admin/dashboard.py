"""The admin dashboard: the arena's figures and a way into every admin page."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template

from arena.services import dumps
from arena.services.admin import dashboard as admin_dashboard
from arena.web.admin import bp, dashboard_hooks
from arena.web.db import get_session


@bp.get("/")
def dashboard() -> Any:
    """Counts of models, competitions, outputs, votes, voters and snapshots; the static dump."""
    context: dict[str, Any] = {}
    for hook in dashboard_hooks:
        context.update(hook())
    overview = admin_dashboard.overview(get_session())
    dump = dumps.read_manifest(dumps.dump_folder(current_app.config["MEDIA_DIR"]))
    return render_template("admin/dashboard.html", overview=overview, dump=dump, **context)
