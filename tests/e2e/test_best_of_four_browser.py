"""Best-of-four voting in Debian's Chromium: keys 1-4 on a desktop, taps on a phone where the
2x2 grid fits one screen, and the toggle between the two modes."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select

from arena.models import Battle, Vote
from arena.web.db import get_db

pytestmark = pytest.mark.e2e
COMPETITION = "fantasy-warrior-ii"
#: Where to leave screenshots for a person to look at (unset: none are kept).
SHOTS = os.environ.get("ARENA_SCREENSHOTS")


def _counts(app) -> tuple[int, int]:
    """(battles voted, vote rows)."""
    with app.app_context(), get_db().session() as session:
        voted = session.scalar(
            select(func.count()).select_from(Battle).where(Battle.voted_at.is_not(None))
        )
        rows = session.scalar(select(func.count()).select_from(Vote))
    return voted, rows


def test_a_voter_picks_the_best_of_four_by_keyboard(voting_app, live_server, page):
    page.goto(f"{live_server}/arena/{COMPETITION}?size=4")
    for i, key in enumerate(["3", "1", "4", "2"], start=1):
        page.wait_for_selector('#battle[data-state="voting"][data-size="4"]')
        assert page.locator("#battle .four img").count() == 4
        assert page.locator(".model-name").count() == 0  # names hidden before the vote
        if i == 1 and SHOTS:
            page.screenshot(path=f"{SHOTS}/four-desktop.png", full_page=True)
        page.keyboard.press(key)
        page.wait_for_selector('#battle[data-state="revealed"]')
        names = page.locator(".four .model-name").all_inner_texts()
        assert len(names) == 4 and all(names) and len(set(names)) == 4
        winner = page.locator(".four .entry.winner")
        assert winner.count() == 1
        assert winner.locator(".model-name").inner_text() == names[int(key) - 1]
        assert winner.locator(".delta.up").count() == 1
        assert page.locator(".four .delta.down").count() == 3
        note = page.locator(".reveal-note").first.inner_text()
        assert f"You picked {names[int(key) - 1]}" in note and f"that is vote {i}." in note
        if i == 1 and SHOTS:
            page.screenshot(path=f"{SHOTS}/four-desktop-reveal.png", full_page=True)
        page.keyboard.press("n")
    page.wait_for_selector('#battle[data-state="voting"][data-size="4"]')
    assert page.url.endswith(f"/arena/{COMPETITION}?size=4")  # htmx swaps, no page loads
    assert _counts(voting_app) == (4, 12)
    result = voting_app.test_cli_runner().invoke(args=["verify"])
    assert result.exit_code == 0 and "12 votes replayed" in result.output


def test_on_a_phone_the_four_images_fit_one_screen_and_a_tap_votes(
    voting_app, live_server, browser
):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    try:
        page.goto(f"{live_server}/arena/{COMPETITION}?size=4")
        page.wait_for_selector('#battle[data-state="voting"][data-size="4"]')
        page.wait_for_function(
            "Array.from(document.querySelectorAll('#battle .four img'))"
            ".every(img => img.complete && img.naturalWidth > 0)"
        )
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/four-phone.png")
        boxes = [page.locator(".four .pick").nth(i).bounding_box() for i in range(4)]
        # A 2x2 grid: two columns, two rows, all on the first screen.
        assert boxes[0]["y"] == pytest.approx(boxes[1]["y"], abs=1)
        assert boxes[2]["y"] > boxes[0]["y"] + boxes[0]["height"] - 1
        assert boxes[1]["x"] > boxes[0]["x"] + boxes[0]["width"] - 1
        assert all(b["y"] + b["height"] <= 844 for b in boxes)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        assert not page.locator(".keys-hint").is_visible()  # no keyboard hint on touch
        page.locator(".four .pick").nth(1).tap()
        page.wait_for_selector('#battle[data-state="revealed"]')
        assert page.locator(".four .entry").nth(1).get_attribute("class").endswith("winner")
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/four-phone-reveal.png")
        page.get_by_role("button", name="Next battle").tap()
        page.wait_for_selector('#battle[data-state="voting"][data-size="4"]')
    finally:
        context.close()
    assert _counts(voting_app) == (1, 3)


def test_the_toggle_switches_between_two_images_and_best_of_four(voting_app, live_server, page):
    page.goto(f"{live_server}/arena/{COMPETITION}")
    page.wait_for_selector('#battle[data-state="voting"][data-size="2"]')
    toggle = page.get_by_role("navigation", name="Battle mode")
    assert toggle.get_by_role("link", name="Two images").get_attribute("aria-current") == "page"
    toggle.get_by_role("link", name="Best of four").click()
    page.wait_for_selector('#battle[data-state="voting"][data-size="4"]')
    assert page.locator("#battle img").count() == 4
    page.get_by_role("button", name="Image 4 is the best").click()
    page.wait_for_selector('#battle[data-state="revealed"]')
    page.get_by_role("navigation", name="Battle mode").get_by_role(
        "link", name="Two images"
    ).click()
    page.wait_for_selector('#battle[data-state="voting"][data-size="2"]')
    assert page.locator("#battle img").count() == 2
    assert _counts(voting_app) == (1, 3)
