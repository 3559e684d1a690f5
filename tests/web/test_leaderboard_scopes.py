"""The leaderboard's scope choice (category tabs, a competition list labelled by name and
edition), its "show deprecated" toggle and its licence and price columns, from real votes."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from arena.models import Model
from arena.services.leaderboards.publishing import publish_snapshots
from arena.web.db import get_db


@pytest.fixture
def board_client(voting_app, votes):
    votes.cast(40, seed=9)
    with voting_app.app_context(), get_db().session() as session:
        publish_snapshots(session, rounds=30, seed=3)
    return voting_app.test_client()


def _row(html: str, slug: str) -> str:
    match = re.search(rf'<tr data-model="{slug}".*?</tr>', html, flags=re.S)
    assert match, slug
    return match.group(0)


def test_leaderboard_scope_tabs_and_competitions_by_name_and_edition(board_client):
    html = board_client.get("/leaderboard/category/portrait").get_data(as_text=True)
    tabs = re.search(r'<ul class="scope-tabs">(.*?)</ul>', html, flags=re.S).group(1)
    titles = re.findall(r"<a [^>]*>([^<]+)</a>", tabs)
    assert titles[0] == "Overall" and "Portrait" in titles and "Landscape" in titles
    assert re.search(r'href="/leaderboard/category/portrait" aria-current="page">Portrait<', tabs)
    assert 'href="/leaderboard/overview"' in tabs
    options = dict(re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)</option>', html))
    assert options["fantasy-warrior"] == "Fantasy Warrior · edition 1"
    assert options["fantasy-warrior-ii"] == "Fantasy Warrior · edition 2"
    assert options["misty-mountains"] == "Misty Mountains"  # a name used once: no edition
    assert '<optgroup label="Portrait">' in html

    page = board_client.get("/leaderboard/competition/fantasy-warrior-ii").get_data(as_text=True)
    assert "<h1>Fantasy Warrior · edition 2</h1>" in page
    assert "competition in Portrait" in page
    assert re.search(r'<option value="fantasy-warrior-ii" data-url="[^"]+" selected>', page)
    assert "fantasy-warrior-ii</" not in page  # the slug is never a label


def test_leaderboard_competition_form_redirects_without_javascript(board_client):
    response = board_client.get("/leaderboard?competition=fantasy-warrior-ii")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/leaderboard/competition/fantasy-warrior-ii")
    kept = board_client.get("/leaderboard?competition=misty-mountains&deprecated=1")
    location = kept.headers["Location"]
    assert location.endswith("/leaderboard/competition/misty-mountains?deprecated=1")
    empty = board_client.get("/leaderboard?competition=")
    assert empty.status_code == 400 and "choose a competition" in empty.get_data(as_text=True)
    unknown = board_client.get("/leaderboard?competition=nope", follow_redirects=True)
    assert unknown.status_code == 404


def test_leaderboard_hides_deprecated_models_unless_asked(board_client, voting_app):
    with voting_app.app_context(), get_db().session() as session:
        session.execute(update(Model).where(Model.slug == "sdxl").values(status="deprecated"))
        session.commit()
    html = board_client.get("/leaderboard").get_data(as_text=True)
    assert 'data-model="sdxl"' not in html and html.count("<tr data-model=") == 13
    assert re.search(r'href="/leaderboard\?deprecated=1">Show 1 deprecated model<', html)
    shown = board_client.get("/leaderboard?deprecated=1").get_data(as_text=True)
    assert "deprecated</span>" in _row(shown, "sdxl") and shown.count("<tr data-model=") == 14
    assert 'href="/leaderboard">Hide deprecated models<' in shown
    assert "?sort=battles&amp;deprecated=1" in shown  # sorting keeps the choice
    fragment = board_client.get(
        "/leaderboard?deprecated=1&sort=elo", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert 'data-model="sdxl"' in fragment and fragment.lstrip().startswith('<div id="board-table"')


def test_leaderboard_shows_licence_and_price_or_unknown(board_client):
    html = board_client.get("/leaderboard").get_data(as_text=True)
    schnell = _row(html, "flux-1-schnell")
    assert '<td class="col-licence"><span class="licence">Apache-2.0</span>' in schnell
    assert "open weights" in schnell
    assert re.search(r'title="Cheapest published price: \$0\.0030/image">\$0\.0030<', schnell)
    gpt = _row(html, "gpt-image-1")  # proprietary, no published price in the seeds
    assert '<span class="licence">Proprietary</span>' in gpt
    assert 'class="unknown">unknown<span class="visually-hidden"> price</span>' in gpt
    assert "<code" not in schnell  # the slug is not shown in the model cell


def test_leaderboard_sorts_by_price_cheapest_first_unknown_last(board_client):
    html = board_client.get("/leaderboard?sort=price").get_data(as_text=True)
    prices = [
        float(p) if p else None
        for p in re.findall(
            r'<td class="num col-price">(?:<span class="price"[^>]*>\$([\d.]+)<|<span)', html
        )
    ]
    known = [p for p in prices if p is not None]
    assert known == sorted(known) and len(known) >= 3
    assert prices[len(known) :] == [None] * (len(prices) - len(known))
