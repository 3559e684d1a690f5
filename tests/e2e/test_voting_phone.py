"""Voting made for thumbs, in Debian's Chromium: on a 390x844 phone and a 1366x900 desktop a
vote needs no scrolling (two images and best of four); enlarging an image never votes; Skip
loads another battle and records nothing; the both-bad key records a both-bad vote.

The images here are tall (64x96, the worst case for height); elsewhere the tests use wide ones.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from arena.models import Battle, Vote
from arena.web.db import get_db

pytestmark = pytest.mark.e2e
COMPETITION = "fantasy-warrior-ii"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}
#: Where to leave screenshots for a person to look at (unset: none are kept).
SHOTS = os.environ.get("ARENA_SCREENSHOTS")
#: Every image and every vote control of the battle on screen (the reveal: its Next button).
VOTE_PARTS = "#battle img, #battle .controls [data-key]"
BOXES = """sel => [...document.querySelectorAll(sel)].map(e => {
  const r = e.getBoundingClientRect();
  return {what: e.getAttribute('data-key') || e.tagName, top: r.top, bottom: r.bottom,
          left: r.left, right: r.right, width: r.width, height: r.height};
})"""


@pytest.fixture
def small_seeds(small_seeds: Path) -> Path:
    """The shared small seeds with tall images (64x96) instead of wide ones."""
    path = small_seeds / "competitions.yaml"
    data = yaml.safe_load(path.read_text())
    for competition in data["competitions"]:
        for prompt in competition["prompts"]:
            prompt["size"] = "64x96"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return small_seeds


def _counts(app) -> tuple[int, int, list[str]]:
    """(battles issued, battles voted, the votes' winners in order)."""
    with app.app_context(), get_db().session() as session:
        issued = session.scalar(select(func.count()).select_from(Battle))
        voted = session.scalar(
            select(func.count()).select_from(Battle).where(Battle.voted_at.is_not(None))
        )
        winners = list(session.scalars(select(Vote.winner).order_by(Vote.id)))
    return issued, voted, winners


def _until(page, expression: str, seconds: float = 10) -> None:
    """Wait until ``expression`` is true in the page, polled from here (the page's CSP forbids
    the eval that Playwright's own in-page polling needs)."""
    for _ in range(int(seconds * 20)):
        if page.evaluate(expression):
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"still false after {seconds} s: {expression}")


def _ready(page, size: int, state: str = "voting") -> None:
    page.wait_for_selector(f'#battle[data-state="{state}"][data-size="{size}"]')
    _until(page, "[...document.querySelectorAll('#battle img')].every(i => i.naturalWidth > 0)")


def _assert_on_one_screen(page, expected: int) -> None:
    """Every image and vote control lies inside the viewport, and nothing overflows sideways."""
    width, height = page.evaluate("[innerWidth, innerHeight]")
    boxes = page.evaluate(BOXES, VOTE_PARTS)
    assert len(boxes) == expected
    for box in boxes:
        assert box["width"] > 0 and box["height"] > 0, box
        assert box["top"] >= 0 and box["bottom"] <= height, (box, height)
        assert box["left"] >= 0 and box["right"] <= width, (box, width)
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def _token(page) -> str:
    return page.locator('#battle input[name="token"]').get_attribute("value")


def _wait_for_another_battle(page, token: str) -> None:
    page.wait_for_selector(f'#battle input[name=token]:not([value="{token}"])', state="attached")


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png")


