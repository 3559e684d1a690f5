"""The leaderboard in Chromium: ranked by the published rating, sortable from the keyboard
(htmx swaps the table), fitting 1366 px and a 390 px phone without any horizontal scroll,
and the competition list opening a board with and without JavaScript."""

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
    elos = [int(t) for t in page.locator("table.leaderboard tbody td.col-elo").all_inner_texts()]
    assert elos == sorted(elos, reverse=True)
    assert _ranks(page) != ranks  # the live Elo orders them otherwise

    page.get_by_role("link", name=re.compile("^Rank$")).click()
    expect(page).to_have_url(re.compile(r"/leaderboard\?sort=rank$"))
    expect(page.locator("table.leaderboard tbody td.rank").first).to_have_text("#1 of 14")


#: Page overflow, and how far the table is wider than its box (both must be <= 0).
OVERFLOW = """() => [
    document.documentElement.scrollWidth - window.innerWidth,
    (box => box.scrollWidth - box.clientWidth)(document.querySelector('.board-block .table-wrap')),
]"""


def test_leaderboard_fits_1366_with_every_column_and_no_scroll(published, live_server, browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    desk = context.new_page()
    try:
        for path in ("/leaderboard", "/leaderboard/competition/fantasy-warrior-ii"):
            desk.goto(f"{live_server}{path}")
            assert desk.evaluate(OVERFLOW) <= [0, 0], path
            for name in ("Rank (UB)", "Score", "Votes", "Win rate", "Licence", "Price", "Live Elo"):
                header = desk.get_by_role("columnheader", name=re.compile(f"^{re.escape(name)}"))
                expect(header).to_be_visible()
            expect(desk.locator("details.row-more").first).to_be_hidden()
        schnell = desk.locator('tr[data-model="flux-1-schnell"]')
        expect(schnell.locator("td.col-licence")).to_contain_text("Apache-2.0")
        expect(schnell.locator("td.col-price")).to_have_text("$0.0030")
    finally:
        context.close()


def test_leaderboard_fits_a_phone_without_horizontal_scroll(published, live_server, browser):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    phone = context.new_page()
    try:
        for path in ("/leaderboard", "/leaderboard/overview"):
            phone.goto(f"{live_server}{path}")
            overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, path
        phone.goto(f"{live_server}/leaderboard")
        assert phone.evaluate(OVERFLOW) <= [0, 0]
        row = phone.locator('tr[data-model="flux-1-schnell"]')
        for cell in ("td.rank-ub", "td.score", "th.model-cell"):
            box = row.locator(cell).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, cell
        facts = row.locator(".phone-facts")  # licence and price under the name
        expect(facts).to_be_visible()
        expect(facts).to_contain_text("Apache-2.0")
        expect(facts).to_contain_text("$0.0030")
        expect(row.locator("td.col-elo")).to_be_hidden()
        summary = row.locator("details.row-more summary")
        summary.focus()  # the other columns open from the keyboard
        phone.keyboard.press("Enter")
        expect(row.locator("details.row-more dl")).to_contain_text("Live Elo")
        assert phone.evaluate(OVERFLOW) <= [0, 0]
    finally:
        context.close()


def test_competition_list_opens_a_board_with_and_without_javascript(
    published, live_server, browser
):
    for javascript in (True, False):
        context = browser.new_context(
            viewport={"width": 1366, "height": 900}, java_script_enabled=javascript
        )
        desk = context.new_page()
        try:
            desk.goto(f"{live_server}/leaderboard")
            pick = desk.get_by_label("Competition")
            expect(pick.locator("option", has_text="Fantasy Warrior · edition 2")).to_have_count(1)
            pick.select_option(label="Fantasy Warrior · edition 2")
            if not javascript:
                desk.get_by_role("button", name="Show").click()
            expect(desk).to_have_url(re.compile(r"/leaderboard/competition/fantasy-warrior-ii$"))
            expect(desk.get_by_role("heading", level=1)).to_have_text("Fantasy Warrior · edition 2")
        finally:
            context.close()
