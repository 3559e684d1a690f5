"""Home, competitions and sign-in pages: what the public sees, and errors said once."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from sqlalchemy import update

from arena.models import Competition
from arena.services.seeding import load_seeds
from arena.web.db import get_db

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def cards(page: str) -> list[str]:
    return page.split('class="card competition-card"')[1:]


@pytest.fixture
def seeded_client(app, client, small_seeds: Path):
    with app.app_context(), get_db().session() as session:
        load_seeds(session, small_seeds)
        session.execute(
            update(Competition)
            .where(Competition.slug == "storefront-signage")
            .values(status="closed")
        )
        session.commit()
    return client


def test_home_start_voting_is_the_one_primary_call_to_action(seeded_client):
    page = seeded_client.get("/").get_data(as_text=True)
    hero = page.split('class="hero"')[1].split("</section>")[0]
    buttons = re.findall(r'<a class="button([^"]*)" href="([^"]+)">([^<]+)</a>', hero)
    assert buttons[0] == (" primary cta", "/arena", "Start voting")
    assert all("primary" not in classes for classes, _, _ in buttons[1:])
    assert ("", "/leaderboard", "Leaderboard") in buttons


def test_competition_cards_show_prompts_models_votes_not_operator_progress(seeded_client):
    for path in ("/", "/competitions"):
        page = seeded_client.get(path).get_data(as_text=True)
        assert "Outputs ready" not in page and "<progress" not in page, path
        for card in cards(page):
            assert re.search(r"<dt>Prompts</dt><dd>3</dd>", card), path
            assert "<dt>Models</dt>" in card and "<dt>Votes</dt>" in card
            assert "<code>" not in card  # no slugs on public cards
    text = text_of(seeded_client.get("/competitions").get_data(as_text=True))
    # Two competitions named "Fantasy Warrior" are told apart by their edition.
    assert "Fantasy Warrior · edition 1" in text and "Fantasy Warrior · edition 2" in text
    page = seeded_client.get("/competitions").get_data(as_text=True)
    closed = next(c for c in cards(page) if "storefront-signage" in c)
    assert 'href="/gallery/storefront-signage"' in closed and 'href="/arena/' not in closed


def test_competition_page_uses_the_edition_label_and_hides_progress(seeded_client):
    page = seeded_client.get("/competitions/fantasy-warrior-ii").get_data(as_text=True)
    assert "<h1>Fantasy Warrior · edition 2 " in page
    assert "Outputs ready" not in page
    # Closed without images: says so, and offers no gallery link.
    closed = seeded_client.get("/competitions/storefront-signage").get_data(as_text=True)
    assert "This competition is closed, but it has no images to show." in closed
    assert 'href="/gallery/storefront-signage"' not in closed


def test_wrong_admin_password_shows_its_error_once(app):
    app.config["ADMIN_PASSWORD"] = "correct horse battery staple"
    app.config["ADMIN_LOGIN_RATE_LIMIT"] = "off"
    client = app.test_client()
    token = _CSRF.search(client.get("/admin/login").get_data(as_text=True)).group(1)
    response = client.post("/admin/login", data={"csrf_token": token, "password": "wrong"})
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert page.count("That password is not right") == 1
    assert page.count('role="alert"') == 1


def test_footer_links_the_gallery_and_the_api_document(client):
    page = client.get("/").get_data(as_text=True)
    footer = page.split('<footer class="site-footer">')[1]
    assert 'href="/gallery"' in footer and 'href="/api/openapi.json"' in footer
