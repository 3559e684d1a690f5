"""Admin voters and the dashboard's vote signals: flagging through the form rebuilds the Elo."""

from __future__ import annotations

from sqlalchemy import func, select

from arena.models import Rating, Scope, Voter
from arena.services.leaderboards.publishing import publish_snapshots
from arena.services.verification import verify
from arena.services.voting.recording import VoteRules
from arena.web.db import get_db

COMPETITION = "fantasy-warrior-ii"


def _overall_battles(app) -> int:
    with app.app_context(), get_db().session() as session:
        return session.scalar(
            select(func.sum(Rating.battles)).join(Scope).where(Scope.key == "overall")
        )


def test_voters_page_lists_a_fast_voter_as_suspicious_and_flags_them(
    voting_admin, voting_app, votes
):
    honest, bot = votes.voter(), votes.voter()
    votes.cast(12, voter=honest, seed=1)
    votes.cast(4, voter=bot, choice="left", rules=VoteRules(min_vote_ms=60_000), seed=2)
    votes.cast(6, voter=bot, choice="left", seed=3)
    assert _overall_battles(voting_app) == 2 * 18

    html = voting_admin.page("/admin/voters")
    assert bot.public_id in html and honest.public_id not in html
    assert "suspicious" in html
    every = voting_admin.page("/admin/voters?show=all")
    assert honest.public_id in every and bot.public_id in every

    missing_reason = voting_admin.post(
        f"/admin/voters/{bot.public_id}/flag", {"flagged": "1", "reason": ""}
    )
    assert missing_reason.status_code == 303
    assert "say why" in voting_admin.page("/admin/voters")
    assert _overall_battles(voting_app) == 2 * 18

    flagged = voting_admin.post(
        f"/admin/voters/{bot.public_id}/flag", {"flagged": "1", "reason": "scripted: 4 fast votes"}
    )
    assert flagged.status_code == 303
    page = voting_admin.page("/admin/voters?show=flagged")
    assert "their 10 votes no longer count" in page
    assert bot.public_id in page and "scripted: 4 fast votes" in page
    assert _overall_battles(voting_app) == 2 * 12
    with voting_app.app_context(), get_db().session() as session:
        assert verify(session, 32)[0] == []

    voting_admin.post(f"/admin/voters/{bot.public_id}/flag", {"flagged": "0"})
    assert _overall_battles(voting_app) == 2 * 18  # the six slow votes count again
    with voting_app.app_context(), get_db().session() as session:
        assert not session.scalar(select(Voter.flagged).where(Voter.public_id == bot.public_id))


def test_flag_form_needs_csrf_and_sign_in(voting_admin, voting_app, votes):
    bot = votes.voter()
    refused = voting_admin.client.post(
        f"/admin/voters/{bot.public_id}/flag", data={"flagged": "1", "reason": "x"}
    )
    assert refused.status_code == 400
    outsider = voting_app.test_client()
    page = outsider.get("/admin/voters")
    assert page.status_code == 303 and "/admin/login" in page.headers["Location"]
    assert (
        voting_admin.post("/admin/voters/nobody/flag", {"flagged": "1", "reason": "x"}).status_code
        == 404
    )


def test_dashboard_shows_votes_per_hour_suspicious_voters_and_upsets(
    voting_admin, voting_app, votes
):
    crowd, contrarian = votes.voter(), votes.voter()
    votes.cast(20, voter=crowd, choice="left", seed=4)
    votes.cast(4, voter=contrarian, rules=VoteRules(min_vote_ms=60_000), seed=5)
    with voting_app.app_context(), get_db().session() as session:
        publish_snapshots(session, rounds=0, seed=1, min_battles=1, k=32)
    html = voting_admin.page("/admin/")
    assert "Vote signals" in html and "Votes per hour" in html
    assert "<svg" in html and "4 not counted" in html
    assert contrarian.public_id in html  # 4 fast votes: suspicious
    assert "Latest upsets" in html
    assert "style=" not in html
