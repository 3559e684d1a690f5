"""The home page in a real browser: it lists the open competitions, on desktop and phone."""

from __future__ import annotations

from pathlib import Path

import pytest

from arena.services.seeding import load_seeds
from arena.web.db import get_db

pytestmark = pytest.mark.e2e


@pytest.fixture
def seeded_server(app, live_server: str, small_seeds: Path) -> str:
    with app.app_context(), get_db().session() as session:
        load_seeds(session, small_seeds)
    return live_server


def test_home_in_chromium_lists_competitions_and_links_them(seeded_server, page, tmp_path):
    page.goto(seeded_server + "/")
    assert page.locator("h1").inner_text() == "Which image is better?"
    cards = page.locator("#open-heading + .grid article")
    names = cards.locator("h3").all_inner_texts()
    assert "Fantasy Warrior · edition 1" in names and "Heroic Super Hero Portrait" in names
    start = page.get_by_role("link", name="Start voting")
    leaderboard = page.locator(".hero").get_by_role("link", name="Leaderboard")
    # The call to action is visibly stronger: filled, larger, not the outlined secondary style.
    assert start.evaluate("a => getComputedStyle(a).backgroundColor") != leaderboard.evaluate(
        "a => getComputedStyle(a).backgroundColor"
    )
    assert start.bounding_box()["height"] > leaderboard.bounding_box()["height"]
    page.screenshot(path=str(tmp_path / "home.png"), full_page=True)

    page.get_by_role("link", name="Heroic Super Hero Portrait", exact=True).click()
    page.wait_for_url("**/competitions/heroic-super-hero-portrait")
    assert page.locator(".prompts li").count() == 3


def test_home_on_a_phone_fits_the_screen_and_is_keyboard_reachable(seeded_server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(seeded_server + "/")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to content"
    finally:
        context.close()
