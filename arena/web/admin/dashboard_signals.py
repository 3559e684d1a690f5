"""The dashboard's vote-signal panel: votes per hour, suspicious voters, latest upsets."""

from __future__ import annotations

from typing import Any

from arena.services import integrity
from arena.web import charts
from arena.web.admin import dashboard_context
from arena.web.db import get_session


@dashboard_context
def signals() -> dict[str, Any]:
    session = get_session()
    hours = integrity.votes_per_hour(session, hours=48)
    chart = charts.hourly_votes(
        [h.hour.strftime("%d %b %H:00") for h in hours],
        [h.votes - h.uncounted for h in hours],
        [h.uncounted for h in hours],
    )
    suspicious = [
        row
        for row in integrity.voter_signals(session, suspicious_only=True, limit=20)
        if not row.flagged
    ][:10]
    return {
        "signals": integrity.overview(session),
        "votes_chart": chart,
        "suspicious": suspicious,
        "upsets": integrity.upsets(session, limit=10),
        "suspicious_z": integrity.SUSPICIOUS_Z,
    }
