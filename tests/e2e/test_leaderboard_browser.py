"""The leaderboard in Chromium: ranked by the published rating, sortable from the keyboard
(htmx swaps the table), and on a phone the table scrolls inside its box, not the page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from arena.services.leaderboards.publishing import publish_snapshots
from arena.web.db import get_db
from tests.services.leaderboards.swing import cast_swing

pytestmark = pytest.mark.e2e


@pytest.fixture
def published(voting_app, votes):
    cast_swing(voting_app, decided=40, upsets=8)
    with voting_app.app_context(), get_db().session() as session:
        publish_snapshots(session, rounds=50, seed=1)
    votes.cast(2, competition="heroic-super-hero-portrait")  # one model not yet ranked
    return voting_app


def _ranks(page) -> list[str]:
    return page.locator("table.leaderboard tbody td.rank").all_inner_texts()


def test_leaderboard_ranks_by_published_rating_and_sorts_from_the_keyboard(
    published, live_server, page
):
    page.goto(f"{live_server}/leaderboard")
    expect(page.locator(".board-meta")).to_contain_text("Ranked by published rating")
    ranks = _ranks(page)
    assert ranks[0] == "#1 of 14" and ranks[-1] == "new — not yet ranked" and len(ranks) == 15
    numbers = [int(re.match(r"#(\d+)", r).group(1)) for r in ranks[:-1]]
    assert numbers == sorted(numbers)
    header = page.get_by_role("columnheader", name=re.compile("^Rank$"))
    expect(header).to_have_attribute("aria-sort", "ascending")

    elo_link = page.get_by_role("link", name="Live Elo", exact=True)
    elo_link.focus()
    page.keyboard.press("Enter")  # htmx swaps the table; the URL follows
    expect(page).to_have_url(re.compile(r"/leaderboard\?sort=elo$"))
    elo_header = page.get_by_role("columnheader", name=re.compile("^Live Elo"))
    expect(elo_header).to_have_attribute("aria-sort", "descending")
    elos = [
        int(t) for t in page.locator("table.leaderboard tbody td:nth-child(6)").all_inner_texts()
    ]
    assert elos == sorted(elos, reverse=True)
    assert _ranks(page) != ranks  # the live Elo orders them otherwise

    page.get_by_role("link", name=re.compile("^Rank$")).click()
    expect(page).to_have_url(re.compile(r"/leaderboard\?sort=rank$"))
    expect(page.locator("table.leaderboard tbody td.rank").first).to_have_text("#1 of 14")


def test_leaderboard_fits_a_phone_with_the_table_scrolling_in_its_box(
    published, live_server, browser
):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = context.new_page()
    try:
        phone.goto(f"{live_server}/leaderboard")
        overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        box = phone.locator(".board-block .table-wrap")
        assert box.evaluate("el => el.scrollWidth > el.clientWidth")  # the table scrolls inside
        box.focus()  # reachable from the keyboard, so arrow keys scroll it
        phone.keyboard.press("ArrowRight")
        phone.wait_for_function(
            "() => document.querySelector('.board-block .table-wrap').scrollLeft > 0"
        )
    finally:
        context.close()
