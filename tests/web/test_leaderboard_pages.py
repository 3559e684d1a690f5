"""Leaderboard pages and their JSON/CSV API, from real votes and a published snapshot."""

from __future__ import annotations

import csv
import io
import re

import pytest

from arena.services.leaderboards.boards import COLUMNS
from arena.services.leaderboards.publishing import publish_snapshots
from arena.web.db import get_db


@pytest.fixture
def board_client(voting_app, votes):
    votes.cast(40, seed=9)
    return voting_app.test_client()


def _publish(app):
    with app.app_context(), get_db().session() as session:
        publish_snapshots(session, rounds=50, seed=3)


def test_leaderboard_page_before_a_snapshot_ranks_nobody(board_client):
    response = board_client.get("/leaderboard")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "No ranking published yet" in html and "about a minute" in html
    rank_ub_cells = re.findall(r'<td class="rank-ub">(.*?)</td>', html)
    assert len(rank_ub_cells) == 14 and all("not yet ranked" in c for c in rank_ub_cells)
    assert "new — not yet ranked" not in html  # nothing is "new" before the first ranking
    assert not re.search(r"#\d+ <span class=\"muted\">of", html)
    assert "Live Elo" in html and "<svg" not in html


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
        assert "Published snapshot #" in html and "Ranked by published rating" in html
        assert re.search(r"Published <time [^>]+>\d+ s ago</time>", html)
        assert html.count("<svg") >= 4  # the charts (counted by their own tests)
        headers = re.findall(r'<th scope="col"[^>]*>(.*?)</th>', html, flags=re.S)
        labels = [re.sub(r"<[^>]+>|[▲▼]", "", h).split()[0:2] for h in headers]
        assert [" ".join(words) for words in labels] == [
            "Rank (UB)",
            "Model",
            "Score ±",
            "Votes",
            "Win rate",
            "Licence",
            "Price /",
            "Rank",
            "Live Elo",
            "W /",
            "Tie rate",
        ]
        assert 'aria-describedby="note-rank-ub"' in html and 'id="note-rank-ub"' in html
        assert "format=csv" in html


def test_leaderboard_sorting_works_as_page_and_htmx_fragment(board_client, voting_app):
    _publish(voting_app)
    page = board_client.get("/leaderboard?sort=battles").get_data(as_text=True)
    assert page.count("aria-sort=") == 1 and 'aria-sort="descending"' in page  # most first
    assert 'href="/leaderboard?sort=battles&amp;dir=reverse"' in page
    reverse = board_client.get("/leaderboard?sort=battles&dir=reverse").get_data(as_text=True)
    assert 'aria-sort="ascending"' in reverse
    by_rank = board_client.get("/leaderboard?sort=bogus").get_data(as_text=True)
    rank_header = (
        r'<th scope="col" class="[^"]*col-rank" aria-sort="ascending"[^>]*>\s*'
        r'<a href="/leaderboard\?sort=rank&amp;'
    )
    assert re.search(rank_header + "dir=reverse", by_rank)  # unknown sort: by rank
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
    assert set(body["rows"][0]) == set(COLUMNS) and 0 <= body["rows"][0]["tie_rate"] <= 1
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
    assert header[15:] == [
        "rank_ub",
        "provisional",
        "tie_rate",
        "license",
        "open_weights",
        "price_usd",
    ]
    schnell = next(r for r in body["rows"] if r["model_id"] == "flux-1-schnell")
    assert (schnell["license"], schnell["open_weights"]) == ("Apache-2.0", True)
    assert schnell["price_usd"] == 0.003
    gpt = next(r for r in body["rows"] if r["model_id"] == "gpt-image-1")
    assert (gpt["license"], gpt["open_weights"], gpt["price_usd"]) == ("Proprietary", False, None)
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
