"""Voting in Debian's Chromium: by click and by keyboard, with the reveal and htmx swaps."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from arena.models import Rating, Scope, Vote
from arena.web.db import get_db

pytestmark = pytest.mark.e2e
COMPETITION = "fantasy-warrior-ii"


def _scope_battles(app) -> dict[str, int]:
    with app.app_context(), get_db().session() as session:
        return dict(
            session.execute(
                select(Scope.key, func.sum(Rating.battles))
                .join(Rating, Rating.scope_id == Scope.id)
                .group_by(Scope.key)
            ).all()
        )


def test_new_voter_votes_ten_times_by_keyboard(voting_app, live_server, page):
    page.goto(f"{live_server}/arena/{COMPETITION}")
    keys = ["ArrowLeft", "ArrowRight", "ArrowDown", "1", "2", "3", "ArrowLeft", "2", "3", "1"]
    for i, key in enumerate(keys, start=1):
        page.wait_for_selector('#battle[data-state="voting"]')
        assert page.locator("#battle img").count() == 2
        assert page.locator(".model-name").count() == 0  # names hidden before the vote
        page.keyboard.press(key)
        page.wait_for_selector('#battle[data-state="revealed"]')
        names = page.locator(".model-name").all_inner_texts()
        assert len(names) == 2 and all(names)
        assert f"that is vote {i}." in page.locator(".reveal-note").inner_text()
        assert "→" in page.locator(".elo").first.inner_text()
        page.keyboard.press("n" if i % 2 else "Enter")
    page.wait_for_selector('#battle[data-state="voting"]')
    assert page.url.endswith(f"/arena/{COMPETITION}")  # htmx swaps, no page loads

    battles = _scope_battles(voting_app)
    assert battles["overall"] == battles["category:portrait"] == 20
    assert battles[f"competition:{COMPETITION}"] == 20
    with voting_app.app_context(), get_db().session() as session:
        winners = [w for (w,) in session.execute(select(Vote.winner).order_by(Vote.id))]
    assert winners == [
        "model_a",
        "model_b",
        "tie",
        "model_a",
        "model_b",
        "tie",
        "model_a",
        "model_b",
        "tie",
        "model_a",
    ]


def test_voter_votes_by_click_and_sees_the_winner_highlighted(voting_app, live_server, page):
    page.goto(f"{live_server}/arena")
    page.get_by_role("button", name="Right is better").click()
    page.wait_for_selector('#battle[data-state="revealed"]')
    assert page.locator(".side-right.winner").count() == 1
    assert page.locator(".delta.up").count() == 1 and page.locator(".delta.down").count() == 1
    page.get_by_role("button", name="Next battle").click()
    page.wait_for_selector('#battle[data-state="voting"]')
    page.get_by_role("button", name="Both bad").click()
    page.wait_for_selector('#battle[data-state="revealed"]')
    assert "both bad" in page.locator(".reveal-note").inner_text()
