"""Leaderboard pages and their JSON/CSV API, from real votes and a published snapshot."""

from __future__ import annotations

import csv
import io

import pytest

from arena.services.leaderboards.publishing import publish_snapshots
from arena.web.db import get_db


@pytest.fixture
def board_client(voting_app, votes):
    votes.cast(40, seed=9)
    return voting_app.test_client()


def _publish(app):
    with app.app_context(), get_db().session() as session:
        publish_snapshots(session, rounds=50, seed=3)


def test_leaderboard_page_before_a_snapshot_shows_live_elo(board_client):
    response = board_client.get("/leaderboard")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "No snapshot published yet" in html and "arena recompute" in html
    assert '#1 <span class="muted">of 14</span>' in html
    assert "<svg" not in html


def test_leaderboard_pages_show_snapshot_table_charts_and_downloads(board_client, voting_app):
    _publish(voting_app)
    for url in (
        "/leaderboard",
        "/leaderboard/category/portrait",
        "/leaderboard/competition/fantasy-warrior-ii",
    ):
        response = board_client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert "Published snapshot #" in html
        assert html.count("<svg") == 4  # CIs, win fraction, battle counts, Elo over time
        assert "W / L / T" in html and "BT ± 95% CI" in html
        assert "format=csv" in html


def test_leaderboard_sorting_works_as_page_and_htmx_fragment(board_client, voting_app):
    _publish(voting_app)
    page = board_client.get("/leaderboard?sort=battles").get_data(as_text=True)
    assert 'aria-sort="ascending"' in page
    fragment = board_client.get(
        "/leaderboard?sort=model&dir=reverse", headers={"HX-Request": "true"}
    )
    text = fragment.get_data(as_text=True)
    assert text.lstrip().startswith('<div id="board-table"') and "<html" not in text
    assert "HX-Request" in fragment.headers["Vary"]


def test_leaderboard_unknown_scope_is_404(board_client):
    assert board_client.get("/leaderboard/competition/nope").status_code == 404
    assert board_client.get("/leaderboard/category/nope").status_code == 404


def test_leaderboard_api_json_and_csv(board_client, voting_app):
    _publish(voting_app)
    body = board_client.get("/api/v1/leaderboards/overall").get_json()
    assert set(body) == {"scope", "snapshot_id", "computed_at", "rows"}
    assert body["rows"][0]["rank"] == 1 and body["rows"][0]["bt_rating"] is not None
    response = board_client.get("/api/v1/leaderboards/competition:fantasy-warrior-ii?format=csv")
    assert response.mimetype == "text/csv"
    header = next(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert header[:15] == [
        "rank",
        "rank_of",
        "model_id",
        "model_name",
        "creator",
        "elo",
        "wins",
        "losses",
        "ties",
        "battles",
        "win_rate",
        "bt_rating",
        "ci_low",
        "ci_high",
        "snapshot_id",
    ]
    assert board_client.get("/api/v1/leaderboards/bogus").status_code == 400
    assert board_client.get("/api/v1/leaderboards/overall?format=xml").status_code == 400
    assert board_client.get("/api/v1/leaderboards/overall?snapshot=abc").status_code == 400


def test_votes_api_json_and_csv(board_client):
    body = board_client.get("/api/v1/votes").get_json()
    assert body["count"] == 40
    assert set(body["votes"][0]) == {
        "vote_id",
        "created_at",
        "competition",
        "category",
        "prompt_id",
        "model_a",
        "model_b",
        "winner",
        "voter",
    }
    text = board_client.get("/api/v1/votes?format=csv").get_data(as_text=True)
    assert text.splitlines()[0] == (
        "vote_id,created_at,competition,category,prompt_id,model_a,model_b,winner,voter"
    )
    assert len(text.strip().splitlines()) == 41


def test_history_restore_gets_the_whole_page(board_client):
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    html = board_client.get("/leaderboard?sort=elo", headers=headers).get_data(as_text=True)
    assert html.startswith("<!doctype html>")
