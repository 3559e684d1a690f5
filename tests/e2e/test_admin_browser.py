"""The admin in Debian's Chromium: sign in, generate with live htmx progress, flag a voter."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from arena.models import Output, Rating, Scope
from arena.services.seeding import load_seeds
from arena.services.voting.recording import VoteRules
from arena.web.db import get_db

pytestmark = pytest.mark.e2e
PASSWORD = "admin-e2e-password"
COMPETITION = "misty-mountains"


@pytest.fixture
def admin_site(app, small_seeds, live_server):
    app.config["ADMIN_PASSWORD"] = PASSWORD
    app.config["ADMIN_LOGIN_RATE_LIMIT"] = "off"
    with app.app_context(), get_db().session() as session:
        load_seeds(session, small_seeds)
    return live_server


def _watch_console(page) -> list[str]:
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type in ("error", "warning") else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def _sign_in(page, base: str, target: str) -> None:
    page.goto(f"{base}{target}")
    assert "/admin/login" in page.url  # closed until signed in
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}{target}")


def test_admin_generates_a_competition_with_live_progress(app, admin_site, page):
    problems = _watch_console(page)
    _sign_in(page, admin_site, f"/admin/competitions/{COMPETITION}/generation")
    page.get_by_label("Provider").select_option("builtin")
    page.get_by_role("button", name="Generate missing outputs").click()
    # The panel polls itself while the run goes on and stops once every output is done.
    page.wait_for_selector('#generation[data-running="false"] >> text=Every output is done.')
    assert page.locator("#generation[hx-trigger]").count() == 0
    with app.app_context(), get_db().session() as session:
        statuses = set(session.scalars(select(Output.status)))
    assert statuses == {"done"}
    assert problems == []


def test_admin_flags_a_suspicious_voter_from_the_dashboard(
    app, voting_app, votes, admin_site, page
):
    bot = votes.voter()
    votes.cast(4, voter=bot, choice="left", rules=VoteRules(min_vote_ms=60_000), seed=4)
    votes.cast(6, voter=bot, choice="left", seed=5)
    problems = _watch_console(page)
    _sign_in(page, admin_site, "/admin/")
    row = page.locator("tr", has_text=bot.public_id)
    row.get_by_role("button", name="Flag").click()
    page.wait_for_selector("text=no longer count")
    with app.app_context(), get_db().session() as session:
        battles = session.scalar(
            select(func.sum(Rating.battles)).join(Scope).where(Scope.key == "overall")
        )
    assert battles == 0  # the six counted votes left the live Elo with the flag
    assert problems == []
