"""The gallery in Chromium: one prompt across all models at desktop and phone widths, prompt
navigation, and a footer that stays at the bottom of a short page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from arena.models import Competition
from arena.services.leaderboards.publishing import publish_snapshots
from arena.web.db import get_db

pytestmark = pytest.mark.e2e
CLOSED = "fantasy-warrior-ii"
SIZES = [(1366, 900), (390, 844)]


@pytest.fixture
def closed_gallery(voting_app, votes, live_server) -> str:
    votes.cast(30, choice=("left", "right", "tie"), seed=6)
    with voting_app.app_context(), get_db().session() as session:
        session.execute(
            update(Competition).where(Competition.slug == CLOSED).values(status="closed")
        )
        session.commit()
        publish_snapshots(session, rounds=20, seed=1)
    return live_server


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_gallery_shows_every_model_side_by_side_and_fits(closed_gallery, browser, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.goto(f"{closed_gallery}/gallery")
        page.get_by_role("link", name="Browse the gallery of Fantasy Warrior · edition 2").click()
        page.wait_for_url(f"**/gallery/{CLOSED}")
        figures = page.locator(".gallery-grid figure")
        expect(figures).to_have_count(14)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        first = figures.first.locator("img")
        expect(first).to_have_js_property("complete", True)
        assert first.evaluate("img => img.naturalWidth") > 0
        columns = page.evaluate(
            "new Set([...document.querySelectorAll('.gallery-grid li')]"
            ".map(li => li.getBoundingClientRect().top)).size"
        )
        assert columns < 14  # side by side, not one per row
        caption = figures.first.locator("figcaption").inner_text()
        assert "#1 of 14" in caption or "not ranked" in caption
        size = page.evaluate(
            "Math.min(...[...document.querySelectorAll('.gallery-shot figcaption')]"
            ".map(e => parseFloat(getComputedStyle(e).fontSize)))"
        )
        assert size >= 11

        # Keyboard: the next prompt, then back.
        page.get_by_role("link", name="Next prompt").focus()
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/gallery/{CLOSED}?prompt=2")
        expect(page.get_by_role("heading", name="Prompt 2")).to_be_visible()
        page.get_by_role("link", name="Previous prompt").click()
        page.wait_for_url(f"**/gallery/{CLOSED}?prompt=1")
    finally:
        context.close()


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_footer_sits_at_the_bottom_of_a_short_page(live_server, browser, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.goto(f"{live_server}/gallery")  # empty database: a short page
        assert page.evaluate("document.documentElement.scrollHeight") <= height
        bottom = page.evaluate(
            "document.querySelector('.site-footer').getBoundingClientRect().bottom"
        )
        assert abs(bottom - height) <= 1
    finally:
        context.close()
