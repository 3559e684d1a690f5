"""Public pages: home lists the open competitions, competition pages, error pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from arena.services.seeding import load_seeds
from arena.web.db import get_db


@pytest.fixture
def seeded_client(app, client, small_seeds: Path):
    with app.app_context(), get_db().session() as session:
        load_seeds(session, small_seeds)
    return client


def test_home_lists_open_competitions_with_progress(seeded_client):
    response = seeded_client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Fantasy Warrior" in html and "Heroic Super Hero Portrait" in html
    assert "Outputs ready" not in html  # generation progress is the admin's, not the public's
    assert 'href="/competitions/fantasy-warrior"' in html
    assert "htmx-2.0.11.min.js" in html


def test_home_without_competitions_says_what_to_do(client):
    html = client.get("/").get_data(as_text=True)
    assert "No competition is open for voting yet" in html
    assert "arena generate --all" in html


def test_competition_page_shows_prompts_and_inputs(seeded_client):
    response = seeded_client.get("/competitions/fantasy-warrior")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "elven ranger" in html
    assert "96×64" in html and "Seed" in html


def test_competitions_index_lists_every_public_competition(seeded_client):
    html = seeded_client.get("/competitions").get_data(as_text=True)
    assert html.count('class="card competition-card"') == 6


def test_unknown_competition_is_a_404_page(seeded_client):
    response = seeded_client.get("/competitions/<script>alert(1)</script>")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Not found" in html
    assert "<script>alert(1)</script>" not in html


def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
