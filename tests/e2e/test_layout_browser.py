"""Every public page, looked at in Chromium at 1366 px and on a 390 px phone.

The test crawls the site from the home page and the navigation (every same-site page link,
a few of each kind), on an arena with votes, a published leaderboard and a closed
competition with outputs (so galleries and charts have something to show). A page fails when:

- it overflows horizontally (``scrollWidth > innerWidth``): a wide table or chart must fit
  or scroll inside its own box, never the page;
- a chart's text renders under 11 px (an SVG scaled down by its viewBox shrinks its text);
- on the phone, voting needs scrolling: an image or a button of the battle lies outside the
  first screen.

The layout does not depend on the database, so this test runs on SQLite only.
"""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urlsplit

import pytest

from arena.services import generation
from arena.services.leaderboards.publishing import publish_snapshots
from arena.web.db import get_db
from tests.services.leaderboards.swing import cast_swing

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.parametrize("backend", ["sqlite"], indirect=True),
]

WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}
START = [
    "/",
    "/arena",
    "/arena?size=4",
    "/leaderboard",
    "/leaderboard/overview",
    "/gallery",
    "/models",
    "/competitions",
    "/competitions/storefront-signage",
    "/admin/login",
    "/no-such-page",
]
#: Pages of one kind (same path with the last segment and the query left out) visited at most.
PER_KIND = 3
MAX_PAGES = 45
SKIP = re.compile(
    r"^/(api|v1|openai|static|media|battle-images|admin/(?!login$)|healthz|metrics)"
    r"|\.(csv|json|png|webp|jpe?g|gif|avif|svg)$"
)
MIN_CHART_PX = 11.0

CHART_TEXT_SIZES = """() => [...document.querySelectorAll('svg text')]
  .filter(t => t.getBBox().width > 0 && t.closest('svg').getBoundingClientRect().width > 0)
  .map(t => {
    const m = t.getScreenCTM();
    const scale = m ? Math.hypot(m.a, m.b) : 1;
    return [t.textContent.trim().slice(0, 40), parseFloat(getComputedStyle(t).fontSize) * scale];
  })"""

OUTSIDE_FIRST_SCREEN = """() => {
  const main = document.querySelector('main');
  const seen = [...main.querySelectorAll('img, button')].filter(e => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'
      && !e.closest('dialog:not([open]), [hidden], details:not([open]) > :not(summary)');
  });
  return seen.filter(e => {
    const r = e.getBoundingClientRect();
    return r.top < 0 || r.left < 0 || r.bottom > innerHeight + 0.5 || r.right > innerWidth + 0.5;
  }).map(e => {
    const r = e.getBoundingClientRect();
    const label = (e.innerText || e.alt || '').trim().slice(0, 30);
    return `${e.tagName.toLowerCase()} ${label} [${Math.round(r.top)}..${Math.round(r.bottom)}]`;
  });
}"""


@pytest.fixture
def full_site(voting_app, votes):
    """Votes and a published leaderboard; a closed competition with outputs for the gallery."""
    cast_swing(voting_app, decided=40, upsets=8)
    with voting_app.app_context(), get_db().session() as session:
        closed = generation.select_competitions(session, ["storefront-signage"], False)
        assert closed[0].status == "closed"
        models = {m.id for m in closed[0].models[:4]}
        jobs = [
            job
            for job in generation.plan_jobs(session, closed, voting_app.config, "builtin").jobs
            if job.model_id in models
        ]
        generation.run_jobs(session, jobs, voting_app.config, workers=2)
        publish_snapshots(session, rounds=30, seed=1)
    return voting_app


def _kind(path: str) -> str:
    parts = urlsplit(path).path.rstrip("/").split("/")
    return "/".join(parts[:-1]) + "/*" if len(parts) > 2 else urlsplit(path).path


def _crawl(page, base: str) -> list[str]:
    """Same-site page paths reachable from START, a few of each kind."""
    queue, seen, kinds = list(START), set(), Counter()
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen or SKIP.search(urlsplit(path).path) or kinds[_kind(path)] >= PER_KIND:
            continue
        seen.add(path)
        kinds[_kind(path)] += 1
        page.goto(base + path)
        for href in page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)"):
            parts = urlsplit(href)
            if f"{parts.scheme}://{parts.netloc}" == base and parts.path:
                link = parts.path + (f"?{parts.query}" if parts.query else "")
                if link not in seen:
                    queue.append(link)
    return sorted(seen)


def test_no_public_page_overflows_and_charts_stay_readable_at_both_widths(
    full_site, live_server, browser
):
    crawler = browser.new_context(viewport={"width": 1366, "height": 900})
    paths = _crawl(crawler.new_page(), live_server)
    crawler.close()
    for expected in ("/", "/arena", "/leaderboard", "/models", "/competitions"):
        assert expected in paths, paths
    assert any(p.startswith("/models/") for p in paths), paths
    assert any(p.startswith("/leaderboard/competition/") for p in paths), paths

    problems: list[str] = []
    charts_seen = 0
    for name, (width, height) in WIDTHS.items():
        phone = name == "phone"
        context = browser.new_context(
            viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone
        )
        page = context.new_page()
        for path in paths:
            page.goto(live_server + path)
            page.wait_for_load_state("load")
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            if scroll_width > width:
                problems.append(f"{name} {path}: page is {scroll_width} px wide")
            sizes = page.evaluate(CHART_TEXT_SIZES)
            charts_seen += len(sizes)
            small = [(text, round(px, 1)) for text, px in sizes if px < MIN_CHART_PX]
            if small:
                problems.append(
                    f"{name} {path}: {len(small)} chart labels < 11 px, e.g. {small[:3]}"
                )
            if phone and re.fullmatch(r"/arena(/[\w-]+)?(\?size=4)?", path):
                if page.locator("main img").count():
                    outside = page.evaluate(OUTSIDE_FIRST_SCREEN)
                    if outside:
                        problems.append(f"phone {path}: voting needs scrolling: {outside[:4]}")
                else:
                    problems.append(f"phone {path}: no battle to vote on")
        context.close()
    assert charts_seen > 0, f"no chart was drawn on any page: {paths} {problems}"
    assert problems == [], "\n".join(problems)
