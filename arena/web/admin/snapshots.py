"""Admin snapshots: publish a leaderboard snapshot for every scope (``arena recompute``)."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from arena.services.admin import snapshots as admin_snapshots
from arena.services.leaderboards.weights import WeightRules
from arena.web.admin import bp
from arena.web.admin.forms import FORM_ERRORS, render_form
from arena.web.db import get_session


@bp.route("/snapshots", methods=["GET", "POST"])
def snapshots() -> Any:
    """The publish form, what the last publication did, and the latest snapshots."""
    session = get_session()
    form = {"bootstrap": str(admin_snapshots.DEFAULT_ROUNDS)}
    result = None
    error = None
    if request.method == "POST":
        form = request.form.to_dict()
        try:
            result = admin_snapshots.publish(
                session,
                form,
                min_battles=current_app.config["MIN_BATTLES"],
                k=current_app.config["ELO_K"],
                rules=WeightRules.from_config(current_app.config),
            )
        except FORM_ERRORS as exc:
            error = exc
    return render_form(
        "admin/snapshots.html",
        error=error,
        form=form,
        result=result,
        recent=admin_snapshots.recent(session),
    )
