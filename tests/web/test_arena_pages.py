"""The voting page: the full page and its htmx fragments, with and without JavaScript."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from arena.models import Battle, Model, Vote
from arena.web.db import get_db

COMPETITION = "fantasy-warrior-ii"


@pytest.fixture
def browser_client(voting_app):
    return voting_app.test_client()


def _token(html: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _vote_form(html: str, winner: str, **extra: str) -> dict[str, str]:
    return {"token": _token(html), "csrf_token": _csrf(html), "winner": winner, **extra}


def _model_names(app) -> list[str]:
    with app.app_context(), get_db().session() as session:
        return list(session.scalars(select(Model.name)))


def test_vote_page_shows_two_anonymous_images_and_the_four_buttons(browser_client, voting_app):
    response = browser_client.get(f"/arena/{COMPETITION}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count('<img src="/battle-images/') == 2
    for label in ("Left is better", "Tie", "Right is better", "Both bad"):
        assert label in html
    assert 'data-state="voting"' in html
    for name in _model_names(voting_app):
        assert f">{name}<" not in html
    assert "js/arena.js" in html


def test_vote_without_javascript_renders_the_reveal_page(browser_client):
    html = browser_client.get(f"/arena/{COMPETITION}").get_data(as_text=True)
    response = browser_client.post(
        "/arena/vote", data=_vote_form(html, "left", competition=COMPETITION)
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.startswith("<!doctype html>")
    assert 'data-state="revealed"' in page
    assert "Elo 1000 → 1016" in page and "Elo 1000 → 984" in page
    assert "that is vote 1" in page
    next_page = browser_client.post(
        "/arena/next", data={"competition": COMPETITION, "csrf_token": _csrf(page)}
    )
    assert next_page.status_code == 303
    assert next_page.headers["Location"].endswith(f"/arena/{COMPETITION}")


def test_vote_with_htmx_returns_only_the_fragment(browser_client):
    html = browser_client.get(f"/arena/{COMPETITION}").get_data(as_text=True)
    headers = {"HX-Request": "true"}
    response = browser_client.post("/arena/vote", data=_vote_form(html, "tie"), headers=headers)
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="battle"')
    assert "<html" not in fragment and "You called it a tie" in fragment
    assert "HX-Request" in response.headers["Vary"]
    following = browser_client.post(
        "/arena/next", data={"competition": "", "csrf_token": _csrf(fragment)}, headers=headers
    )
    assert following.status_code == 200
    assert 'data-state="voting"' in following.get_data(as_text=True)
    assert "<html" not in following.get_data(as_text=True)


def test_vote_page_errors_are_pages(browser_client):
    assert browser_client.get("/arena/no-such-competition").status_code == 404
    closed = browser_client.get("/arena/storefront-signage")
    assert closed.status_code == 409
    assert "not open for voting" in closed.get_data(as_text=True)
    reused = browser_client.get(f"/arena/{COMPETITION}").get_data(as_text=True)
    browser_client.post("/arena/vote", data=_vote_form(reused, "left"))
    again = browser_client.post("/arena/vote", data=_vote_form(reused, "left"))
    assert again.status_code == 409
    assert "already has its vote" in again.get_data(as_text=True)
    missing = browser_client.post(
        "/arena/vote", data={"winner": "left", "csrf_token": _csrf(reused)}
    )
    assert missing.status_code == 400


def test_arena_without_ready_competitions_says_so(client, app):
    response = client.get("/arena")
    assert response.status_code == 200
    assert "No battle right now" in response.get_data(as_text=True)


def _votes_and_battles(app) -> tuple[int, int]:
    with app.app_context(), get_db().session() as session:
        votes = session.scalar(select(func.count()).select_from(Vote))
        battles = session.scalar(select(func.count()).select_from(Battle))
    return votes, battles


def test_vote_page_skip_is_a_link_and_an_htmx_swap(browser_client, voting_app):
    html = browser_client.get(f"/arena/{COMPETITION}").get_data(as_text=True)
    skip = re.search(r'<a class="button subtle skip-battle" href="([^"]+)" hx-get="([^"]+)"', html)
    assert skip and skip.group(1) == skip.group(2) == f"/arena/{COMPETITION}"
    assert 'data-key="skip"' in html
    four = browser_client.get(f"/arena/{COMPETITION}?size=4").get_data(as_text=True)
    assert f'hx-get="/arena/{COMPETITION}?size=4"' in four  # Skip keeps best of four
    # What the skip link's htmx request gets: a fresh battle's fragment; nothing is voted.
    swapped = browser_client.get(skip.group(2), headers={"HX-Request": "true"})
    assert swapped.status_code == 200 and "HX-Request" in swapped.headers["Vary"]
    fragment = swapped.get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="battle"') and "<html" not in fragment
    assert 'data-state="voting"' in fragment and _token(fragment) != _token(html)
    assert _votes_and_battles(voting_app) == (0, 3)


def test_vote_page_enlarges_images_by_links_that_name_no_model(browser_client, voting_app):
    html = browser_client.get(f"/arena/{COMPETITION}").get_data(as_text=True)
    images = re.findall(r'<img src="(/battle-images/[0-9a-f]{32}\.webp)"', html)
    links = re.findall(r'<a class="zoom" href="([^"]+)" target="_blank"', html)
    assert len(images) == 2 and links == images  # each image is its own enlarge link
    assert 'aria-label="Enlarge: Left image"' in html
    assert 'aria-label="Enlarge: Right image"' in html
    assert '<dialog id="zoom"' in html  # the dialog the script opens them in
    for name in _model_names(voting_app):
        assert name not in html
    four = browser_client.get(f"/arena/{COMPETITION}?size=4").get_data(as_text=True)
    # Best of four: the image is the pick; a separate link enlarges it.
    assert four.count('class="zoom zoom-text"') == 4
    assert four.count('name="best"') == 4
    for name in _model_names(voting_app):
        assert name not in four


def test_vote_page_hints_name_the_both_bad_and_skip_keys(browser_client):
    html = browser_client.get(f"/arena/{COMPETITION}").get_data(as_text=True)
    hint = re.search(r'<span class="keys-hint">(.*?)</span>', html, re.S).group(1)
    assert "<kbd>B</kbd>/<kbd>4</kbd> both bad" in hint and "<kbd>S</kbd> skip" in hint
