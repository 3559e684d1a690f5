"""The admin's influence audit: the planted voter is shown, one click excludes it or its
address, and the dashboard lists the detectors' findings."""

from __future__ import annotations

from sqlalchemy import select

from arena.models import Voter
from arena.services.leaderboards.publishing import publish_snapshots
from arena.services.leaderboards.weights import WeightRules
from arena.web.db import get_db
from tests.services.rigging.conftest import Bot, set_voter


def _flagged(app) -> dict[str, bool]:
    with app.app_context(), get_db().session() as session:
        return dict(session.execute(select(Voter.public_id, Voter.flagged)).all())


def test_audit_page_shows_the_planted_voter_and_excludes_it(voting_admin, voting_app, votes):
    for i in range(3):
        votes.cast(20, seed=i)
    bot = Bot(voting_app)
    planted, partner = votes.voter(), votes.voter()
    bot.run(planted, bot.target(2), 120, vote_all=False)
    bot.run(partner, bot.target(2), 40, vote_all=True, seed=1)
    for voter in (planted, partner):
        set_voter(voting_app, voter, address_hash="e" * 32)
    with voting_app.app_context(), get_db().session() as session:
        rules = WeightRules(0, 0, probation=False, autoflag=False)
        publish_snapshots(session, rounds=0, seed=1, min_battles=1, k=32, rules=rules)

    dashboard = voting_admin.page("/admin/")
    assert "Rigging detectors" in dashboard and planted.public_id in dashboard
    assert "votes when" in dashboard or "favours" in dashboard

    page = voting_admin.page("/admin/audit")
    assert "Most influential voters" in page and planted.public_id in page
    assert "e" * 12 in page and "Refitted without the top voters" in page
    flagged = voting_admin.post(
        f"/admin/voters/{planted.public_id}/flag",
        {"flagged": "1", "reason": "influence audit", "next": "/admin/audit"},
    )
    assert flagged.status_code == 303 and flagged.headers["Location"].endswith("/admin/audit")
    assert _flagged(voting_app)[planted.public_id]
    assert not _flagged(voting_app)[partner.public_id]

    no_reason = voting_admin.post(f"/admin/audit/addresses/{'e' * 32}/exclude", {"reason": ""})
    assert no_reason.status_code == 303
    assert "say why" in voting_admin.page("/admin/audit")
    assert not _flagged(voting_app)[partner.public_id]
    excluded = voting_admin.post(
        f"/admin/audit/addresses/{'e' * 32}/exclude", {"reason": "one address, one model"}
    )
    assert excluded.status_code == 303
    assert "1 voters of address" in voting_admin.page("/admin/audit")
    assert _flagged(voting_app)[partner.public_id]
    unknown = voting_admin.post(f"/admin/audit/addresses/{'f' * 32}/exclude", {"reason": "x"})
    assert unknown.status_code == 303
    assert "no voter was created from this address" in voting_admin.page("/admin/audit")


def test_address_exclusion_needs_the_csrf_token(voting_admin):
    refused = voting_admin.client.post(
        f"/admin/audit/addresses/{'e' * 32}/exclude", data={"reason": "x"}
    )
    assert refused.status_code == 400
