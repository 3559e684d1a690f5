"""Admin voters: their vote signals, and flagging (their votes stop counting) or clearing."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for

from arena.errors import ArenaError
from arena.services import integrity
from arena.web.admin import auth, bp
from arena.web.db import get_db, get_session

SHOW = ("suspicious", "flagged", "all")


@bp.get("/voters")
def voters() -> Any:
    """Voters with their signals, most suspicious first (``?show=``, ``?q=`` pseudonym)."""
    show = request.args.get("show", "suspicious")
    show = show if show in SHOW else "suspicious"
    query = request.args.get("q", "").strip()[:40]
    rows = integrity.voter_signals(
        get_session(), query=query, suspicious_only=show != "all", limit=500
    )
    if show == "flagged":
        rows = [row for row in rows if row.flagged]
    return render_template(
        "admin/voters.html",
        rows=rows,
        show=show,
        query=query,
        suspicious_z=integrity.SUSPICIOUS_Z,
        fast_votes=integrity.SUSPICIOUS_FAST_VOTES,
    )


@bp.post("/voters/<public_id>/flag")
def voter_flag(public_id: str) -> Any:
    """Flag (``flagged=1`` with a ``reason``) or clear (``flagged=0``) a voter."""
    flagged = request.form.get("flagged") == "1"
    back = auth.safe_next(request.form.get("next")) or url_for("admin.voters")
    try:
        result = integrity.set_voter_flag(
            get_db(),
            public_id,
            flagged=flagged,
            reason=request.form.get("reason"),
            k=current_app.config["ELO_K"],
        )
    except ArenaError as error:
        if error.status != 400:
            raise
        flash(f"Voter {public_id} was not changed: {error.message}.")
        return redirect(back, 303)
    if result.flagged:
        flash(
            f"Voter {public_id} is flagged: their {result.votes} votes no longer count, and the "
            "live Elo was rebuilt without them. Publish a snapshot to update the leaderboards."
        )
    else:
        flash(
            f"Voter {public_id} is cleared: {result.votes_counted} of their {result.votes} votes "
            "count again, and the live Elo was rebuilt with them."
        )
    return redirect(back, 303)
