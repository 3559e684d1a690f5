"""The leaderboard overview: each model's published rank (UB) overall and in each category."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from arena.models import Model
from arena.services.leaderboards.boards import board
from arena.services.leaderboards.publishing import publish_snapshots
from arena.web.db import get_db


@pytest.fixture
def published(voting_app, votes):
    votes.cast(40, seed=4)
    votes.cast(6, competition="heroic-super-hero-portrait", seed=2)
    with voting_app.app_context(), get_db().session() as session:
        publish_snapshots(session, rounds=30, seed=2)
    return voting_app


def _cells(html: str) -> dict[str, list[str]]:
    """``{model slug: [the text of each rank cell]}`` in table order."""
    rows = re.findall(r'<tr data-model="([^"]+)"[^>]*>(.*?)</tr>', html, flags=re.S)
    return {
        slug: [
            re.sub(r"<span class=\"visually-hidden\">.*?</span>|<[^>]+>|†", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", body, flags=re.S)
        ]
        for slug, body in rows
    }


def test_overview_ranks_match_each_boards_published_snapshot(published):
    client = published.test_client()
    response = client.get("/leaderboard/overview")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    headers = re.findall(r'<th scope="col" class="num"><a href="([^"]+)">([^<]+)</a>', html)
    assert headers[0] == ("/leaderboard", "Overall")
    assert ("/leaderboard/category/portrait", "Portrait") in headers
    cells = _cells(html)
    with published.app_context(), get_db().session() as session:
        for column, (url, _title) in enumerate(headers):
            key = "overall" if url == "/leaderboard" else "category:" + url.rsplit("/", 1)[1]
            ranks = {r["model_id"]: r["rank_ub"] for r in board(session, key).rows}
            for slug, texts in cells.items():
                expected = ranks.get(slug)
                assert texts[column] == ("—" if expected is None else str(expected)), (key, slug)
    overall = [
        (int(texts[0]) if texts[0] != "—" else 10**6) for texts in cells.values()
    ]  # rows best first by overall rank (UB)
    assert overall == sorted(overall) and len(cells) >= 14
    assert sum(texts[headers.index(("/leaderboard/category/landscape", "Landscape"))] != "—"
               for texts in cells.values()) == 0  # fmt: skip


def test_overview_is_linked_from_every_board_and_hides_deprecated(published):
    client = published.test_client()
    for url in ("/leaderboard", "/leaderboard/category/portrait"):
        assert 'href="/leaderboard/overview"' in client.get(url).get_data(as_text=True)
    with published.app_context(), get_db().session() as session:
        session.execute(update(Model).where(Model.slug == "dall-e-3").values(status="deprecated"))
        session.commit()
    html = client.get("/leaderboard/overview").get_data(as_text=True)
    assert 'data-model="dall-e-3"' not in html and "Show 1 deprecated model" in html
    shown = client.get("/leaderboard/overview?deprecated=1").get_data(as_text=True)
    assert 'data-model="dall-e-3" class="deprecated"' in shown


def test_overview_before_any_snapshot_says_so(voting_app):
    html = voting_app.test_client().get("/leaderboard/overview").get_data(as_text=True)
    assert "No board has published a ranking yet" in html
