"""The voting page: the full page and its htmx fragments, with and without JavaScript."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from arena.models import Model
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
