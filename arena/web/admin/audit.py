"""Admin influence audit: who moves each published board most, rigging findings, and
one-click exclusion of a voter (the voters page's flag form) or of every voter of an address."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for

from arena.errors import ArenaError
from arena.services.admin import audit as admin_audit
from arena.web.admin import bp, dashboard_context
from arena.web.db import get_db, get_session


@bp.get("/audit")
def audit() -> Any:
    """Every scope's latest influence audit and what the detectors found."""
    session = get_session()
    counts, found = admin_audit.findings(session, limit=100)
    return render_template(
        "admin/audit.html",
        audits=admin_audit.latest_audits(session),
        finding_counts=counts,
        findings=found,
    )


@bp.post("/audit/addresses/<address_hash>/exclude")
def audit_exclude_address(address_hash: str) -> Any:
    """Flag every voter created from one address (``reason`` required)."""
    try:
        flagged = admin_audit.exclude_address(
            get_db(),
            address_hash,
            reason=request.form.get("reason", ""),
            k=current_app.config["ELO_K"],
        )
    except ArenaError as error:
        if error.status not in (400, 404):
            raise
        flash(f"The address was not excluded: {error.message}.")
        return redirect(url_for("admin.audit"), 303)
    flash(
        f"{flagged} voters of address {address_hash[:12]}… are flagged: their votes no longer "
        "count and the live Elo was rebuilt. The next snapshot leaves them out."
    )
    return redirect(url_for("admin.audit"), 303)


@dashboard_context
def rigging_findings() -> dict[str, Any]:
    """The dashboard's panel: findings per detector and the latest strongest ones."""
    counts, found = admin_audit.findings(get_session(), limit=10)
    return {"finding_counts": counts, "findings": found}
