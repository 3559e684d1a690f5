"""The leaderboard's charts in Chromium at 1366 and 390 px: every chart text is drawn at 11 px
or more (its font size times the SVG's scale on screen), inside its chart, and no chart makes
the page scroll sideways; the dots are reachable from the keyboard with their exact values."""

from __future__ import annotations

import pytest

from arena.services.leaderboards.publishing import publish_snapshots
from arena.web.db import get_db

pytestmark = pytest.mark.e2e

PAGES = ["/leaderboard", "/leaderboard/competition/fantasy-warrior-ii"]
SCREENS = {"desktop": (1366, 900), "phone": (390, 844)}

#: Per shown chart text: its rendered font size (computed size x the scale of the SVG's
#: screen transform) and how far its box sticks out of its SVG's box (0 when inside).
MEASURE = """() => [...document.querySelectorAll('section.charts svg text')]
  .filter(t => t.getClientRects().length > 0)
  .map(t => {
    const m = t.getScreenCTM();
    const size = parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
    const r = t.getBoundingClientRect(), s = t.ownerSVGElement.getBoundingClientRect();
    const out = Math.max(s.left - r.left, r.right - s.right, s.top - r.top, r.bottom - s.bottom);
    return {text: t.textContent, size, out, height: r.height};
  })"""


@pytest.fixture
def published(voting_app, votes):
    votes.cast(60, seed=4)
    votes.cast(3, competition="heroic-super-hero-portrait")  # a few models barely seen
    with voting_app.app_context(), get_db().session() as session:
        publish_snapshots(session, rounds=30, seed=2)
    return voting_app


@pytest.mark.parametrize("screen", SCREENS)
def test_chart_text_is_at_least_11_px_and_no_chart_overflows_the_page(
    published, live_server, browser, screen
):
    width, height = SCREENS[screen]
    phone = screen == "phone"
    context = browser.new_context(
        viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone
    )
    page = context.new_page()
    try:
        for path in PAGES:
            page.goto(f"{live_server}{path}")
            page.evaluate("document.fonts.ready.then(() => true)")  # measure laid-out text
            texts = page.evaluate(MEASURE)
            assert len(texts) > 100, path
            small = [t for t in texts if t["size"] < 11 or t["height"] < 11]
            assert not small, (path, small[:5])
            clipped = [t for t in texts if t["out"] > 1]
            assert not clipped, (path, clipped[:5])
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, path
            cards = page.evaluate(
                "[...document.querySelectorAll('section.charts figure')]"
                ".map(f => f.getBoundingClientRect().right)"
            )
            assert len(cards) == 7 and max(cards) <= width, path
            shown = "narrow" if phone else "wide"
            hidden = "wide" if phone else "narrow"
            assert page.locator(f"#chart-ratings .chart-{shown} svg").is_visible()
            assert page.locator(f"#chart-ratings .chart-{hidden} svg").is_hidden()
    finally:
        context.close()


@pytest.mark.parametrize("screen", SCREENS)
def test_chart_dots_take_the_keyboard_and_carry_their_values(
    published, live_server, browser, screen
):
    width, height = SCREENS[screen]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.goto(f"{live_server}/leaderboard/competition/fantasy-warrior-ii")
        variant = "narrow" if screen == "phone" else "wide"
        box = page.locator(f"#chart-ratings .chart-{variant}")
        box.focus()
        page.keyboard.press("Tab")  # the first dot: the best model's rating and interval
        focused = page.evaluate(
            "() => [document.activeElement.tagName,"
            " document.activeElement.querySelector('title').textContent]"
        )
        assert focused[0] == "circle"
        assert "95% CI" in focused[1]
        best = page.locator("table.leaderboard tbody tr").first.inner_text()
        assert focused[1].split(":")[0] in best
    finally:
        context.close()