def test_on_a_phone_a_vote_needs_no_scrolling_and_a_tap_votes(voting_app, live_server, browser):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/arena/{COMPETITION}")
        _ready(page, 2)
        _shot(page, "phone-two")
        # Two images side by side, four vote buttons and Skip, all on the first screen.
        _assert_on_one_screen(page, 2 + 5)
        left, right = (page.locator(f".side-{s} img").bounding_box() for s in ("left", "right"))
        assert left["y"] == pytest.approx(right["y"], abs=1)
        assert right["x"] >= left["x"] + left["width"]
        # The prompt is shown (clamped to a few lines), with no keyboard hints on a touch screen.
        prompt = page.locator("#battle .prompt").bounding_box()
        assert prompt["y"] >= 0 and prompt["y"] + prompt["height"] <= left["y"]
        assert not page.locator(".keys-hint").is_visible()
        assert not page.locator("#battle kbd").first.is_visible()
        # A long prompt is cut to a few lines; "more" shows it whole, "less" cuts it again.
        more = page.locator("#battle .prompt-more")
        assert more.inner_text() == "more"
        more.tap()
        assert more.get_attribute("aria-expanded") == "true" and more.inner_text() == "less"
        assert page.locator("#battle .prompt").bounding_box()["height"] > prompt["height"]
        more.tap()
        assert page.locator("#battle .prompt").bounding_box()["height"] == prompt["height"]
        page.get_by_role("button", name="Right is better").tap()
        _ready(page, 2, "revealed")
        _shot(page, "phone-two-reveal")
        assert page.locator(".side-right.winner .model-name").is_visible()
        _assert_on_one_screen(page, 2 + 1)  # the Next button too
        page.get_by_role("button", name="Next battle").tap()
        _ready(page, 2)

        page.goto(f"{live_server}/arena/{COMPETITION}?size=4")
        _ready(page, 4)
        _shot(page, "phone-four")
        _assert_on_one_screen(page, 4 + 1)  # four images and Skip
        picks = [page.locator(".four .pick").nth(i).bounding_box() for i in range(4)]
        assert picks[0]["y"] == pytest.approx(picks[1]["y"], abs=1)  # a 2x2 grid
        assert picks[2]["y"] >= picks[0]["y"] + picks[0]["height"]
        page.locator(".four .pick").nth(2).tap()
        _ready(page, 4, "revealed")
        _shot(page, "phone-four-reveal")
        assert "winner" in page.locator(".four .entry").nth(2).get_attribute("class")
        _assert_on_one_screen(page, 4 + 1)
    finally:
        context.close()
    _, voted, winners = _counts(voting_app)
    assert voted == 2 and winners[0] == "model_b" and len(winners) == 1 + 3


def test_on_a_desktop_a_vote_needs_no_scrolling_and_the_keys_are_shown(
    voting_app, live_server, browser
):
    context = browser.new_context(**DESKTOP)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/arena/{COMPETITION}")
        _ready(page, 2)
        _shot(page, "desktop-two")
        _assert_on_one_screen(page, 2 + 5)
        hint = page.locator(".keys-hint")
        assert hint.is_visible()
        assert "both bad" in hint.inner_text() and "skip" in hint.inner_text()
        assert page.locator('[data-key="both_bad"] kbd').inner_text() == "B"
        page.keyboard.press("ArrowLeft")
        _ready(page, 2, "revealed")
        _assert_on_one_screen(page, 2 + 1)

        page.goto(f"{live_server}/arena/{COMPETITION}?size=4")
        _ready(page, 4)
        _shot(page, "desktop-four")
        _assert_on_one_screen(page, 4 + 1)
        page.keyboard.press("2")
        _ready(page, 4, "revealed")
        _shot(page, "desktop-four-reveal")
        _assert_on_one_screen(page, 4 + 1)
    finally:
        context.close()


