"""A new voter in Chromium with the proof of work on: nothing to see, the first click counts."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from arena.config import DEFAULT_POW_MAXNUMBER
from arena.models import Vote, Voter
from arena.web.db import get_db

pytestmark = pytest.mark.e2e
COMPETITION = "fantasy-warrior-ii"


def test_a_person_votes_at_once_and_the_vote_counts(voting_app, live_server, page):
    voting_app.config["POW"] = True
    voting_app.config["POW_MAXNUMBER"] = DEFAULT_POW_MAXNUMBER
    page.goto(f"{live_server}/arena/{COMPETITION}")
    # Nothing extra on the page: the proof runs unseen.
    assert not page.locator("#voter-proof").is_visible()
    page.get_by_role("button", name="Left is better").click()  # before the solve is done
    page.wait_for_selector('#battle[data-state="revealed"]', timeout=15_000)
    assert "that is vote 1." in page.locator(".reveal-note").inner_text()
    assert page.locator("#battle-problem").count() == 0
    solved_ms = int(page.locator("#voter-proof").get_attribute("data-solved-ms"))
    print(f"proof of work solved and verified in {solved_ms} ms")
    assert solved_ms < 5000
    with voting_app.app_context(), get_db().session() as session:
        vote = session.execute(select(Vote)).scalar_one()
        voter = session.execute(select(Voter)).scalar_one()
    assert vote.winner == "model_a" and vote.flag is None
    assert voter.verified_at is not None
    # The next battle comes by htmx and the next vote needs nothing more.
    page.keyboard.press("n")
    page.wait_for_selector('#battle[data-state="voting"]')
    page.keyboard.press("ArrowRight")
    page.wait_for_selector('#battle[data-state="revealed"]')
    assert "that is vote 2." in page.locator(".reveal-note").inner_text()
    # A reload by a verified voter asks for no proof at all.
    page.goto(f"{live_server}/arena/{COMPETITION}")
    assert page.locator("#voter-proof").count() == 0