def test_enlarging_an_image_opens_a_dialog_and_never_votes(voting_app, live_server, browser):
    context = browser.new_context(**DESKTOP)
    page = context.new_page()
    dialog = page.locator("#zoom")
    try:
        page.goto(f"{live_server}/arena/{COMPETITION}")
        _ready(page, 2)
        # By keyboard: the image is a link; Enter opens it, vote keys do nothing, Esc closes.
        left = page.get_by_role("link", name="Enlarge: Left image")
        left.focus()
        page.keyboard.press("Enter")
        page.wait_for_selector("#zoom[open]")
        image = page.locator("#zoom-image")
        assert image.get_attribute("src") == left.get_attribute("href")
        assert page.locator("#battle .side-left img").get_attribute("src") == left.get_attribute(
            "href"
        )
        _until(page, "document.getElementById('zoom-image').naturalWidth > 0")
        assert image.is_visible() and page.locator("#zoom-caption").inner_text() == "Left image"
        for key in ("ArrowLeft", "1", "b", "s"):
            page.keyboard.press(key)
        page.keyboard.press("Escape")
        page.wait_for_selector("#zoom:not([open])", state="attached")
        assert page.evaluate("document.activeElement.getAttribute('aria-label')") == (
            "Enlarge: Left image"
        )
        # By click: the close button, then a click outside the image.
        page.get_by_role("link", name="Enlarge: Right image").click()
        page.wait_for_selector("#zoom[open]")
        _shot(page, "desktop-zoom")
        page.get_by_role("button", name="Close the enlarged image").click()
        page.wait_for_selector("#zoom:not([open])", state="attached")
        page.get_by_role("link", name="Enlarge: Right image").click()
        page.wait_for_selector("#zoom[open]")
        page.mouse.click(5, 895)
        page.wait_for_selector("#zoom:not([open])", state="attached")
        assert page.locator('#battle[data-state="voting"]').count() == 1

        # Best of four: the link under each image enlarges it; the image itself would vote.
        page.goto(f"{live_server}/arena/{COMPETITION}?size=4")
        _ready(page, 4)
        page.get_by_role("link", name="Enlarge: Image 3").click()
        page.wait_for_selector("#zoom[open]")
        assert page.locator("#zoom-caption").inner_text() == "Image 3"
        page.keyboard.press("3")
        page.keyboard.press("Escape")
        page.wait_for_selector("#zoom:not([open])", state="attached")
        assert page.locator('#battle[data-state="voting"]').count() == 1
        assert not dialog.is_visible()
    finally:
        context.close()
    assert _counts(voting_app)[1:] == (0, [])


def test_a_tap_outside_the_enlarged_image_closes_it_on_a_phone(voting_app, live_server, browser):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/arena/{COMPETITION}")
        _ready(page, 2)
        page.get_by_role("link", name="Enlarge: Right image").tap()
        page.wait_for_selector("#zoom[open]")
        _until(page, "document.getElementById('zoom-image').naturalWidth > 0")
        _shot(page, "phone-zoom")
        box = page.locator("#zoom-image").bounding_box()
        assert box["width"] > page.locator("#battle .side-right img").bounding_box()["width"]
        page.touchscreen.tap(195, 830)  # below the image
        page.wait_for_selector("#zoom:not([open])", state="attached")
        assert page.locator('#battle[data-state="voting"]').count() == 1
    finally:
        context.close()
    assert _counts(voting_app)[1:] == (0, [])


def test_skip_loads_another_battle_and_records_no_vote(voting_app, live_server, page):
    page.goto(f"{live_server}/arena/{COMPETITION}")
    _ready(page, 2)
    first = _token(page)
    page.locator('#battle [data-key="skip"]').click()
    _wait_for_another_battle(page, first)
    _ready(page, 2)
    second = _token(page)
    page.keyboard.press("s")
    _wait_for_another_battle(page, second)
    assert page.url.endswith(f"/arena/{COMPETITION}")  # htmx swaps, no page loads
    page.goto(f"{live_server}/arena/{COMPETITION}?size=4")
    _ready(page, 4)
    four = _token(page)
    page.keyboard.press("s")
    _wait_for_another_battle(page, four)
    _ready(page, 4)  # still best of four
    issued, voted, winners = _counts(voting_app)
    assert issued == 5 and voted == 0 and winners == []


def test_skip_without_javascript_is_a_link_to_another_battle(voting_app, live_server, browser):
    context = browser.new_context(java_script_enabled=False, **DESKTOP)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/arena/{COMPETITION}?size=4")
        first = _token(page)
        page.locator('#battle [data-key="skip"]').click()
        page.wait_for_load_state()
        assert page.url.endswith(f"/arena/{COMPETITION}?size=4")
        assert _token(page) != first
        assert page.locator("#battle").get_attribute("data-size") == "4"
    finally:
        context.close()
    assert _counts(voting_app) == (2, 0, [])


def test_the_both_bad_keys_record_both_bad(voting_app, live_server, page):
    page.goto(f"{live_server}/arena/{COMPETITION}")
    for key in ("b", "4"):
        _ready(page, 2)
        page.keyboard.press(key)
        _ready(page, 2, "revealed")
        assert "both bad" in page.locator(".reveal-note").inner_text()
        page.keyboard.press("n")
    _ready(page, 2)
    assert _counts(voting_app)[1:] == (2, ["tie (bothbad)", "tie (bothbad)"])
